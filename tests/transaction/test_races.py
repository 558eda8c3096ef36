"""Races over real sockets against the real server, each repeated many times.

Every test sets up fresh rows, lets two to four clients send their requests
at the same moment (a barrier releases them together), and then holds two
things against each other: what the clients were told, and what the database
stored, read through a connection of the test's own. A race that the service
handles by luck passes once; repeated REPETITIONS times, an unguarded window
shows up as a violation.

The server is a pserve of development.ini with eight waitress threads, so the
requests really run side by side inside the database, not one after another
in the server's queue.

``pytest -s`` prints one line per race: the runs, the statuses seen, the
retries the server logged, and the violations (which fail the test). The
harness is tests/support/races.py, shared with the Galera races.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from company_service.models import IdempotencyKey
from company_service.testing import (
    ROOT,
    LiveServer,
    bearer,
    committed,
    live_server,
    store_token,
)
from tests.support.races import (
    PATCHED_CENTS,
    RAISED_CENTS,
    Call,
    Racers,
    Tally,
    add_department,
    add_employee,
    add_staffed_department,
    cycles,
    department_exists,
    employees,
    errors_name,
    new_employee,
    patch_manager,
    race,
    raised,
    stored,
    stored_by_email,
)

REPETITIONS = 25
SERVER_THREADS = "8"


@pytest.fixture(scope="module")
def race_server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Path]]:
    """A server of this module's own, with more threads than the shared one:
    with four, a four-client race could queue in waitress instead of racing."""
    workdir = tmp_path_factory.mktemp("races")
    with live_server(
        ROOT / "development.ini",
        database_url,
        workdir,
        server_options={"threads": SERVER_THREADS},
    ) as running:
        (log,) = workdir.glob("server-*.log")
        yield running, log


@pytest.fixture
def env(race_server: tuple[LiveServer, Path], clean_database: Engine) -> Racers:
    server, log = race_server
    with committed(clean_database) as connection:
        token = store_token(connection, "editor")
    name = clean_database.dialect.name
    return Racers(name, [server], [log], [clean_database], bearer(token), REPETITIONS)


# --- management cycles --------------------------------------------------------


def check_cycle_race(
    tally: Tally, run: int, edges: Sequence[tuple[int, int]], accepted: int
) -> None:
    """Race one PATCH per edge (employee -> new manager) on employees that
    have no manager yet, where all the edges together close a cycle and any
    ``accepted`` of them do not.

    Serialized, the first ``accepted`` edges are stored and the last is
    refused as a cycle (422 naming manager_id). Stored: exactly the edges
    that were answered 200, and no cycle through the changed employees.
    """
    answers = race(tally.env, [patch_manager(e, m) for e, m in edges])
    statuses = tally.record(answers)
    if sorted(statuses) != [200] * accepted + [422] * (len(edges) - accepted):
        tally.violation(
            run, f"statuses {statuses}, want {accepted} x 200 and the rest 422"
        )
    for answer in answers:
        if answer.status == 422 and not errors_name(answer, "manager_id"):
            tally.violation(run, f"422 not about manager_id: {answer.body[:300]!r}")
    managers = {row.id: row.manager_id for row in stored(tally.env).values()}
    if looping := cycles(managers, [employee for employee, _ in edges]):
        tally.violation(run, f"stored management cycle through {looping}")
    for (employee_id, manager_id), answer in zip(edges, answers, strict=True):
        want = manager_id if answer.status == 200 else None
        if managers.get(employee_id) != want:
            tally.violation(
                run,
                f"employee {employee_id} answered {answer.status} but stored "
                f"manager {managers.get(employee_id)}, want {want}",
            )


def test_two_way_cycle(env: Racers) -> None:
    """A -> B and B -> A at once: each request alone is fine, together they
    are a cycle. Each must see the other's edge (or wait for it), not a
    snapshot from before it."""
    tally = Tally("two_way_cycle", env)
    for run in range(REPETITIONS):
        a = add_employee(env, f"a{run}@two-way.example")
        b = add_employee(env, f"b{run}@two-way.example")
        check_cycle_race(tally, run, [(a, b), (b, a)], accepted=1)
    tally.verdict()


def test_three_way_cycle(env: Racers) -> None:
    """A -> B, B -> C and C -> A from three clients: any two are a chain,
    all three a cycle, so exactly one must be refused."""
    tally = Tally("three_way_cycle", env)
    for run in range(REPETITIONS):
        a, b, c = (add_employee(env, f"{n}{run}@three-way.example") for n in "abc")
        check_cycle_race(tally, run, [(a, b), (b, c), (c, a)], accepted=2)
    tally.verdict()


def test_cycle_closed_on_disjoint_rows(env: Racers) -> None:
    """X -> Y and U -> V, where Y already reaches U and V already reaches X.

    The two PATCHes write different rows, so row locks on the written rows
    alone do not order them; each request's walk up the chain must read the
    row the other is changing. On odd runs Y reaches U through a middle
    manager M, so the walk takes more than one step.
    """
    tally = Tally("disjoint_cycle", env)
    for run in range(REPETITIONS):
        email = f"{{}}{run}@disjoint.example"
        x = add_employee(env, email.format("x"))
        u = add_employee(env, email.format("u"))
        above_y = u
        if run % 2:
            above_y = add_employee(env, email.format("m"), manager_id=u)
        y = add_employee(env, email.format("y"), manager_id=above_y)
        v = add_employee(env, email.format("v"), manager_id=x)
        check_cycle_race(tally, run, [(x, y), (u, v)], accepted=1)
    tally.verdict()


# --- deleting what a new row refers to ----------------------------------------


def test_delete_manager_vs_new_report(env: Racers) -> None:
    """DELETE M while a new employee with manager_id=M is POSTed.

    Either the delete wins (204; the POST is 409 or 422, nothing refers to
    M, M is gone) or the POST wins (201; the DELETE is 409, M is stored
    with the new report). Both succeeding would leave a report whose
    manager is gone; neither happens if the delete locks M and the insert's
    foreign key check waits for it.
    """
    tally = Tally("delete_manager_vs_report", env)
    for run in range(REPETITIONS):
        manager = add_employee(env, f"m{run}@delete-manager.example")
        email = f"report{run}@delete-manager.example"
        delete, post = race(
            env,
            [
                Call("DELETE", f"/api/v1/employees/{manager}"),
                Call(
                    "POST", "/api/v1/employees", new_employee(email, manager_id=manager)
                ),
            ],
        )
        tally.record([delete, post])
        rows = stored(env)
        reports = [row.id for row in rows.values() if row.manager_id == manager]
        new_rows = stored_by_email(env, email)
        if delete.status == 204 and post.status in (409, 422):
            if manager in rows or reports or new_rows:
                tally.violation(
                    run,
                    f"delete won but manager stored={manager in rows}, "
                    f"reports {reports}, new rows {len(new_rows)}",
                )
        elif post.status == 201 and delete.status == 409:
            if manager not in rows or reports != [post.json["id"]]:
                tally.violation(
                    run,
                    f"report won but manager stored={manager in rows}, "
                    f"reports {reports}, want [{post.json['id']}]",
                )
        else:
            tally.violation(
                run,
                f"DELETE {delete.status}, POST {post.status}; stored: manager "
                f"{manager in rows}, reports {reports}",
            )
    tally.verdict()


def test_delete_department_vs_new_member(env: Racers) -> None:
    """DELETE D while a new employee with department_id=D is POSTed: the
    same two legal outcomes as for a manager, with the department's row."""
    tally = Tally("delete_department_vs_member", env)
    for run in range(REPETITIONS):
        department = add_department(env, f"Doomed {run}")
        email = f"member{run}@delete-department.example"
        delete, post = race(
            env,
            [
                Call("DELETE", f"/api/v1/departments/{department}"),
                Call(
                    "POST",
                    "/api/v1/employees",
                    new_employee(email, department_id=department),
                ),
            ],
        )
        tally.record([delete, post])
        exists = department_exists(env, department)
        members = list(stored(env, employees.c.department_id == department))
        new_rows = stored_by_email(env, email)
        if delete.status == 204 and post.status in (409, 422):
            if exists or members or new_rows:
                tally.violation(
                    run,
                    f"delete won but department stored={exists}, "
                    f"members {members}, new rows {len(new_rows)}",
                )
        elif post.status == 201 and delete.status == 409:
            if not exists or members != [post.json["id"]]:
                tally.violation(
                    run,
                    f"member won but department stored={exists}, "
                    f"members {members}, want [{post.json['id']}]",
                )
        else:
            tally.violation(
                run,
                f"DELETE {delete.status}, POST {post.status}; stored: department "
                f"{exists}, members {members}",
            )
    tally.verdict()


# --- one email, many creators -------------------------------------------------


def test_concurrent_creates_of_one_email(env: Racers) -> None:
    """Four clients create an employee with one email, spelled in four cases:
    the unique index on the lower-cased email admits exactly one, and the
    others are told 409 naming the email, never 500."""
    tally = Tally("same_email", env)
    for run in range(REPETITIONS):
        spellings = [
            f"Same{run}@X.example",
            f"same{run}@x.example",
            f"SAME{run}@x.EXAMPLE",
            f"same{run}@X.Example",
        ]
        answers = race(
            env,
            [Call("POST", "/api/v1/employees", new_employee(e)) for e in spellings],
        )
        statuses = tally.record(answers)
        if sorted(statuses) != [201, 409, 409, 409]:
            tally.violation(run, f"statuses {statuses}, want one 201 and three 409")
        for answer in answers:
            if answer.status == 409 and not errors_name(answer, "email"):
                tally.violation(run, f"409 not about email: {answer.body[:300]!r}")
        rows = stored_by_email(env, spellings[0])
        winners = [a.json["id"] for a in answers if a.status == 201]
        if [row.id for row in rows] != winners:
            tally.violation(
                run, f"stored ids {[row.id for row in rows]}, answered 201 {winners}"
            )
    tally.verdict()


def test_concurrent_bulk_creates_sharing_an_email(env: Racers) -> None:
    """Three bulk creates whose batches share one email (in different case):
    one batch is stored whole, the others are 409 and leave nothing at all,
    not even their emails that collided with nobody."""
    tally = Tally("bulk_same_email", env)
    clients = 3
    for run in range(REPETITIONS):
        shared = [f"Shared{run}@bulk.example", f"shared{run}@BULK.example"]
        batches = [
            [
                f"own{run}-{k}-0@bulk.example",
                shared[k % len(shared)],
                f"own{run}-{k}-1@bulk.example",
            ]
            for k in range(clients)
        ]
        answers = race(
            env,
            [
                Call(
                    "POST",
                    "/api/v1/employees/bulk",
                    {"items": [new_employee(email) for email in batch]},
                )
                for batch in batches
            ],
        )
        statuses = tally.record(answers)
        if sorted(statuses) != [200] + [409] * (clients - 1):
            tally.violation(run, f"statuses {statuses}, want one 200, the rest 409")
        for batch, answer in zip(batches, answers, strict=True):
            found = {
                row.email: row.id for e in batch for row in stored_by_email(env, e)
            }
            if answer.status == 200:
                answered = {item["email"]: item["id"] for item in answer.json["items"]}
                if found != answered or len(found) != len(batch):
                    tally.violation(run, f"winner stored {found}, answered {answered}")
            else:
                own = {e: i for e, i in found.items() if e.startswith("own")}
                if own:
                    tally.violation(run, f"a {answer.status} batch stored {own}")
        if len(stored_by_email(env, shared[0])) != 1:
            tally.violation(run, "the shared email is not stored exactly once")
    tally.verdict()


# --- raises -------------------------------------------------------------------


def test_raise_vs_raise(env: Racers) -> None:
    """Two raises of one department at once: both apply, to every active
    employee, in one order for all (each raise is one statement, so an
    employee raised only once, or two employees raised in different orders,
    is a lost or torn update). An inactive member is left alone."""
    tally = Tally("raise_vs_raise", env)
    percents = (10, 5)
    for run in range(REPETITIONS):
        department, active = add_staffed_department(
            env, f"Raised {run}", RAISED_CENTS, f"r{run}-{{}}@raise.example"
        )
        inactive = add_employee(
            env,
            f"idle{run}@raise.example",
            department_id=department,
            cents=14,
            active=False,
        )
        answers = race(
            env,
            [
                Call(
                    "POST",
                    f"/api/v1/departments/{department}/raise",
                    {"percent": str(p)},
                )
                for p in percents
            ],
        )
        statuses = tally.record(answers)
        bodies = [a.json if a.status == 200 else None for a in answers]
        if statuses != [200, 200]:
            tally.violation(run, f"statuses {statuses}, bodies {bodies}")
        rows = stored(env, employees.c.department_id == department)
        orders = [percents, percents[::-1]]
        fitting = [
            (first, second)
            for first, second in orders
            if all(
                rows[e].salary_cents == raised(raised(c, first), second)
                for e, c in active.items()
            )
        ]
        if not fitting:
            got = {e: (c, rows[e].salary_cents) for e, c in active.items()}
            tally.violation(run, f"(start, stored) cents {got} fit no single order")
            continue
        # A raise that leaves a salary as it is (9 cents + 5 % rounds back to
        # 9) neither counts it nor bumps its version.
        first, second = fitting[0]
        steps = {e: (c, raised(c, first)) for e, c in active.items()}
        changed_by = {
            first: sum(after != c for c, after in steps.values()),
            second: sum(raised(after, second) != after for _, after in steps.values()),
        }
        want_bodies = [{"updated": changed_by[p]} for p in percents]
        if len(fitting) == 1 and bodies != want_bodies:
            tally.violation(run, f"bodies {bodies}, want {want_bodies}")
        want_versions = {
            e: 1 + (after != c) + (raised(after, second) != after)
            for e, (c, after) in steps.items()
        }
        versions = {e: rows[e].version for e in active}
        if versions != want_versions:
            tally.violation(run, f"versions {versions}, want {want_versions}")
        idle = rows[inactive]
        if (idle.salary_cents, idle.version) != (14, 1):
            tally.violation(run, f"inactive employee changed: {idle}")
    tally.verdict()


def test_raise_vs_salary_patch(env: Racers) -> None:
    """A 10% raise of a department while one member's salary is PATCHed to
    1000.00. Serialized, the member ends at 1000.00 (raise, then PATCH) or
    1100.00 (PATCH, then raise), at version 3 either way, and the PATCH's
    answer tells which: version 2 if it came first. Everyone else is raised
    exactly once."""
    tally = Tally("raise_vs_patch", env)
    for run in range(REPETITIONS):
        department, members = add_staffed_department(
            env, f"Patched {run}", PATCHED_CENTS, f"p{run}-{{}}@patch.example"
        )
        target = next(iter(members))
        raise_answer, patch_answer = race(
            env,
            [
                Call(
                    "POST",
                    f"/api/v1/departments/{department}/raise",
                    {"percent": "10"},
                ),
                Call("PATCH", f"/api/v1/employees/{target}", {"salary": "1000.00"}),
            ],
        )
        statuses = tally.record([raise_answer, patch_answer])
        if statuses != [200, 200]:
            tally.violation(run, f"statuses {statuses}, want both 200")
            continue
        if raise_answer.json != {"updated": len(members)}:
            tally.violation(run, f"raise answered {raise_answer.json}")
        rows = stored(env, employees.c.department_id == department)
        got = rows[target]
        patch_version = patch_answer.json["version"]
        # The PATCH's own answer says whether the raise had come before it.
        want_cents = {3: 1000_00, 2: 1100_00}.get(patch_version)
        if (got.salary_cents, got.version) != (want_cents, 3):
            tally.violation(
                run,
                f"patched employee stored {got.salary_cents} cents at version "
                f"{got.version}; PATCH answered version {patch_version}",
            )
        for employee_id, cents in members.items():
            row = rows[employee_id]
            if employee_id != target and (row.salary_cents, row.version) != (
                raised(cents, 10),
                2,
            ):
                tally.violation(
                    run,
                    f"employee {employee_id}: {cents} -> {row.salary_cents} "
                    f"at version {row.version}, want one raise",
                )
    tally.verdict()


# --- idempotent repeats -------------------------------------------------------


def test_concurrent_repeats_with_one_idempotency_key(env: Racers) -> None:
    """Four clients send one POST with one Idempotency-Key at once: one
    creates, the others wait for it and get its stored answer, so all four
    see 201 with the same employee, and one row (and one key) is stored."""
    tally = Tally("idempotent_repeats", env)
    clients = 4
    for run in range(REPETITIONS):
        key = f"race-{run}"
        email = f"once{run}@idempotent.example"
        call = Call(
            "POST",
            "/api/v1/employees",
            new_employee(email),
            headers={"Idempotency-Key": key},
        )
        answers = race(env, [call] * clients)
        statuses = tally.record(answers)
        if statuses != [201] * clients:
            tally.violation(run, f"statuses {statuses}, want 201 for every client")
            continue
        bodies = [answer.json for answer in answers]
        if any(body != bodies[0] for body in bodies):
            ids = [body.get("id") for body in bodies]
            tally.violation(run, f"different answers, ids {ids}")
        rows = stored_by_email(env, email)
        with env.engine.connect() as connection:
            keys = connection.scalar(
                select(func.count()).where(IdempotencyKey.key == key)
            )
        if [row.id for row in rows] != [bodies[0]["id"]] or keys != 1:
            tally.violation(
                run,
                f"stored ids {[row.id for row in rows]}, answered "
                f"{bodies[0]['id']}, stored keys {keys}",
            )
    tally.verdict()
