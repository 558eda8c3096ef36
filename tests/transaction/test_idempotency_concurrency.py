"""Eight clients send one request with one key at the same moment: one row."""

import threading
from concurrent.futures import ThreadPoolExecutor

from company_service.models import Department, IdempotencyKey
from company_service.testing import bearer, committed, count_rows, store_token

CLIENTS = 8


def test_concurrent_identical_requests_create_one_thing(server, clean_database):
    with committed(clean_database) as connection:
        token = store_token(connection, "editor")
    headers = {**bearer(token), "Idempotency-Key": "concurrent-1"}
    start = threading.Barrier(CLIENTS)

    def send(_: int):
        start.wait(timeout=10)
        return server.request(
            "POST", "/api/v1/departments", {"name": "Exactly once"}, headers=headers
        )

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(send, range(CLIENTS)))

    assert [a.status for a in answers] == [201] * CLIENTS
    assert len({a.body for a in answers}) == 1, "every client got the same answer"
    replayed = [a.headers.get("Idempotent-Replayed") for a in answers]
    assert replayed.count("true") == CLIENTS - 1
    assert count_rows(clean_database, Department) == 1


def test_a_failed_request_leaves_the_key_free(real_app, committed_editor_token, engine):
    """Refused (422), conflicting (409) or crashing (500): the key is not kept."""
    headers = {**bearer(committed_editor_token), "Idempotency-Key": "k-fail"}
    real_app.post_json(
        "/api/v1/departments", {"name": "Taken"}, headers=bearer(committed_editor_token)
    )
    real_app.post_json("/api/v1/departments", {"name": ""}, headers=headers, status=422)
    real_app.post_json(
        "/api/v1/departments", {"name": "TAKEN"}, headers=headers, status=409
    )
    real_app.post_json(
        "/api/v1/_probe/write-then-raise", {"name": "Boom"}, headers=headers, status=500
    )
    assert count_rows(engine, IdempotencyKey) == 0
    answer = real_app.post_json(
        "/api/v1/departments", {"name": "Fixed"}, headers=headers
    )
    assert answer.status_int == 201
    assert count_rows(engine, IdempotencyKey) == 1
