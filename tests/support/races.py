"""The race harness: clients released at once, then the stored state checked.

Shared by tests/transaction/test_races.py (one server on one database) and
tests/cluster/test_galera.py (one server per Galera node). A race sends each
``Call`` from a thread of its own, all released by one barrier, to the server
its ``node`` names; a ``Tally`` collects what every run was told and every
violation found in what the database stored, read through a connection of
the test's own, and fails the test with all of them at the end, so a failing
race says how often, and in which ways, it went wrong.
"""

import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, func, insert, select

from company_service.models import Department, Employee, name_key, search_key
from company_service.testing import Answer, LiveServer, committed

BARRIER_SECONDS = 10

employees = Employee.__table__
departments = Department.__table__


@dataclass(frozen=True)
class Racers:
    """Where a race runs: the servers (one per node) and their logs, an
    engine per node to read the stored state back, and an editor's token."""

    name: str  # in the printed lines: the database, or "galera"
    servers: Sequence[LiveServer]
    logs: Sequence[Path]
    engines: Sequence[Engine]
    headers: dict[str, str]
    repetitions: int

    @property
    def engine(self) -> Engine:
        return self.engines[0]

    def retries(self) -> int:
        """Replays the servers logged so far (views/errors.py warns first)."""
        return sum(
            log.read_text(errors="replace").count(", retrying") for log in self.logs
        )


@dataclass(frozen=True)
class Call:
    """One client's request in a race, sent to the server on ``node``."""

    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    node: int = 0


def race(env: Racers, calls: Sequence[Call]) -> list[Answer]:
    """Send every call from a thread of its own, all released at once;
    the answers in the calls' order."""
    start = threading.Barrier(len(calls))

    def send(call: Call) -> Answer:
        start.wait(timeout=BARRIER_SECONDS)
        return env.servers[call.node].request(
            call.method, call.path, call.body, {**env.headers, **call.headers}
        )

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


@dataclass
class Tally:
    """What one race saw over its runs; ``verdict`` prints and asserts.

    A 5xx other than 503 is a violation wherever it appears: no race may
    end in a server error, only in success, a 4xx, or (where the test
    allows it) a 503 once the retries ran out.
    """

    race: str
    env: Racers
    repetitions: int = 0  # 0: the env's
    runs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    retries_before: int = 0

    def __post_init__(self) -> None:
        self.repetitions = self.repetitions or self.env.repetitions
        self.retries_before = self.env.retries()

    def record(self, answers: Sequence[Answer]) -> list[int]:
        self.runs += 1
        statuses = [answer.status for answer in answers]
        self.statuses.update(statuses)
        for answer in answers:
            if answer.status >= 500 and answer.status != 503:
                self.violation(self.runs - 1, f"{answer.status}: {answer.body[:300]!r}")
        return statuses

    def violation(self, run: int, message: str) -> None:
        self.violations.append(f"run {run}: {message}")

    def verdict(self) -> None:
        retries = self.env.retries() - self.retries_before
        print(
            f"\nrace {self.race} on {self.env.name}: {self.runs} runs, "
            f"statuses {dict(sorted(self.statuses.items()))}, "
            f"retries {retries}, violations {len(self.violations)}"
        )
        assert self.runs == self.repetitions
        assert self.violations == [], (
            f"{len(self.violations)} violations in {self.runs} runs of "
            f"{self.race}:\n" + "\n".join(self.violations[:20])
        )


# --- rows, written and read behind the servers' backs -------------------------


def add_department(env: Racers, name: str) -> int:
    now = datetime.now(UTC)
    with committed(env.engine) as connection:
        return connection.execute(
            insert(departments).values(
                name=name,
                name_key=name_key(name),
                created_at=now,
                updated_at=now,
                version=1,
            )
        ).inserted_primary_key[0]


def add_employee(
    env: Racers,
    email: str,
    *,
    manager_id: int | None = None,
    department_id: int | None = None,
    cents: int = 100_000_00,
    active: bool = True,
) -> int:
    now = datetime.now(UTC)
    with committed(env.engine) as connection:
        return connection.execute(
            insert(employees).values(
                first_name="Race",
                last_name="Runner",
                email=email,
                search_key=search_key("Race", "Runner", email),
                hire_date=date(2020, 1, 1),
                salary_cents=cents,
                department_id=department_id,
                manager_id=manager_id,
                active=active,
                created_at=now,
                updated_at=now,
                version=1,
            )
        ).inserted_primary_key[0]


# 9, 14 and 24 cents round differently in the two orders of +10% and +5%,
# so the stored salaries tell which raise came first.
RAISED_CENTS = [9, 14, 24, 12_345_67, 99_999_99]
# The first member's salary is the one the raise-vs-PATCH races set.
PATCHED_CENTS = [50_000_00, 12_345_67, 9, 14, 24]


def add_staffed_department(
    env: Racers, name: str, salaries: Sequence[int], email: str
) -> tuple[int, dict[int, int]]:
    """A department with one active member per salary (in cents), whose
    emails are ``email`` formatted with 0, 1, ...: its id, and each member's
    id with its salary, in the order given."""
    department = add_department(env, name)
    members = {
        add_employee(env, email.format(i), department_id=department, cents=cents): cents
        for i, cents in enumerate(salaries)
    }
    return department, members


def new_employee(email: str, **references: int) -> dict[str, Any]:
    """The body of a POST /api/v1/employees."""
    return {
        "first_name": "New",
        "last_name": "Hire",
        "email": email,
        "salary": "1000.00",
        **references,
    }


def stored(env: Racers, *where: Any, node: int = 0) -> dict[int, Row[Any]]:
    """Employees as the database holds them now, read through ``node``, by id."""
    with env.engines[node].connect() as connection:
        rows = connection.execute(select(employees).where(*where)).all()
    return {row.id: row for row in rows}


def stored_by_email(env: Racers, email: str, node: int = 0) -> list[Row[Any]]:
    return list(stored(env, employees.c.email == email.lower(), node=node).values())


def department_exists(env: Racers, department_id: int, node: int = 0) -> bool:
    with env.engines[node].connect() as connection:
        found = connection.scalar(
            select(func.count()).where(departments.c.id == department_id)
        )
    return found == 1


def cycles(managers: dict[int, int | None], starts: Sequence[int]) -> list[int]:
    """Those of ``starts`` whose management chain, followed through every
    stored employee, never reaches the top (a NULL manager)."""
    looping = []
    for start in starts:
        current: int | None = start
        for _ in range(len(managers) + 1):
            if current is None:
                break
            current = managers.get(current)
        else:
            looping.append(start)
    return looping


def errors_name(answer: Answer, field_name: str) -> bool:
    """Whether a problem answer's errors[].loc name the field."""
    try:
        locs = [error["loc"] for error in answer.json.get("errors", [])]
    except ValueError:
        return False
    return any(field_name in loc for loc in locs)


def raised(cents: int, percent: int) -> int:
    """The contract's raise in whole cents, rounded half-up."""
    return (cents * (10**6 + percent * 10**4) + 5 * 10**5) // 10**6


def patch_manager(employee_id: int, manager_id: int, node: int = 0) -> Call:
    return Call(
        "PATCH",
        f"/api/v1/employees/{employee_id}",
        {"manager_id": manager_id},
        node=node,
    )
