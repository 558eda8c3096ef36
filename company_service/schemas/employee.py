"""Employee bodies: what a client may send, and what it gets back."""

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field

from .types import (
    Cents,
    Email,
    Flag,
    Id,
    InputModel,
    IsoDate,
    Line,
    Money,
    Name,
    Timestamp,
)


def today() -> date:
    return datetime.now(UTC).date()


class EmployeeIn(InputModel):
    """POST and PUT, and PATCH after merging (see services)."""

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
    """The representation, from an ``Employee`` or a row of its columns."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str
    last_name: str
    email: str
    title: str | None
    hire_date: date
    salary: Cents = Field(validation_alias="salary_cents")
    department_id: int | None
    manager_id: int | None
    active: bool
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class ReportOut(EmployeeOut):
    """A report with its distance below the employee asked about."""

    depth: int
