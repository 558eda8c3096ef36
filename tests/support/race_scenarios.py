"""Every race, written once, for every topology the harness runs it on.

A scenario is one run: it sets up fresh rows, releases its clients together
(spread over the nodes, where there are several), records what they were
told and checks what the database stored afterwards. ``play`` repeats it.
Where a topology may legitimately do otherwise (a request that gives up
with 503 once its retries ran out), the checks ask the topology
(``Racers.gives_up``, ``Racers.crowd``), never a second copy of the race.
"""

from collections.abc import Sequence

from sqlalchemy import Column, Table

from company_service.models import IdempotencyKey
from tests.support.races import (
    Call,
    Scenario,
    Tally,
    add_department,
    add_employee,
    add_staffed_department,
    after_raises,
    count_stored,
    cycles,
    departments,
    employees,
    errors_name,
    new_employee,
    race,
    raised,
    stored,
    stored_by_email,
)

EMPLOYEES = "/api/v1/employees"
# 9, 14 and 24 cents round differently in the two orders of +10% and +5%,
# so the stored salaries tell which raise came first.
RAISED_CENTS = [9, 14, 24, 12_345_67, 99_999_99]
# Odd cents on purpose, so that 1 % raises exercise the half-up rounding.
COMPOUNDED_CENTS = [1_234_57, 99_999_99, 1, 50, 50_000_05]
# The first member's salary is the one the raise-vs-PATCH race sets.
PATCHED_CENTS = [50_000_00, 12_345_67, 9, 14, 24]


# --- management cycles: each check must see (and write) the other's rows -----


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
    env = tally.env
    answers = race(
        env, [Call("PATCH", f"{EMPLOYEES}/{e}", {"manager_id": m}) for e, m in edges]
    )
    statuses = tally.record(answers)
    tally.expect(run, statuses, 200, accepted, lose={422})
    for answer in answers:
        if answer.status == 422 and not errors_name(answer, "manager_id"):
            tally.violation(run, f"422 not about manager_id: {answer.body[:300]!r}")
    managers = {row.id: row.manager_id for row in stored(env, node=run).values()}
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


def two_way_cycle(tally: Tally, run: int) -> None:
    """A -> B and B -> A at once: each request alone is fine, together they
    are a cycle. Each must see the other's edge (or wait for it), not a
    snapshot from before it."""
    a, b = (add_employee(tally.env.engine, f"{n}{run}@two-way.example") for n in "ab")
    check_cycle_race(tally, run, [(a, b), (b, a)], accepted=1)


def three_way_cycle(tally: Tally, run: int) -> None:
    """A -> B, B -> C and C -> A from three clients: any two are a chain,
    all three a cycle, so exactly one must be refused."""
    engine = tally.env.engine
    a, b, c = (add_employee(engine, f"{n}{run}@three-way.example") for n in "abc")
    check_cycle_race(tally, run, [(a, b), (b, c), (c, a)], accepted=2)


def disjoint_cycle(tally: Tally, run: int) -> None:
    """X -> Y and U -> V, where Y already reaches U and V already reaches X.

    The two PATCHes write different rows, so row locks on the written rows
    alone do not order them, and Galera alone would certify them as
    independent. Each request's walk up the chain must read the row the
    other is changing, and writes each row it walks (so that on Galera both
    write X and U, and one fails certification). On odd runs Y reaches U
    through a middle manager M, so the walk takes more than one step.
    """
    engine = tally.env.engine
    email = f"{{}}{run}@disjoint.example"
    x = add_employee(engine, email.format("x"))
    u = add_employee(engine, email.format("u"))
    above_y = u
    if run % 2:
        above_y = add_employee(engine, email.format("m"), manager_id=u)
    y = add_employee(engine, email.format("y"), manager_id=above_y)
    v = add_employee(engine, email.format("v"), manager_id=x)
    check_cycle_race(tally, run, [(x, y), (u, v)], accepted=1)


# --- deleting what a new row refers to ----------------------------------------


def check_delete_race(
    tally: Tally, run: int, table: Table, parent: int, reference: Column[int]
) -> None:
    """DELETE a row of ``table`` while a new employee whose ``reference``
    names it is POSTed.

    Either the delete wins (204; the POST is 409 or 422; the row is gone
    and nothing refers to it) or the POST wins (201; the DELETE is 409; the
    row is stored with the new employee as its only referrer); a request
    that gave up stored nothing. Both succeeding would leave an employee
    whose parent is gone: the delete locks the row and the insert's foreign
    key check waits for it (on Galera the parent is in the insert's write
    set, so the two conflict at certification).
    """
    env = tally.env
    email = f"new{run}@{table.name}.delete.example"
    delete, post = answers = race(
        env,
        [
            Call("DELETE", f"/api/v1/{table.name}/{parent}"),
            Call("POST", EMPLOYEES, new_employee(email, **{reference.name: parent})),
        ],
    )
    tally.record(answers)
    exists = count_stored(env, table, table.c.id == parent, node=run) == 1
    referrers = list(stored(env, reference == parent, node=run + 1))
    new_rows = [row.id for row in stored_by_email(env, email, node=run + 2)]
    gave_up = env.gives_up
    if delete.status == 204 and post.status in {409, 422, *gave_up}:
        ok = not exists and not referrers and not new_rows
    elif post.status == 201 and delete.status in {409, *gave_up}:
        ok = exists and referrers == new_rows == [post.json["id"]]
    elif delete.status in gave_up and post.status in gave_up:
        ok = exists and not referrers and not new_rows
    else:
        ok = False
    if not ok:
        tally.violation(
            run,
            f"DELETE {delete.status}, POST {post.status}; stored: {table.name} "
            f"row {exists}, referrers {referrers}, new rows {new_rows}",
        )


def delete_manager_vs_new_report(tally: Tally, run: int) -> None:
    manager = add_employee(tally.env.engine, f"m{run}@delete-manager.example")
    check_delete_race(tally, run, employees, manager, employees.c.manager_id)


def delete_department_vs_new_member(tally: Tally, run: int) -> None:
    department = add_department(tally.env.engine, f"Doomed {run}")
    check_delete_race(tally, run, departments, department, employees.c.department_id)


# --- one email, many creators: the unique index (Galera certifies it) ---------


def one_email(tally: Tally, run: int) -> None:
    """Four clients create an employee with one email, spelled in four cases:
    the unique index on the lower-cased email admits exactly one, and the
    others are told 409 naming the email, never 500."""
    env = tally.env
    spellings = [
        f"Same{run}@X.example",
        f"same{run}@x.example",
        f"SAME{run}@x.EXAMPLE",
        f"same{run}@X.Example",
    ]
    answers = race(env, [Call("POST", EMPLOYEES, new_employee(e)) for e in spellings])
    statuses = tally.record(answers)
    tally.expect(run, statuses, 201, 1, lose={409})
    for answer in answers:
        if answer.status == 409 and not errors_name(answer, "email"):
            tally.violation(run, f"409 not about email: {answer.body[:300]!r}")
    ids = [row.id for row in stored_by_email(env, spellings[0], node=run)]
    winners = [a.json["id"] for a in answers if a.status == 201]
    if ids != winners:
        tally.violation(run, f"stored ids {ids}, answered 201 {winners}")


def bulk_sharing_an_email(tally: Tally, run: int) -> None:
    """Three bulk creates whose batches share one email (in different case):
    one batch is stored whole, the others are 409 and leave nothing at all,
    not even their emails that collided with nobody."""
    env = tally.env
    shared = [f"Shared{run}@bulk.example", f"shared{run}@BULK.example"]
    batches = [
        [f"own{run}-{k}-0@bulk.example", shared[k % 2], f"own{run}-{k}-1@bulk.example"]
        for k in range(3)
    ]
    answers = race(
        env,
        [
            Call("POST", f"{EMPLOYEES}/bulk", {"items": [new_employee(e) for e in b]})
            for b in batches
        ],
    )
    statuses = tally.record(answers)
    tally.expect(run, statuses, 200, 1, lose={409})
    for batch, answer in zip(batches, answers, strict=True):
        found = {r.email: r.id for e in batch for r in stored_by_email(env, e, run)}
        if answer.status == 200:
            answered = {item["email"]: item["id"] for item in answer.json["items"]}
            if found != answered or len(found) != len(batch):
                tally.violation(run, f"winner stored {found}, answered {answered}")
        elif own := {e: i for e, i in found.items() if e.startswith("own")}:
            tally.violation(run, f"a {answer.status} batch stored {own}")
    if len(stored_by_email(env, shared[0])) != statuses.count(200):
        tally.violation(run, "the shared email is stored as often as a batch won")


# --- raises -------------------------------------------------------------------


def changed_per_raise(salaries: Sequence[int], order: Sequence[int]) -> list[int]:
    """How many of ``salaries`` each raise in ``order`` changed."""
    counts = []
    for percent in order:
        counts.append(sum(raised(c, percent) != c for c in salaries))
        salaries = [raised(c, percent) for c in salaries]
    return counts


def check_raises(
    tally: Tally, run: int, percents: Sequence[int], salaries: Sequence[int]
) -> None:
    """Raise one department by each of ``percents`` at once. Each raise is
    one statement over the department's active staff, so every raise that
    applied (200) reached every active member once, all in one order (an
    employee raised only once, or two raised in different orders, is a lost
    or torn update); it bumped the version of each salary it changed, and
    answered how many it changed. An inactive member is left alone.

    The percents are two, or all alike, so an order of the applied raises
    and its reverse are every order there is to try.
    """
    env = tally.env
    tag = f"{len(percents)}x{percents[0]}-{run}"
    department, active = add_staffed_department(
        env.engine, f"Raised {tag}", salaries, f"r{{}}-{tag}@raise.example"
    )
    inactive = add_employee(
        env.engine,
        f"idle-{tag}@raise.example",
        department_id=department,
        cents=14,
        active=False,
    )
    path = f"/api/v1/departments/{department}/raise"
    answers = race(env, [Call("POST", path, {"percent": str(p)}) for p in percents])
    statuses = tally.record(answers)
    tally.expect(run, statuses, 200, len(percents))
    applied = [p for p, s in zip(percents, statuses, strict=True) if s == 200]
    counted = sorted(
        (p, a.json["updated"])
        for p, a in zip(percents, answers, strict=True)
        if a.status == 200
    )
    rows = stored(env, employees.c.department_id == department, node=run)
    got = {e: (rows[e].salary_cents, rows[e].version) for e in active}

    def explains(order: Sequence[int]) -> bool:
        after = {e: after_raises(c, order) for e, c in active.items()}
        told = zip(order, changed_per_raise(list(active.values()), order), strict=True)
        return (
            got == {e: (c, 1 + n) for e, (c, n) in after.items()}
            and sorted(told) == counted
        )

    if not any(explains(order) for order in {tuple(applied), tuple(applied[::-1])}):
        tally.violation(
            run,
            f"applied {applied}, answered {counted}: started at {active}, "
            f"stored (cents, version) {got}",
        )
    idle = rows[inactive]
    if (idle.salary_cents, idle.version) != (14, 1):
        tally.violation(run, f"inactive member changed: {idle}")


def raise_vs_raise(tally: Tally, run: int) -> None:
    """+10 % and +5 % of one department at once: the stored salaries tell
    the order (on Galera the raises write the same rows, so one fails
    certification and is retried)."""
    check_raises(tally, run, (10, 5), RAISED_CENTS)


def raises_compound(tally: Tally, run: int) -> None:
    """The crowd raise one department by 1 % at once: the raises serialise
    on the row locks and each applies to the salaries the previous one
    left. Compounding shows a lost raise: ten 1 % raises are not nine."""
    check_raises(tally, run, (1,) * tally.env.crowd, COMPOUNDED_CENTS)


def raise_vs_salary_patch(tally: Tally, run: int) -> None:
    """A 10 % raise of a department while one member's salary is PATCHed to
    1000.00: both write the member's row. Serialized, the member ends at
    1000.00 (raise, then PATCH) or 1100.00 (PATCH, then raise), at version
    3 either way, and the PATCH's answered version tells which (2: it came
    first). Everyone else is raised exactly once; a request that gave up
    changed nothing."""
    env = tally.env
    department, members = add_staffed_department(
        env.engine, f"Patched {run}", PATCHED_CENTS, f"p{run}-{{}}@patch.example"
    )
    target = next(iter(members))
    raise_answer, patch_answer = answers = race(
        env,
        [
            Call("POST", f"/api/v1/departments/{department}/raise", {"percent": "10"}),
            Call("PATCH", f"{EMPLOYEES}/{target}", {"salary": "1000.00"}),
        ],
    )
    statuses = tally.record(answers)
    tally.expect(run, statuses, 200, 2)
    raised_ok, patched_ok = (s == 200 for s in statuses)
    if raised_ok and raise_answer.json != {"updated": len(members)}:
        tally.violation(run, f"raise answered {raise_answer.json}")
    patch_version = patch_answer.json["version"] if patched_ok else 0
    want_target = {
        (True, True): {3: (1000_00, 3), 2: (1100_00, 3)}.get(patch_version),
        (True, False): (raised(PATCHED_CENTS[0], 10), 2),
        (False, True): (1000_00, 2) if patch_version == 2 else None,
        (False, False): (PATCHED_CENTS[0], 1),
    }[raised_ok, patched_ok]
    rows = stored(env, employees.c.department_id == department, node=run)
    for employee_id, cents in members.items():
        row = rows[employee_id]
        want = (raised(cents, 10), 2) if raised_ok else (cents, 1)
        if employee_id == target:
            want = want_target
        if (row.salary_cents, row.version) != want:
            tally.violation(
                run,
                f"raise {statuses[0]}, PATCH {statuses[1]} (version "
                f"{patch_version}): employee {employee_id} went {cents} -> "
                f"{row.salary_cents} cents at version {row.version}, want {want}",
            )


# --- one row, many writers ----------------------------------------------------


def blind_patches(tally: Tally, run: int) -> None:
    """The crowd PATCH one employee's title at once, without If-Match: each
    applies to whatever version is current, so each must succeed (the
    writes lock the row before reading it and queue; on Galera the losers
    of certification are retried). Each 200 is one version on top of the
    one before, none lost, and the stored title is the last answer's."""
    env = tally.env
    target = add_employee(env.engine, f"c{run}@contended.example")
    path = f"{EMPLOYEES}/{target}"
    answers = race(
        env, [Call("PATCH", path, {"title": f"t{n}"}) for n in range(env.crowd)]
    )
    statuses = tally.record(answers)
    tally.expect(run, statuses, 200, env.crowd)
    row = stored(env, employees.c.id == target, node=run)[target]
    ok = [a.json for a in answers if a.status == 200]
    versions = sorted(body["version"] for body in ok)
    if versions != list(range(2, 2 + len(ok))) or row.version != 1 + len(ok):
        tally.violation(run, f"answered versions {versions}, stored {row.version}")
    last = [body["title"] for body in ok if body["version"] == row.version]
    if last != [row.title]:
        tally.violation(run, f"stored title {row.title}, last answered {last}")


def if_match_patches(tally: Tally, run: int) -> None:
    """The crowd read one employee's version, then all PATCH its salary at
    once with If-Match on it: exactly one wins (200, version 2), the others
    are told 412 and change nothing, so no update is lost to another begun
    from the same version. The stored salary is the winner's."""
    env = tally.env
    target = add_employee(env.engine, f"v{run}@if-match.example", cents=0)
    path = f"{EMPLOYEES}/{target}"
    read = env.servers[run % len(env.servers)].request("GET", path, headers=env.headers)
    if read.status != 200:
        tally.violation(run, f"GET {read.status}: {read.body[:300]!r}")
        return
    if_match = {"If-Match": read.headers["ETag"]}
    salaries = range(1, env.crowd + 1)  # whole units, one per client
    answers = race(
        env, [Call("PATCH", path, {"salary": f"{s}.00"}, if_match) for s in salaries]
    )
    statuses = tally.record(answers)
    tally.expect(run, statuses, 200, 1, lose={412})
    won = [
        (s, a.json) for s, a in zip(salaries, answers, strict=True) if a.status == 200
    ]
    if any((body["salary"], body["version"]) != (f"{s}.00", 2) for s, body in won):
        tally.violation(run, f"sent and answered {won}")
    want = (won[0][0] * 100, 2) if won else (0, 1)
    row = stored(env, employees.c.id == target, node=run)[target]
    if (row.salary_cents, row.version) != want:
        tally.violation(
            run,
            f"stored {row.salary_cents} cents at version {row.version}, want {want}",
        )


def idempotent_repeats(tally: Tally, run: int) -> None:
    """The crowd send one POST with one Idempotency-Key at once: one
    creates, the others wait for it (or lose certification and are
    retried) and are given its stored answer, marked Idempotent-Replayed:
    every client sees 201 with the same body, and one row and one key are
    stored."""
    env = tally.env
    key = f"race-{run}"
    email = f"once{run}@idempotent.example"
    call = Call("POST", EMPLOYEES, new_employee(email), {"Idempotency-Key": key})
    answers = race(env, [call] * env.crowd)
    statuses = tally.record(answers)
    tally.expect(run, statuses, 201, env.crowd)
    created = [answer for answer in answers if answer.status == 201]
    if not created:
        tally.violation(run, f"statuses {statuses}, none created")
        return
    if len({answer.body for answer in created}) != 1:
        tally.violation(
            run, f"different answers, ids {[a.json['id'] for a in created]}"
        )
    replayed = [answer.headers.get("Idempotent-Replayed") for answer in created]
    if replayed.count("true") != len(created) - 1:
        tally.violation(run, f"Idempotent-Replayed {replayed}")
    ids = [row.id for row in stored_by_email(env, email, node=run)]
    keys = count_stored(
        env, IdempotencyKey.__table__, IdempotencyKey.key == key, node=run + 1
    )
    if ids != [created[0].json["id"]] or keys != 1:
        tally.violation(
            run,
            f"stored ids {ids}, answered {created[0].json['id']}, stored keys {keys}",
        )


SCENARIOS: list[Scenario] = [
    two_way_cycle,
    three_way_cycle,
    disjoint_cycle,
    delete_manager_vs_new_report,
    delete_department_vs_new_member,
    one_email,
    bulk_sharing_an_email,
    raise_vs_raise,
    raises_compound,
    raise_vs_salary_patch,
    blind_patches,
    if_match_patches,
    idempotent_repeats,
]
