"""Department bodies: what a client may send, and what it gets back."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from .types import NO_NUL, Name, Timestamp

READ_ONLY = ("id", "employee_count", "created_at", "updated_at", "version")


class DepartmentIn(BaseModel):
    """POST and PUT, and PATCH after merging (see services)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    description: (
        Annotated[str, Strict(), Field(max_length=2000, pattern=NO_NUL)] | None
    ) = None


class DepartmentOut(BaseModel):
    id: int
    name: str
    description: str | None
    employee_count: int
    created_at: Timestamp
    updated_at: Timestamp
    version: int


def department_json(department: object, employee_count: int) -> dict:
    return DepartmentOut.model_validate(
        {
            "id": department.id,
            "name": department.name,
            "description": department.description,
            "employee_count": employee_count,
            "created_at": department.created_at,
            "updated_at": department.updated_at,
            "version": department.version,
        }
    ).model_dump(mode="json")
