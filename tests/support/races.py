"""The race harness: clients released at once, then the stored state checked.

A race sends each ``Call`` from a thread of its own, all released by one
barrier, to the server its ``node`` names (by default the call's position,
so the clients are spread over the nodes); a ``Tally`` collects what every
run was told and every violation found in what the database stored, read
through a connection of the test's own, and fails the test with all of them
at the end, so a failing race says how often, and in which ways, it went
wrong. The scenarios themselves are in :mod:`tests.support.race_scenarios`.
"""

import threading
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, Table, func, select

from company_service.models import Department, Employee, email_key
from company_service.testing import Answer, LiveServer
from tests.support.factories import DepartmentFactory, EmployeeFactory, committed_rows

BARRIER_SECONDS = 30

employees = Employee.__table__
departments = Department.__table__


@dataclass(frozen=True, kw_only=True)
class Racers:
    """Where a race runs (a topology): the servers, one per node, and their
    logs; an engine per node to read the stored state back; an editor's
    token; and what the topology may legitimately do differently.

    A node number wraps around the servers and engines, so a scenario that
    spreads its clients over three nodes sends them all to the one server
    of a single-server topology.
    """

    name: str  # in the printed lines: the database, or "galera"
    servers: Sequence[LiveServer]
    logs: Sequence[Path]
    engines: Sequence[Engine]
    headers: dict[str, str]
    repetitions: int
    # The clients of the races that crowd one row or department.
    crowd: int
    # Statuses a request may end in once its retries ran out (503 on Galera,
    # where certification failures are the normal way to lose); on one
    # server there are none: the service must absorb its own contention.
    gives_up: frozenset[int] = frozenset()

    @property
    def engine(self) -> Engine:
        return self.engines[0]

    def reader(self, node: int) -> Engine:
        return self.engines[node % len(self.engines)]

    def retries(self) -> int:
        """Replays the servers logged so far (views/errors.py warns first)."""
        return sum(
            log.read_text(errors="replace").count(", retrying") for log in self.logs
        )


@dataclass(frozen=True)
class Call:
    """One client's request in a race, sent to the server on ``node`` (by
    default the call's position in the race)."""

    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    node: int | None = None


def race(env: Racers, calls: Sequence[Call]) -> list[Answer]:
    """Send every call from a thread of its own, all released at once;
    the answers in the calls' order."""
    start = threading.Barrier(len(calls))

    def send(position: int, call: Call) -> Answer:
        node = position if call.node is None else call.node
        start.wait(timeout=BARRIER_SECONDS)
        return env.servers[node % len(env.servers)].request(
            call.method, call.path, call.body, {**env.headers, **call.headers}
        )

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, range(len(calls)), calls))


def server_error(answer: Answer, gives_up: Collection[int]) -> bool:
    """Whether an answer is a failure no client may be given: any 5xx but a
    status in ``gives_up`` that says when to come back (Retry-After)."""
    if answer.status < 500:
        return False
    return answer.status not in gives_up or not answer.headers.get("Retry-After")


@dataclass
class Tally:
    """What one race saw over its runs; ``verdict`` prints and asserts.

    Any 5xx is a violation wherever it appears, except a 503 with
    Retry-After on a topology that may give up (``Racers.gives_up``).
    """

    race: str
    env: Racers
    runs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    retries_before: int = 0

    def __post_init__(self) -> None:
        self.retries_before = self.env.retries()

    def record(self, answers: Sequence[Answer]) -> list[int]:
        self.runs += 1
        statuses = [answer.status for answer in answers]
        self.statuses.update(statuses)
        for answer in answers:
            if server_error(answer, self.env.gives_up):
                self.violation(self.runs - 1, f"{answer.status}: {answer.body[:300]!r}")
        return statuses

    def expect(
        self,
        run: int,
        statuses: Sequence[int],
        win: int,
        wins: int,
        lose: Collection[int] = (),
    ) -> None:
        """``wins`` answers are ``win`` and the rest ``lose``; where a
        request gave up (``Racers.gives_up``), at most ``wins`` won."""
        allowed = {win, *lose, *self.env.gives_up}
        gave_up = any(s in self.env.gives_up for s in statuses)
        won = statuses.count(win)
        if any(s not in allowed for s in statuses) or not (
            won <= wins if gave_up else won == wins
        ):
            self.violation(
                run, f"statuses {statuses}, want {wins} x {win}, the rest {lose}"
            )

    def violation(self, run: int, message: str) -> None:
        self.violations.append(f"run {run}: {message}")

    def verdict(self) -> None:
        retries = self.env.retries() - self.retries_before
        print(
            f"\nrace {self.race} on {self.env.name}: {self.runs} runs, "
            f"statuses {dict(sorted(self.statuses.items()))}, "
            f"retries {retries}, violations {len(self.violations)}"
        )
        assert self.runs == self.env.repetitions
        assert self.violations == [], (
            f"{len(self.violations)} violations in {self.runs} runs of "
            f"{self.race}:\n" + "\n".join(self.violations[:20])
        )


Scenario = Callable[[Tally, int], None]


def play(env: Racers, scenario: Scenario) -> None:
    """Run one scenario (one run: rows set up, the race, the checks) the
    topology's number of times, and fail with every violation found."""
    tally = Tally(scenario.__name__, env)
    for run in range(env.repetitions):
        scenario(tally, run)
    tally.verdict()


# --- rows, written and read behind the servers' backs -------------------------


def add_department(engine: Engine, name: str) -> int:
    with committed_rows(engine):
        return DepartmentFactory(name=name).id


def add_employee(
    engine: Engine,
    email: str,
    *,
    manager_id: int | None = None,
    department_id: int | None = None,
    cents: int = 100_000_00,
    active: bool = True,
) -> int:
    with committed_rows(engine):
        return EmployeeFactory(
            first_name="Race",
            last_name="Runner",
            email=email,
            salary_cents=cents,
            department_id=department_id,
            manager_id=manager_id,
            active=active,
        ).id


def add_staffed_department(
    engine: Engine, name: str, salaries: Sequence[int], email: str
) -> tuple[int, dict[int, int]]:
    """A department with one active member per salary (in cents), whose
    emails are ``email`` formatted with 0, 1, ...: its id, and each member's
    id with its salary, in the order given."""
    department = add_department(engine, name)
    ids = [
        add_employee(engine, email.format(i), department_id=department, cents=cents)
        for i, cents in enumerate(salaries)
    ]
    return department, dict(zip(ids, salaries, strict=True))


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
    with env.reader(node).connect() as connection:
        rows = connection.execute(select(employees).where(*where)).all()
    return {row.id: row for row in rows}


def stored_by_email(env: Racers, email: str, node: int = 0) -> list[Row[Any]]:
    return list(stored(env, employees.c.email == email_key(email), node=node).values())


def count_stored(env: Racers, table: Table, *where: Any, node: int = 0) -> int:
    with env.reader(node).connect() as connection:
        found: int = connection.scalar(
            select(func.count()).select_from(table).where(*where)
        )
    return found


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


def after_raises(cents: int, order: Sequence[int]) -> tuple[int, int]:
    """The salary after the raises in ``order``, and how many changed it (a
    raise that leaves a salary as it is, 9 cents + 5 %, bumps no version)."""
    changes = 0
    for percent in order:
        changes += raised(cents, percent) != cents
        cents = raised(cents, percent)
    return cents, changes
