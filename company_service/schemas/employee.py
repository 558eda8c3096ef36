"""Employee bodies: what a client may send, and what it gets back."""

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .types import (
    Email,
    Flag,
    Id,
    IsoDate,
    Line,
    Money,
    MoneyText,
    Name,
    Timestamp,
    cents_text,
    utc_timestamp,
)

# The contract's read-only fields; employee_count is a department's, but a
# client echoing one representation into another should not be refused.
READ_ONLY = ("id", "created_at", "updated_at", "version", "employee_count")


def today() -> date:
    return datetime.now(UTC).date()


class EmployeeIn(BaseModel):
    """POST and PUT, and PATCH after merging (see services)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: Name
    last_name: Name
    email: Email
    title: Line | None = None
    hire_date: IsoDate = Field(default_factory=today)
    salary: Money
    department_id: Id | None = None
    manager_id: Id | None = None
    active: Flag = True


class EmployeeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str
    last_name: str
    email: str
    title: str | None
    hire_date: date
    salary: MoneyText
    department_id: int | None
    manager_id: int | None
    active: bool
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class ReportOut(EmployeeOut):
    depth: int


def employee_json(employee: Any) -> dict[str, Any]:
    """``EmployeeOut`` as JSON, from an ``Employee`` or a row of its columns.

    Written out by hand because it runs for every employee a response holds:
    pydantic's validate-then-dump cost four times as much per row. The tests
    check that its output is exactly what ``EmployeeOut`` would produce.
    """
    return {
        "id": employee.id,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "email": employee.email,
        "title": employee.title,
        "hire_date": employee.hire_date.isoformat(),
        "salary": cents_text(employee.salary_cents),
        "department_id": employee.department_id,
        "manager_id": employee.manager_id,
        "active": employee.active,
        "created_at": utc_timestamp(employee.created_at),
        "updated_at": utc_timestamp(employee.updated_at),
        "version": employee.version,
    }


def report_json(employee: object, depth: int) -> dict:
    return {**employee_json(employee), "depth": depth}
