"""Two server processes, one database, sixteen clients: nothing lost.

Both processes run production.ini. For a bounded time the clients mix
compare-and-swap salary increments (read, then PATCH with If-Match), raises
on one department, creations whose emails collide, and bulk creates followed
by deletes, and blind title changes (no If-Match) that race the increments.
Afterwards every promise is checked against the database.
"""

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from company_service.models import Employee
from company_service.testing import ROOT, bearer, committed, live_server, store_token
from tests.support.races import add_employee, add_staffed_department, server_error

CLIENTS = 16
SECONDS = 8
COUNTERS = 4
COLLIDING_EMAILS = 5
RAISE_PERCENT = "1.5"
RAISED_START_CENTS = [100_00, 12_345_67, 1_00]


@dataclass
class Ledger:
    """What the clients were told, to hold against the database afterwards."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    increments: Counter = field(default_factory=Counter)
    raises: int = 0
    created: dict[int, str] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    bad: list[str] = field(default_factory=list)

    def answered(self, answer) -> None:
        with self.lock:
            self.statuses[answer.status] += 1
            if server_error(answer, gives_up={503}):
                self.bad.append(f"{answer.status}: {answer.body[:200]!r}")


def seed(engine) -> dict:
    with committed(engine) as connection:
        token = store_token(connection, "editor")
    raised, _ = add_staffed_department(
        engine, "Raised", RAISED_START_CENTS, "raised{}@load.example"
    )
    counters = [
        add_employee(engine, f"counter{i}@load.example", cents=0)
        for i in range(COUNTERS)
    ]
    return {"token": token, "raised": raised, "counters": counters}


def client(number: int, servers, world: dict, ledger: Ledger, stop_at: float) -> None:
    rng = random.Random(number)  # noqa: S311 (reproducible choices, not secrets)
    headers = bearer(world["token"])
    sequence = 0
    while time.monotonic() < stop_at:
        server = rng.choice(servers)
        action = rng.choice(
            ["increment", "increment", "retitle", "raise", "collide", "bulk"]
        )
        if action == "increment":
            employee_id = rng.choice(world["counters"])
            current = server.request(
                "GET", f"/api/v1/employees/{employee_id}", headers=headers
            )
            ledger.answered(current)
            if current.status != 200:
                continue
            answer = server.request(
                "PATCH",
                f"/api/v1/employees/{employee_id}",
                {"salary": int(Decimal(current.json["salary"])) + 1},
                headers={**headers, "If-Match": current.headers["ETag"]},
            )
            ledger.answered(answer)
            if answer.status == 200:
                with ledger.lock:
                    ledger.increments[employee_id] += 1
        elif action == "retitle":
            # No If-Match: applies to whatever version is current, so a race
            # with an increment is a stale version, which is retried. Only
            # changed columns are written: the salary is left alone.
            answer = server.request(
                "PATCH",
                f"/api/v1/employees/{rng.choice(world['counters'])}",
                {"title": f"title {number}-{rng.randrange(1000)}"},
                headers=headers,
            )
            ledger.answered(answer)
        elif action == "raise":
            answer = server.request(
                "POST",
                f"/api/v1/departments/{world['raised']}/raise",
                {"percent": RAISE_PERCENT},
                headers=headers,
            )
            ledger.answered(answer)
            if answer.status == 200:
                with ledger.lock:
                    ledger.raises += 1
        elif action == "collide":
            email = f"collide{rng.randrange(COLLIDING_EMAILS)}@load.example"
            body = {
                "items": [
                    {"first_name": "C", "last_name": "C", "email": email, "salary": 1}
                ]
            }
            answer = server.request(
                "POST", "/api/v1/employees/bulk", body, headers=headers
            )
            ledger.answered(answer)
            if answer.status == 200:
                with ledger.lock:
                    ledger.created[answer.json["items"][0]["id"]] = email
        else:
            sequence += 1
            emails = [f"bulk{number}-{sequence}-{i}@load.example" for i in range(3)]
            items = [
                {"first_name": "B", "last_name": "B", "email": e, "salary": 2}
                for e in emails
            ]
            body = {"items": items}
            answer = server.request(
                "POST", "/api/v1/employees/bulk", body, headers=headers
            )
            ledger.answered(answer)
            if answer.status != 200:
                continue
            ids = [item["id"] for item in answer.json["items"]]
            with ledger.lock:
                ledger.created.update(zip(ids, emails, strict=True))
            gone = server.request(
                "DELETE", f"/api/v1/employees/{ids[0]}", headers=headers
            )
            ledger.answered(gone)
            if gone.status == 204:
                with ledger.lock:
                    ledger.deleted.add(ids[0])


def raised_cents(start: int, times: int) -> int:
    cents = Decimal(start)
    for _ in range(times):
        cents = (cents * (1 + Decimal(RAISE_PERCENT) / 100)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    return int(cents)


@pytest.mark.load
def test_two_processes_under_load_lose_nothing(database_url, clean_database, tmp_path):
    if clean_database.dialect.name == "sqlite":
        pytest.skip("several server processes on one database: PostgreSQL and MariaDB")
    world = seed(clean_database)
    ledger = Ledger()
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                live_server(ROOT / "production.ini", database_url, tmp_path)
            )
            for _ in range(2)
        ]
        stop_at = time.monotonic() + SECONDS
        with ThreadPoolExecutor(CLIENTS) as pool:
            for future in [
                pool.submit(client, n, servers, world, ledger, stop_at)
                for n in range(CLIENTS)
            ]:
                future.result()
    logs = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    retries = logs.count("retrying")
    requests = sum(ledger.statuses.values())
    print(
        f"\nload: {requests} requests, statuses {dict(ledger.statuses)}, "
        f"{retries} retries, {ledger.raises} raises, "
        f"{sum(ledger.increments.values())} increments, {len(ledger.created)} created"
    )

    assert ledger.bad == [], "no 5xx but 503 with Retry-After"
    assert requests > 200
    with clean_database.connect() as connection:
        salaries = dict(
            connection.execute(
                select(Employee.id, Employee.salary_cents).where(
                    Employee.id.in_(world["counters"])
                )
            ).all()
        )
        for employee_id in world["counters"]:  # every +1.00 applied, none lost
            assert salaries[employee_id] == 100 * ledger.increments[employee_id]
        raised = connection.scalars(
            select(Employee.salary_cents)
            .where(Employee.department_id == world["raised"])
            .order_by(Employee.id)
        ).all()
        assert raised == [raised_cents(c, ledger.raises) for c in RAISED_START_CENTS]
        duplicates = connection.execute(
            select(Employee.email).group_by(Employee.email).having(func.count() > 1)
        ).all()
        assert duplicates == []
        stored = dict(
            connection.execute(
                select(Employee.id, Employee.email).where(
                    Employee.id.in_(list(ledger.created))
                )
            ).all()
        )
    kept = {i: e for i, e in ledger.created.items() if i not in ledger.deleted}
    assert stored == kept, "every 2xx is in the database, every 204 is gone"
