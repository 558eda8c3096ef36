"""Department bodies: what a client may send, and what it gets back."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from .types import NO_NUL, InputModel, Name, Timestamp


class DepartmentIn(InputModel):
    """POST and PUT, and PATCH after merging (see services)."""

    name: Name
    description: (
        Annotated[str, Strict(), Field(max_length=2000, pattern=NO_NUL)] | None
    ) = None


class DepartmentOut(BaseModel):
    """The representation, from a row of a department's columns and its
    ``employee_count``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    employee_count: int
    created_at: Timestamp
    updated_at: Timestamp
    version: int
