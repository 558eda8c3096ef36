"""A raise that would overflow one salary changes no salary (real commits)."""

from sqlalchemy import select

from company_service.models import Employee
from company_service.testing import bearer
from tests.support.races import add_staffed_department


def test_a_raise_that_overflows_one_salary_changes_no_salary(
    real_app, committed_editor_token, clean_database
):
    # The middle salary, doubled, passes 10^10.
    department_id, _ = add_staffed_department(
        clean_database,
        "Overflow",
        [100_00, 9_000_000_000_00, 5],
        "o{}@overflow.example",
    )

    def salaries() -> list[tuple[int, int]]:
        with clean_database.connect() as connection:
            rows = connection.execute(
                select(Employee.salary_cents, Employee.version).order_by(Employee.id)
            )
            return [tuple(row) for row in rows]

    before = salaries()
    answer = real_app.post_json(
        f"/api/v1/departments/{department_id}/raise",
        {"percent": "100"},
        headers=bearer(committed_editor_token),
        status=422,
    )
    assert answer.json["errors"][0]["loc"] == ["body", "percent"]
    assert salaries() == before
    real_app.post_json(
        f"/api/v1/departments/{department_id}/raise",
        {"percent": "10"},
        headers=bearer(committed_editor_token),
    )
    assert salaries() == [(110_00, 2), (9_900_000_000_00, 2), (6, 2)]
