"""A failed request leaves its Idempotency-Key free, on the real commit path.

That concurrent repeats with one key create one thing is a race scenario
(``idempotent_repeats``), played on one server per database and on Galera.
"""

from company_service.models import IdempotencyKey
from company_service.testing import bearer, count_rows


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
