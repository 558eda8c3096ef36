"""Employee bodies: what a client may send, and what it gets back."""

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field

from .types import Email, Flag, Id, IsoDate, Line, Money, MoneyText, Name, Timestamp

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


def employee_json(employee: object) -> dict:
    return EmployeeOut.model_validate(employee).model_dump(mode="json")


def report_json(employee: object, depth: int) -> dict:
    return {**employee_json(employee), "depth": depth}
