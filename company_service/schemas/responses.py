"""Response envelopes: what the views return, and the OpenAPI document shows.

The renderer encodes them (renderers.py); the fuzzing in CI checks every
response against the document made from them.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Index(BaseModel):
    """Where to start: the service's documents and its health checks."""

    service: str
    version: str
    docs: str = Field(description="the API's documentation page (HTML)")
    openapi: str = Field(description="the OpenAPI 3.1 document")
    healthz: str = Field(description="liveness: the process answers")
    readyz: str = Field(description="readiness: the database answers")


class ApiInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str
    version: str


class OpenApiDocument(BaseModel):
    """This API, as an OpenAPI 3.1 document."""

    # What clients read first; the full schema is the specification's
    # (externalDocs), on another host, and openapi-spec-validator checks the
    # rest in the tests.
    model_config = ConfigDict(
        extra="allow",
        title="OpenAPI document",
        json_schema_extra={
            "externalDocs": {
                "description": "OpenAPI Specification 3.1",
                "url": "https://spec.openapis.org/oas/v3.1.0",
            }
        },
    )

    openapi: str = Field(pattern=r"^3\.1\.[0-9]+$")
    info: ApiInfo
    paths: dict[str, Any]
    components: dict[str, Any] = {}


class ReplicaState(BaseModel):
    name: str
    state: Literal["streaming", "lagging", "down"]
    lag_seconds: float | None


class Ready(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    # Only with db.replica_url: each standby's state (docs/scaling.md).
    replicas: list[ReplicaState] = []
