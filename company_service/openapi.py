"""The OpenAPI 3.1 document, built from what the service runs on.

Body schemas come from the pydantic models that validate and shape the
bodies; each operation's query parameters from the query model its view is
registered with (``api_view(query=...)``, checked by views/query.py); paths
and methods from the route table and the views registered with ``api_view``
(not, say, views a test suite adds). ``OPERATIONS`` adds what code cannot
say (summaries, statuses), keyed by (route name, method): an api view
without an entry, or an entry without a view, makes building the document
fail, so it cannot drift from the routes.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry

from .introspection import route_views, view_methods
from .replicas import HEADER as CONSISTENCY_HEADER
from .schemas import department, employee, operations, responses
from .schemas.query import QueryModel
from .schemas.types import MAX_ID
from .views.idempotency import HEADER as IDEMPOTENCY_HEADER
from .views.idempotency import MAX_KEY_LENGTH

PROBLEM = "application/problem+json"
ETAG = '^"[0-9]+(-[0-9]+)+"$'  # services/versions.py: "<id>-<version>[-<count>]"


def header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": schema,
            "description": description}  # fmt: skip


ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
IF_MATCH = header(
    "If-Match",
    {"type": "string"},
    'ETags (strong) one of which must be current, or *; else 412: "7-3"',
)
IF_NONE_MATCH = header(
    "If-None-Match",
    {"type": "string"},
    "ETags (weak comparison), or *: when one is current, 304 on GET and HEAD, "
    "412 on a change",
)
PRECONDITIONS = (IF_MATCH, IF_NONE_MATCH)
IDEMPOTENCY_KEY = header(
    IDEMPOTENCY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[^\\x00-\\x1f]*$",  # views/idempotency.py: no c < " "
    },
    "repeat a POST safely: the stored answer comes back, nothing runs twice",
)
# With PostgreSQL standbys (db.replica_url, replicas.py): every 2xx write
# answers it, a read that sends it back sees that write. Without standbys it
# is neither sent nor read. A plain string here: what it holds is ours.
CONSISTENCY_TOKEN = header(
    CONSISTENCY_HEADER,
    {"type": "string"},
    "the Consistency-Token of an earlier write: this read sees that write "
    "(with standbys only; else ignored); not one we issued: 422",
)
CONSISTENCY_ANSWER = {
    "schema": {"type": "string"},
    "description": "with standbys only: send it back on a read to see this write",
}
# What GET /api/v1/openapi.json answers: a JSON object, an OpenAPI 3.1
# document. Its full schema is the specification's (externalDocs), which would
# have to be fetched from another host; this one holds what clients read
# first, and openapi-spec-validator checks the rest in the tests.
OPENAPI_DOCUMENT = {
    "title": "OpenAPI document",
    "description": "This API, as an OpenAPI 3.1 document",
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": "^3\\.1\\.[0-9]+$"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
        },
        "paths": {"type": "object"},
        "components": {"type": "object"},
    },
    "externalDocs": {
        "description": "OpenAPI Specification 3.1",
        "url": "https://spec.openapis.org/oas/v3.1.0",
    },
}


@dataclass(frozen=True)
class Operation:
    summary: str
    status: int = 200
    response: type[BaseModel] | None = None
    schema: dict[str, Any] | None = None  # the body's, where no model gives one
    body: type[BaseModel] | None = None
    patch: bool = False  # the body is a JSON merge patch of ``body``
    headers: tuple[dict[str, Any], ...] = ()  # query parameters: see the views
    problems: tuple[int, ...] = ()
    media_type: str = "application/json"
    etag: bool = False
    location: bool = False
    link: bool = False
    open: bool = False  # no token needed


# Every operation may also answer 400 and 422 for its query string (the
# builder adds them): see views/query.py.
QUERY_PROBLEMS = (400, 422)
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
        problems=READ, link=True,
    ),
    ("departments", "POST"): Operation(
        "Create a department", status=201, response=department.DepartmentOut,
        body=department.DepartmentIn, problems=(*WRITE, 409), etag=True, location=True,
    ),
    ("department", "GET"): Operation(
        "Read a department", response=department.DepartmentOut,
        headers=PRECONDITIONS, problems=(*READ, 404, 412), etag=True,
    ),
    ("department", "PUT"): Operation(
        "Replace a department", response=department.DepartmentOut,
        body=department.DepartmentIn, headers=PRECONDITIONS, problems=ITEM, etag=True,
    ),
    ("department", "PATCH"): Operation(
        "Change a department (JSON merge patch)", response=department.DepartmentOut,
        body=department.DepartmentIn, patch=True, headers=PRECONDITIONS,
        problems=ITEM, etag=True,
    ),
    ("department", "DELETE"): Operation(
        "Delete a department without employees", status=204,
        headers=PRECONDITIONS, problems=(401, 403, 404, 409, 412, 500, 503),
    ),
    ("department_employees", "GET"): Operation(
        "List a department's employees", response=responses.EmployeePage,
        problems=(*READ, 404), link=True,
    ),
    ("department_raise", "POST"): Operation(
        "Raise every active employee's salary, all or none",
        response=operations.RaiseOut, body=operations.RaiseIn,
        problems=(*WRITE, 404, 409),
    ),
    ("employees", "GET"): Operation(
        "List employees", response=responses.EmployeePage,
        problems=READ, link=True,
    ),
    ("employees", "POST"): Operation(
        "Create an employee", status=201, response=employee.EmployeeOut,
        body=employee.EmployeeIn, problems=(*WRITE, 409), etag=True, location=True,
    ),
    ("employees_bulk", "POST"): Operation(
        "Create 1-1000 employees, all or none",
        response=responses.EmployeeList, body=operations.BulkIn, problems=(*WRITE, 409),
    ),
    ("employees_csv", "GET"): Operation(
        "Every matching employee as CSV, streamed",
        problems=READ, media_type="text/csv",
    ),
    ("employee", "GET"): Operation(
        "Read an employee", response=employee.EmployeeOut,
        headers=PRECONDITIONS, problems=(*READ, 404, 412), etag=True,
    ),
    ("employee", "PUT"): Operation(
        "Replace an employee", response=employee.EmployeeOut, body=employee.EmployeeIn,
        headers=PRECONDITIONS, problems=ITEM, etag=True,
    ),
    ("employee", "PATCH"): Operation(
        "Change an employee (JSON merge patch)", response=employee.EmployeeOut,
        body=employee.EmployeeIn, patch=True, headers=PRECONDITIONS,
        problems=ITEM, etag=True,
    ),
    ("employee", "DELETE"): Operation(
        "Delete an employee who manages nobody", status=204,
        headers=PRECONDITIONS, problems=(401, 403, 404, 409, 412, 500, 503),
    ),
    ("employee_reports", "GET"): Operation(
        "Direct reports; with recursive=true every report and its depth",
        response=responses.ReportList,
        problems=(*READ, 404),
    ),
    ("employee_chain", "GET"): Operation(
        "The managers above, direct manager first", response=responses.EmployeeList,
        problems=(*READ, 404),
    ),
    ("department_stats", "GET"): Operation(
        "Headcount and salaries per department", response=responses.StatsList,
        problems=READ,
    ),
    ("openapi", "GET"): Operation(
        "This document", schema=OPENAPI_DOCUMENT, open=True
    ),
    ("docs", "GET"): Operation(
        "This document, rendered", media_type="text/html", open=True
    ),
}  # fmt: skip


def openapi_path(pattern: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", pattern)


def api_views(registry: Registry) -> dict[tuple[str, str], type[QueryModel]]:
    """(route name, method) -> query model of every view registered with
    ``api_view``, which gives each one; other views (Pyramid's static files,
    anything a test suite adds) are not this API's operations."""
    return {
        (view["route_name"], method): view["query"]
        for view in route_views(registry)
        if view.get("query") is not None
        for method in view_methods(view)
    }


class DocumentBuilder:
    """Builds the document once; see ``build`` for the drift check."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        inputs = {op.body for op in OPERATIONS.values() if op.body}
        models = {op.response for op in OPERATIONS.values() if op.response}
        models |= inputs
        models.add(responses.Problem)
        self.refs, definitions = models_json_schema(
            [(m, "validation" if m in inputs else "serialization")
             for m in sorted(models, key=lambda m: m.__name__)],
            ref_template="#/components/schemas/{model}",
        )  # fmt: skip
        self.schemas = definitions["$defs"]
        for op in OPERATIONS.values():
            if op.patch and op.body is not None:
                self.schemas[f"{op.body.__name__}Patch"] = self._patch(op.body)

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
        served = api_views(self.registry)
        missing = set(served) - set(OPERATIONS)
        if missing:
            raise LookupError(f"views without an OpenAPI operation: {sorted(missing)}")
        paths: dict[str, dict[str, Any]] = {}
        for (route_name, method), operation in OPERATIONS.items():
            query = served.get((route_name, method))
            if query is None:
                raise LookupError(f"an OpenAPI operation without a view: {route_name}")
            path = openapi_path(patterns[route_name])
            paths.setdefault(path, {})[method.lower()] = self._operation(
                route_name, method, operation, query, "{id}" in path
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
        self,
        route_name: str,
        method: str,
        op: Operation,
        query: type[QueryModel],
        has_id: bool,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "operationId": f"{method.lower()}_{route_name}",
            "summary": op.summary,
            "parameters": [
                *([ID] if has_id else []),
                *query.openapi_parameters(),
                *op.headers,
            ],
            "responses": self._responses(op),
        }
        if method == "POST" and not op.open:
            result["parameters"].append(IDEMPOTENCY_KEY)
        if method == "GET" and not op.open:
            result["parameters"].append(CONSISTENCY_TOKEN)
        elif method != "GET":
            success = result["responses"][str(op.status)]
            success.setdefault("headers", {})[CONSISTENCY_HEADER] = CONSISTENCY_ANSWER
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
        elif op.schema is not None:
            success["content"] = {op.media_type: {"schema": op.schema}}
        elif op.status != 204:  # text: the CSV export, the docs page
            success["content"] = {op.media_type: {"schema": {"type": "string"}}}
        headers: dict[str, Any] = {}
        if op.etag:
            headers["ETag"] = {"schema": {"type": "string", "pattern": ETAG}}
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
        for status in sorted({*op.problems, *QUERY_PROBLEMS}):
            answers[str(status)] = {
                "description": "problem details",
                "content": {PROBLEM: {"schema": problem}},
            }
        return answers


def openapi_document(registry: Registry) -> dict[str, Any]:
    """Built on first use and kept: routes do not change while running."""
    document: dict[str, Any] | None = registry.get("openapi.document")
    if document is None:
        document = DocumentBuilder(registry).build()
        registry["openapi.document"] = document
    return document
