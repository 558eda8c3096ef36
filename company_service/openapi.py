"""The OpenAPI 3.1 document, generated from the views that serve the API.

Operations are read from Pyramid's introspector (what each ``api_view``
declares, its permission and models); the problems they imply are derived.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry
from pyramid.security import NO_PERMISSION_REQUIRED

from .introspection import route_views, view_methods
from .problems import PROBLEM_JSON, TITLES
from .replicas import HEADER as CONSISTENCY_HEADER
from .schemas.query import QueryModel
from .schemas.responses import OpenApiDocument, Problem
from .schemas.types import MAX_ID
from .security import ROLE_PERMISSIONS
from .views.body import JSON, MERGE_PATCH
from .views.config import ETAG, LINK, LOCATION, Operation, returned_model
from .views.idempotency import HEADER as IDEMPOTENCY_HEADER
from .views.idempotency import MAX_KEY_LENGTH

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # the document's order
OPEN: str = NO_PERMISSION_REQUIRED


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
# A plain string: what it holds is ours (replicas.py).
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
RESPONSE_HEADERS = {
    # the services' *_tag: "<id>-<version>[-<count>]"
    ETAG: {"schema": {"type": "string", "pattern": '^"[0-9]+(-[0-9]+)+"$'}},
    LOCATION: {"schema": {"type": "string", "format": "uri"}},
    LINK: {"schema": {"type": "string"}, "description": 'rel="next"'},
}


def openapi_path(pattern: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", pattern)


def ref(model: type[BaseModel] | str) -> dict[str, str]:
    name = model if isinstance(model, str) else model.__name__
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class Served:
    """One method of one route, answered by a view registered with ``api_view``."""

    route_name: str
    method: str
    path: str
    permission: str
    query: type[QueryModel]
    operation: Operation
    response: type[BaseModel] | None  # what the view returns, if JSON

    @property
    def open(self) -> bool:
        return self.permission == OPEN


def served_operations(registry: Registry) -> list[Served]:
    """Every operation of the API; other views (Pyramid's static files,
    anything a test suite adds) are not registered with ``api_view``."""
    routes = registry.getUtility(IRoutesMapper).get_routes()
    paths = {route.name: openapi_path(route.pattern) for route in routes}
    order = list(paths)
    served = [
        Served(
            route_name=view["route_name"],
            method=method,
            path=paths[view["route_name"]],
            permission=view["permission"],
            query=view["query"],
            operation=view["operation"],
            response=returned_model(view["callable"]),
        )
        for view in route_views(registry)
        if view.get("operation") is not None
        for method in view_methods(view)
    ]
    return sorted(
        served, key=lambda s: (order.index(s.route_name), METHODS.index(s.method))
    )


def problems(served: Served) -> list[int]:
    """The problems an operation may answer: those its declaration implies,
    and those it names."""
    statuses = {400, 422, *served.operation.problems}  # views/query.py: any query
    if not served.open:
        statuses |= {401, 500, 503}  # the token is looked up in the database
        if any(served.permission not in held for held in ROLE_PERMISSIONS.values()):
            statuses.add(403)
    if served.operation.body is not None:
        statuses |= {400, 413, 415, 422}  # views/body.py
    if "{id}" in served.path:
        statuses.add(404)  # views/items.py
    if served.operation.preconditions:
        statuses.add(412)  # views/conditional.py
    return sorted(statuses)


class DocumentBuilder:
    def __init__(self, registry: Registry) -> None:
        self.operations = served_operations(registry)
        inputs = {s.operation.body for s in self.operations if s.operation.body}
        outputs = {s.response for s in self.operations if s.response}
        _, definitions = models_json_schema(
            [(m, "validation" if m in inputs else "serialization")
             for m in sorted(inputs | outputs | {Problem}, key=lambda m: m.__name__)],
            ref_template=ref("{model}")["$ref"],
        )  # fmt: skip
        self.schemas = definitions["$defs"]
        for served in self.operations:
            body = served.operation.body
            if served.operation.patch and body is not None:
                self.schemas[f"{body.__name__}Patch"] = self._patch(body)

    def _patch(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = {
            k: v for k, v in self.schemas[model.__name__].items() if k != "required"
        }
        schema["title"] = f"{model.__name__}Patch"
        schema["description"] = "JSON merge patch: fields present are set, null clears"
        return schema

    def build(self) -> OpenApiDocument:
        paths: dict[str, dict[str, Any]] = {}
        for served in self.operations:
            operations = paths.setdefault(served.path, {})
            operations[served.method.lower()] = self._operation(served)
        return OpenApiDocument.model_validate(
            {
                "openapi": "3.1.0",
                "info": {
                    "title": "company_service",
                    "version": "1",
                    "description": "Departments and employees. Every request runs "
                    "in one transaction: it commits when the answer is below 400, "
                    "and nothing it wrote survives otherwise.",
                },
                "paths": paths,
                "components": {
                    "schemas": self.schemas,
                    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                },
                "security": [{"bearer": []}],
            }
        )

    def _operation(self, served: Served) -> dict[str, Any]:
        op, method = served.operation, served.method
        result: dict[str, Any] = {
            "operationId": f"{method.lower()}_{served.route_name}",
            "summary": op.summary,
            "parameters": [
                *([ID] if "{id}" in served.path else []),
                *served.query.openapi_parameters(),
                *([IF_MATCH, IF_NONE_MATCH] if op.preconditions else []),
            ],
            "responses": self._responses(served),
        }
        if method == "POST" and not served.open:
            result["parameters"].append(IDEMPOTENCY_KEY)
        if method == "GET" and not served.open:
            result["parameters"].append(CONSISTENCY_TOKEN)
        elif method != "GET":
            success = result["responses"][str(op.status)]
            success.setdefault("headers", {})[CONSISTENCY_HEADER] = CONSISTENCY_ANSWER
        if served.open:
            result["security"] = []
        if op.body is not None:
            name = f"{op.body.__name__}Patch" if op.patch else op.body.__name__
            result["requestBody"] = {
                "required": True,
                "content": {
                    media_type: {"schema": ref(name)}
                    for media_type in sorted(MERGE_PATCH if op.patch else JSON)
                },
            }
        return result

    def _responses(self, served: Served) -> dict[str, Any]:
        op = served.operation
        success: dict[str, Any] = {"description": "success"}
        if served.response is not None:
            success["content"] = {op.media_type: {"schema": ref(served.response)}}
        elif op.status != 204:  # text: the CSV export, the docs page
            success["content"] = {op.media_type: {"schema": {"type": "string"}}}
        if op.response_headers:
            success["headers"] = {
                name: RESPONSE_HEADERS[name] for name in op.response_headers
            }
        answers: dict[str, Any] = {str(op.status): success}
        if op.preconditions and served.method == "GET":
            answers["304"] = {"description": "the client's ETag is current"}
        for status in problems(served):
            answers[str(status)] = {
                "description": TITLES[status],
                "content": {PROBLEM_JSON: {"schema": ref(Problem)}},
            }
        return answers


def openapi_document(registry: Registry) -> OpenApiDocument:
    """Built on first use and kept: the views do not change while running."""
    document: OpenApiDocument | None = registry.get("openapi.document")
    if document is None:
        document = DocumentBuilder(registry).build()
        registry["openapi.document"] = document
    return document
