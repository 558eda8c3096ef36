"""Clients racing on one row over real sockets: no update is ever lost."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from company_service.testing import bearer, committed, store_token

THREADS = 8
INCREMENTS_PER_THREAD = 5
DEADLINE_SECONDS = 60


def test_concurrent_patches_with_if_match_never_lose_an_update(server, clean_database):
    """Each client reads, then writes salary + 1 with If-Match; 412 means re-read.

    If the database let two writers both win from the same version, the final
    salary would fall short of the number of 200 answers.
    """
    with committed(clean_database) as connection:
        token = store_token(connection, "editor")
    headers = bearer(token)
    created = server.request(
        "POST",
        "/api/v1/employees",
        {
            "first_name": "Race",
            "last_name": "Car",
            "email": "race@example.com",
            "salary": 0,
        },
        headers=headers,
    )
    assert created.status == 201
    path = f"/api/v1/employees/{created.json['id']}"
    statuses: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + DEADLINE_SECONDS

    def client() -> int:
        applied = 0
        while applied < INCREMENTS_PER_THREAD and time.monotonic() < stop_at:
            current = server.request("GET", path, headers=headers)
            salary = int(float(current.json["salary"]))
            answer = server.request(
                "PATCH",
                path,
                {"salary": salary + 1},
                headers={**headers, "If-Match": current.headers["ETag"]},
            )
            with lock:
                statuses.append(answer.status)
            if answer.status == 200:
                applied += 1
        return applied

    with ThreadPoolExecutor(THREADS) as pool:
        applied = sum(pool.map(lambda _: client(), range(THREADS)))

    print(f"statuses: {statuses.count(200)} x 200, {statuses.count(412)} x 412")
    final = server.request("GET", path, headers=headers).json
    assert applied == THREADS * INCREMENTS_PER_THREAD, "ran out of time"
    assert statuses.count(200) == applied
    assert set(statuses) <= {200, 412}, f"unexpected statuses: {set(statuses)}"
    assert final["salary"] == f"{applied}.00"
    assert final["version"] == 1 + applied
