"""GET /api/v1/stats/departments: exact figures, in one aggregate query."""

from decimal import Decimal

from sqlalchemy import event

from company_service.testing import bearer
from tests.support.factories import DepartmentFactory, EmployeeFactory


def test_per_department_figures_over_active_staff(
    testapp, reader_token, dbsession, engine
):
    full, _empty, asleep = (
        DepartmentFactory(name=f"Stats {n}") for n in ("full", "empty", "asleep")
    )
    staff = [
        (full, "100.01", True),
        (full, "200.02", True),
        (full, "0.01", True),
        (full, "999.99", False),
        (asleep, "500.00", False),
    ]
    for department, salary, active in staff:
        EmployeeFactory(
            salary=Decimal(salary), department_id=department.id, active=active
        )
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = testapp.get("/api/v1/stats/departments", headers=bearer(reader_token))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    items = answer.json["items"]
    assert len([s for s in statements if "api_tokens" not in s]) == 1
    by_name = {item["name"]: item for item in items}
    assert by_name["Stats full"] == {
        "department_id": full.id, "name": "Stats full", "headcount": 4,
        "active_headcount": 3, "total_salary": "300.04", "avg_salary": "100.01",
        "min_salary": "0.01", "max_salary": "200.02",
    }  # fmt: skip
    for name, headcount in (("Stats empty", 0), ("Stats asleep", 1)):
        assert by_name[name]["headcount"] == headcount
        assert by_name[name]["active_headcount"] == 0
        assert by_name[name]["total_salary"] is None
        assert by_name[name]["avg_salary"] is None
        assert by_name[name]["min_salary"] is None
    assert [i["department_id"] for i in items] == sorted(
        i["department_id"] for i in items
    )
