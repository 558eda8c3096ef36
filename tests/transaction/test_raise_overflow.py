"""A raise that would overflow one salary changes no salary (real commits)."""

from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from company_service.models import Department, Employee
from company_service.testing import bearer

THEN = datetime(2020, 1, 1, tzinfo=UTC)


def test_a_raise_that_overflows_one_salary_changes_no_salary(
    real_app, committed_editor_token, clean_database
):
    with clean_database.begin() as connection:
        department_id = connection.execute(
            insert(Department).values(
                name="Overflow",
                name_key="overflow",
                created_at=THEN,
                updated_at=THEN,
                version=1,
            )
        ).inserted_primary_key[0]
        # The middle salary, doubled, passes 10^10.
        for i, cents in enumerate([100_00, 9_000_000_000_00, 5]):
            connection.execute(
                insert(Employee).values(
                    first_name="O",
                    last_name=str(i),
                    email=f"o{i}@overflow.example",
                    search_key="o",
                    hire_date=date(2020, 1, 1),
                    salary_cents=cents,
                    department_id=department_id,
                    active=True,
                    created_at=THEN,
                    updated_at=THEN,
                    version=1,
                )
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
