"""Response envelopes: what the views return, and the OpenAPI document shows.

The renderer encodes them (renderers.py); the fuzzing in CI checks every
response against the document made from them.
"""

from typing import Literal

from pydantic import BaseModel, Field

from .department import DepartmentOut
from .employee import EmployeeOut, ReportOut
from .operations import DepartmentStats


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with the request id and field errors."""

    type: str
    title: str
    status: int
    detail: str | None
    request_id: str
    errors: list[FieldError] | None = None


class DepartmentPage(BaseModel):
    items: list[DepartmentOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="with count=true")


class EmployeePage(BaseModel):
    items: list[EmployeeOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="with count=true")


class EmployeeList(BaseModel):
    items: list[EmployeeOut]


class ReportList(BaseModel):
    items: list[ReportOut] | list[EmployeeOut]


class StatsList(BaseModel):
    items: list[DepartmentStats]


class Health(BaseModel):
    status: Literal["ok"]


class ReplicaState(BaseModel):
    name: str
    state: Literal["streaming", "lagging", "down"]
    lag_seconds: float | None


class Ready(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    # Only with db.replica_url: each standby's state (docs/scaling.md).
    replicas: list[ReplicaState] = []
