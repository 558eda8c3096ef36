"""employee_json is written by hand for speed; it must say what EmployeeOut says."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from company_service.models import Employee
from company_service.schemas.employee import EmployeeOut, employee_json
from company_service.services.employees import EMPLOYEE_COLUMNS

STORED = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def employee(**changes) -> Employee:
    values = {
        "id": 7, "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com", "title": None, "hire_date": date(2024, 2, 29),
        "salary_cents": 5, "department_id": None, "manager_id": 3,
        "active": False, "created_at": STORED, "updated_at": STORED, "version": 4,
    }  # fmt: skip
    return Employee(**{**values, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"salary_cents": 0},
        {"salary_cents": 100},
        {"salary_cents": 999_999_999_999},
        {"title": "Engineer", "department_id": 2, "active": True},
        {"created_at": datetime(2026, 1, 1, tzinfo=UTC)},  # no microseconds
        {"updated_at": STORED.astimezone(timezone(timedelta(hours=-5)))},
    ],
)
def test_employee_json_matches_the_pydantic_model(changes):
    item = employee(**changes)
    assert employee_json(item) == EmployeeOut.model_validate(item).model_dump(
        mode="json"
    )


def test_a_row_of_the_read_columns_gives_the_same_json(dbsession, testapp):
    """The read paths hand employee_json a row, the write paths an object."""
    stored = employee(id=None, email="row@example.com", search_key="x", manager_id=None)
    dbsession.add(stored)
    dbsession.flush()
    row = dbsession.execute(
        select(*EMPLOYEE_COLUMNS).where(Employee.id == stored.id)
    ).one()
    assert employee_json(row) == employee_json(stored)
    assert employee_json(row) == EmployeeOut.model_validate(stored).model_dump(
        mode="json"
    )
