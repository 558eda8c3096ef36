"""The OpenAPI 3.1 document, built from what the service runs on.

Schemas come from the pydantic models that validate and shape the bodies;
paths and methods come from the live route table and view registrations.
``OPERATIONS`` adds what code cannot say (summaries, statuses), keyed by
(route name, method): a view without an entry, or an entry without a view,
makes building the document fail, so it cannot drift from the routes.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry

from .schemas import department, employee, operations, responses
from .schemas.types import MAX_ID
from .services.departments import SORT_FIELDS as DEPARTMENT_SORTS
from .services.employees import SORT_FIELDS as EMPLOYEE_SORTS
from .views.config import route_views, view_methods

PROBLEM = "application/problem+json"
ONE_LINE = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
TRUE_FALSE = {"type": "string", "enum": ["true", "false"]}
ID_OR_NULL = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        {"type": "string", "enum": ["null"]},
    ]
}
READ_ONLY = {
    "id": "integer",
    "employee_count": "integer",
    "created_at": "string",
    "updated_at": "string",
    "version": "integer",
}


def sort_schema(fields: dict[str, Any]) -> dict[str, Any]:
    field = "-?(" + "|".join(fields) + ")"
    return {"type": "string", "pattern": f"^{field}(,{field})*$"}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


def header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": schema,
            "description": description}  # fmt: skip


ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
PAGING = [
    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size, 50"),
    query("cursor", {"type": "string", "minLength": 1}, "next_cursor of the last page"),
    query("count", TRUE_FALSE, "add the number of matching rows as total"),
]
FILTERS = [
    query("department_id", ID_OR_NULL, "an id, or null for none"),
    query("manager_id", ID_OR_NULL, "an id, or null for the top of the chart"),
    query("active", TRUE_FALSE, "only active (or inactive) employees"),
    query("hired_after", {"type": "string", "format": "date"}, "inclusive"),
    query("hired_before", {"type": "string", "format": "date"}, "inclusive"),
    query(
        "q",
        {"type": "string", "minLength": 1, "maxLength": 200, "pattern": ONE_LINE},
        "case-insensitive substring of first name, last name or email",
    ),
]
FILTERS_WITHIN_DEPARTMENT = [p for p in FILTERS if p["name"] != "department_id"]
EMPLOYEE_SORT = query("sort", sort_schema(EMPLOYEE_SORTS), "fields, - for descending")
DEPARTMENT_SORT = query(
    "sort", sort_schema(DEPARTMENT_SORTS), "fields, - for descending"
)
IF_MATCH = header("If-Match", {"type": "string"}, 'the ETag this change is for: "3"')
IF_NONE_MATCH = header(
    "If-None-Match", {"type": "string"}, "304 if this ETag is current"
)
IDEMPOTENCY_KEY = header(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "pattern": "^[^\\x00-\\x1f]*$",
    },
    "repeat a POST safely: the stored answer comes back, nothing runs twice",
)


@dataclass(frozen=True)
class Operation:
    summary: str
    status: int = 200
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    patch: bool = False  # the body is a JSON merge patch of ``body``
    parameters: tuple[dict[str, Any], ...] = ()
    problems: tuple[int, ...] = ()
    media_type: str = "application/json"
    etag: bool = False
    location: bool = False
    link: bool = False
    open: bool = False  # no token needed


READ = (401, 500, 503)
WRITE = (400, 401, 403, 413, 415, 422, 500, 503)
ITEM = (*WRITE, 404, 409, 412)

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("healthz", "GET"): Operation("Liveness", response=responses.Health, open=True),
    ("readyz", "GET"): Operation(
        "Readiness: the database answers", response=responses.Ready,
        problems=(503,), open=True,
    ),
    ("departments", "GET"): Operation(
        "List departments", response=responses.DepartmentPage,
        parameters=(*PAGING, DEPARTMENT_SORT), problems=(*READ, 422), link=True,
    ),
    ("departments", "POST"): Operation(
        "Create a department", status=201, response=department.DepartmentOut,
        body=department.DepartmentIn, problems=(*WRITE, 409), etag=True, location=True,
    ),
    ("department", "GET"): Operation(
        "Read a department", response=department.DepartmentOut,
        parameters=(IF_NONE_MATCH,), problems=(*READ, 404), etag=True,
    ),
    ("department", "PUT"): Operation(
        "Replace a department", response=department.DepartmentOut,
        body=department.DepartmentIn, parameters=(IF_MATCH,), problems=ITEM, etag=True,
    ),
    ("department", "PATCH"): Operation(
        "Change a department (JSON merge patch)", response=department.DepartmentOut,
        body=department.DepartmentIn, patch=True, parameters=(IF_MATCH,),
        problems=ITEM, etag=True,
    ),
    ("department", "DELETE"): Operation(
        "Delete a department without employees", status=204,
        parameters=(IF_MATCH,), problems=(401, 403, 404, 409, 412, 500, 503),
    ),
    ("department_employees", "GET"): Operation(
        "List a department's employees", response=responses.EmployeePage,
        parameters=(*PAGING, EMPLOYEE_SORT, *FILTERS_WITHIN_DEPARTMENT),
        problems=(*READ, 404, 422), link=True,
    ),
    ("department_raise", "POST"): Operation(
        "Raise every active employee's salary, all or none",
        response=operations.RaiseOut, body=operations.RaiseIn,
        problems=(*WRITE, 404, 409),
    ),
    ("employees", "GET"): Operation(
        "List employees", response=responses.EmployeePage,
        parameters=(*PAGING, EMPLOYEE_SORT, *FILTERS), problems=(*READ, 422), link=True,
    ),
    ("employees", "POST"): Operation(
        "Create an employee", status=201, response=employee.EmployeeOut,
        body=employee.EmployeeIn, problems=(*WRITE, 409), etag=True, location=True,
    ),
    ("employees_bulk", "POST"): Operation(
        "Create 1-1000 employees, all or none", status=201,
        response=responses.EmployeeList, body=operations.BulkIn, problems=(*WRITE, 409),
    ),
    ("employees_csv", "GET"): Operation(
        "Every matching employee as CSV, streamed",
        parameters=(EMPLOYEE_SORT, *FILTERS),
        problems=(*READ, 422), media_type="text/csv",
    ),
    ("employee", "GET"): Operation(
        "Read an employee", response=employee.EmployeeOut,
        parameters=(IF_NONE_MATCH,), problems=(*READ, 404), etag=True,
    ),
    ("employee", "PUT"): Operation(
        "Replace an employee", response=employee.EmployeeOut, body=employee.EmployeeIn,
        parameters=(IF_MATCH,), problems=ITEM, etag=True,
    ),
    ("employee", "PATCH"): Operation(
        "Change an employee (JSON merge patch)", response=employee.EmployeeOut,
        body=employee.EmployeeIn, patch=True, parameters=(IF_MATCH,),
        problems=ITEM, etag=True,
    ),
    ("employee", "DELETE"): Operation(
        "Delete an employee who manages nobody", status=204,
        parameters=(IF_MATCH,), problems=(401, 403, 404, 409, 412, 500, 503),
    ),
    ("employee_reports", "GET"): Operation(
        "Direct reports; with recursive=true every report and its depth",
        response=responses.ReportList,
        parameters=(query("recursive", TRUE_FALSE, "every report, not only direct"),),
        problems=(*READ, 404, 422),
    ),
    ("employee_chain", "GET"): Operation(
        "The managers above, direct manager first", response=responses.EmployeeList,
        problems=(*READ, 404, 422),
    ),
    ("department_stats", "GET"): Operation(
        "Headcount and salaries per department", response=responses.StatsList,
        problems=(*READ, 422),
    ),
    ("openapi", "GET"): Operation("This document", open=True),
    ("docs", "GET"): Operation(
        "This document, rendered", media_type="text/html", open=True
    ),
}  # fmt: skip


def openapi_path(pattern: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", pattern)


class DocumentBuilder:
    """Builds the document once; see ``build`` for the drift check."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        models = {op.response for op in OPERATIONS.values() if op.response}
        models |= {op.body for op in OPERATIONS.values() if op.body}
        models.add(responses.Problem)
        self.refs, definitions = models_json_schema(
            [(m, "validation" if m in self._inputs() else "serialization")
             for m in sorted(models, key=lambda m: m.__name__)],
            ref_template="#/components/schemas/{model}",
        )  # fmt: skip
        self.schemas = definitions["$defs"]
        for name in {op.body.__name__ for op in OPERATIONS.values() if op.body}:
            self._allow_read_only(self.schemas[name])
        for op in OPERATIONS.values():
            if op.patch and op.body is not None:
                self.schemas[f"{op.body.__name__}Patch"] = self._patch(op.body)

    def _inputs(self) -> set[type[BaseModel]]:
        return {op.body for op in OPERATIONS.values() if op.body}

    @staticmethod
    def _allow_read_only(schema: dict[str, Any]) -> None:
        """Read-only fields are accepted on input and ignored (the contract)."""
        for name, kind in READ_ONLY.items():
            schema["properties"].setdefault(name, {"type": kind, "readOnly": True})

    def _patch(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = {
            k: v for k, v in self.schemas[model.__name__].items() if k != "required"
        }
        schema["title"] = f"{model.__name__}Patch"
        schema["description"] = "JSON merge patch: fields present are set, null clears"
        return schema

    def build(self) -> dict[str, Any]:
        mapper = self.registry.getUtility(IRoutesMapper)
        patterns = {route.name: route.pattern for route in mapper.get_routes()}
        served = {
            (view["route_name"], method)
            for view in route_views(self.registry)
            for method in view_methods(view)
            # Pyramid's own (static files) and the test suite's probes.
            if not view["route_name"].startswith(("__", "probe."))
        }
        missing = served - set(OPERATIONS)
        if missing:
            raise LookupError(f"views without an OpenAPI operation: {sorted(missing)}")
        paths: dict[str, dict[str, Any]] = {}
        for (route_name, method), operation in OPERATIONS.items():
            if (route_name, method) not in served:
                raise LookupError(f"an OpenAPI operation without a view: {route_name}")
            path = openapi_path(patterns[route_name])
            paths.setdefault(path, {})[method.lower()] = self._operation(
                route_name, method, operation, "{id}" in path
            )
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "company_service",
                "version": "1",
                "description": "Departments and employees. Every request runs in "
                "one transaction: it commits when the answer is below 400, "
                "and nothing it wrote survives otherwise.",
            },
            "paths": paths,
            "components": {
                "schemas": self.schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearer": []}],
        }

    def _operation(
        self, route_name: str, method: str, op: Operation, has_id: bool
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "operationId": f"{method.lower()}_{route_name}",
            "summary": op.summary,
            "parameters": [*([ID] if has_id else []), *op.parameters],
            "responses": self._responses(op),
        }
        if method == "POST" and not op.open:
            result["parameters"].append(IDEMPOTENCY_KEY)
        if op.open:
            result["security"] = []
        if op.body is not None:
            name = f"{op.body.__name__}Patch" if op.patch else op.body.__name__
            media = ["application/json"]
            if op.patch:
                media.append("application/merge-patch+json")
            result["requestBody"] = {
                "required": True,
                "content": {
                    m: {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    for m in media
                },
            }
        return result

    def _responses(self, op: Operation) -> dict[str, Any]:
        success: dict[str, Any] = {"description": "success"}
        if op.response is not None:
            ref = {"$ref": f"#/components/schemas/{op.response.__name__}"}
            success["content"] = {op.media_type: {"schema": ref}}
        elif op.status != 204:
            success["content"] = {op.media_type: {"schema": {"type": "string"}}}
        headers = {}
        if op.etag:
            # "<id>-<version>", and a department's "-<employee_count>" too
            etag = {"type": "string", "pattern": '^"\\d+-\\d+(-\\d+)?"$'}
            headers["ETag"] = {"schema": etag}
        if op.location:
            headers["Location"] = {"schema": {"type": "string", "format": "uri"}}
        if op.link:
            headers["Link"] = {
                "schema": {"type": "string"},
                "description": 'rel="next"',
            }
        if headers:
            success["headers"] = headers
        answers: dict[str, Any] = {str(op.status): success}
        if op.etag and op.body is None:  # a GET answering If-None-Match
            answers["304"] = {"description": "the client's ETag is current"}
        problem = {"$ref": "#/components/schemas/Problem"}
        for status in sorted(set(op.problems)):
            answers[str(status)] = {
                "description": "problem details",
                "content": {PROBLEM: {"schema": problem}},
            }
        return answers


def openapi_document(registry: Registry) -> dict[str, Any]:
    """Built on first use and kept: routes do not change while running."""
    document = registry.get("openapi.document")
    if document is None:
        document = DocumentBuilder(registry).build()
        registry["openapi.document"] = document
    return document
