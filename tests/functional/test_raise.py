"""POST /api/v1/departments/{id}/raise: one UPDATE, exact cents, all or none."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import event, select

from company_service.models import Employee
from company_service.testing import bearer
from tests.support.factories import DepartmentFactory, EmployeeFactory


@pytest.fixture
def team(dbsession) -> dict:
    """Department A: active and inactive staff; department B: one person."""
    a, b = DepartmentFactory(name="Raise A"), DepartmentFactory(name="Raise B")
    salaries = {
        "even": (a, "100000.00", True),
        "odd": (a, "10.01", True),
        "half": (a, "0.10", True),  # 0.10 * 1.05 = 0.105 -> 0.11
        "asleep": (a, "50000.00", False),
        "elsewhere": (b, "70000.00", True),
    }
    people = {
        name: EmployeeFactory(
            first_name=name,
            last_name="Raise",
            salary=Decimal(salary),
            department_id=department.id,
            active=active,
        )
        for name, (department, salary, active) in salaries.items()
    }
    return {"a": a.id, "b": b.id, **people}


def salaries(dbsession) -> dict[str, tuple[int, int]]:
    dbsession.expire_all()
    rows = dbsession.execute(
        select(Employee.first_name, Employee.salary_cents, Employee.version).where(
            Employee.last_name == "Raise"
        )
    )
    return {name: (cents, version) for name, cents, version in rows}


def expected(cents: int, percent: str) -> int:
    value = Decimal(cents) * (1 + Decimal(percent) / 100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("percent", ["5", "5.5", "-12.3456", "100", "-50", "0.0001"])
def test_exactly_the_active_staff_of_the_department_change_by_the_rounded_amount(
    testapp, editor_token, dbsession, team, percent
):
    before = salaries(dbsession)
    answer = testapp.post_json(
        f"/api/v1/departments/{team['a']}/raise",
        {"percent": percent},
        headers=bearer(editor_token),
    )
    after = salaries(dbsession)
    changed = 0
    for name in ("even", "odd", "half"):
        cents, version = before[name]
        new = expected(cents, percent)
        changed += new != cents
        # A salary the raise leaves as it is keeps its version.
        assert after[name] == (new, version + (new != cents))
    assert answer.json == {"updated": changed}
    assert changed == (1 if percent == "0.0001" else 3)  # 0.10 and 10.01 stay
    assert after["asleep"] == before["asleep"]
    assert after["elsewhere"] == before["elsewhere"]


def test_a_zero_raise_changes_nothing_and_bumps_no_version(
    testapp, editor_token, dbsession, team
):
    before = salaries(dbsession)
    for percent in ("0", 0, "0.0000", "0e5"):
        answer = testapp.post_json(
            f"/api/v1/departments/{team['a']}/raise",
            {"percent": percent},
            headers=bearer(editor_token),
        )
        assert answer.json == {"updated": 0}
    assert salaries(dbsession) == before


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("100.0001", "less than or equal to 100"),
        ("-50.5", "greater than or equal to -50"),
        ("1.23456", "no more than 4 decimal places"),
        ("١٢", "must be a number or a numeric string"),  # Arabic-Indic 12
        ("1,5", "must be a number or a numeric string"),
    ],
)
def test_a_bad_percent_is_named_with_what_is_wrong(
    testapp, editor_token, team, percent, message
):
    answer = testapp.post_json(
        f"/api/v1/departments/{team['a']}/raise",
        {"percent": percent},
        headers=bearer(editor_token),
        status=422,
    )
    [error] = answer.json["errors"]
    assert error["loc"] == ["body", "percent"]
    assert message in error["msg"]


def test_half_a_cent_rounds_up(testapp, editor_token, dbsession, team):
    testapp.post_json(
        f"/api/v1/departments/{team['a']}/raise",
        {"percent": 5},
        headers=bearer(editor_token),
    )
    assert salaries(dbsession)["half"][0] == 11


@pytest.mark.parametrize(
    "percent", ["-50.0001", "100.01", "abc", True, "1.23456", None]
)
def test_a_percent_out_of_bounds_is_422(testapp, editor_token, team, percent):
    answer = testapp.post_json(
        f"/api/v1/departments/{team['a']}/raise",
        {"percent": percent},
        headers=bearer(editor_token),
        status=422,
    )
    assert answer.json["errors"][0]["loc"] == ["body", "percent"]


def test_an_unknown_department_is_404(testapp, editor_token):
    testapp.post_json(
        "/api/v1/departments/999999/raise",
        {"percent": 1},
        headers=bearer(editor_token),
        status=404,
    )


def test_the_raise_is_one_update_statement(testapp, editor_token, engine, team):
    updates: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        testapp.post_json(
            f"/api/v1/departments/{team['a']}/raise",
            {"percent": 3},
            headers=bearer(editor_token),
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(updates) == 1
