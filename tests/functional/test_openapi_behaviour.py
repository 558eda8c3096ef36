"""The OpenAPI document held to what each route does: statuses, parameters, bodies.

The document is generated from the views' declarations and models, but it
can still be wrong: a status derived from a declaration that the route
cannot give (or gives undocumented), a type whose JSON schema is written
beside its validator (``WithJsonSchema``), a view that parses its body with
another model than the one it declares. So every documented status derived
from a declaration, query parameter and request body is checked here
against the behaviour of the route that serves it: the document is the
oracle, the route's own model (and, over HTTP, the route) must agree.
"""

import itertools
import json
import re
from typing import Any
from urllib.parse import urlencode

import jsonschema
import pytest
import webtest
from pydantic import BaseModel, ValidationError

from company_service.introspection import route_views, view_methods
from company_service.schemas.query import QueryModel
from company_service.testing import bearer, store_token
from company_service.views.idempotency import HEADER, MAX_KEY_LENGTH

API = "/api/v1"
UNDOCUMENTED = "zz_undocumented"


@pytest.fixture(scope="module")
def served(app) -> dict[tuple[str, str], type[QueryModel]]:
    """(route, method) -> the query model its ``api_view`` is registered with."""
    return {
        (view["route_name"], method): view["query"]
        for view in route_views(app.registry)
        if view.get("operation") is not None
        for method in view_methods(view)
    }


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return webtest.TestApp(app).get(f"{API}/openapi.json").json


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(route name, METHOD) -> (path, operation), from the operationId."""
    found = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            route = operation["operationId"].removeprefix(f"{method}_")
            found[(route, method.upper())] = {"path": path, **operation}
    return found


def query_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation["parameters"] if p["in"] == "query"]


def test_documented_query_parameters_are_the_route_models_fields(served, document):
    assert set(operations(document)) == set(served)
    for key, operation in operations(document).items():
        model = served[key]
        documented = query_parameters(operation)
        assert [p["name"] for p in documented] == list(model.model_fields), key
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert {p["name"] for p in documented if p["required"]} == required, key


# --- the documented schema as the oracle of what a model accepts --------------


def ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """ECMA-262 ``$`` (what OpenAPI means) is the end of the text; Python's
    also matches before a final newline."""
    if isinstance(instance, str) and not re.search(
        pattern.replace("$", r"\Z"), instance
    ):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Oracle = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": ecma_pattern}
)


def documented_accepts(schema: dict[str, Any], raw: str) -> bool:
    """Whether ``raw`` in a query string is valid for ``schema``: as text,
    or (ASCII digits, as OpenAPI's form style writes an integer) a number."""
    checker = Oracle(schema, format_checker=Oracle.FORMAT_CHECKER)
    instances: list[Any] = [raw]
    if re.fullmatch(r"-?[0-9]+", raw):
        instances.append(int(raw))
    return any(checker.is_valid(instance) for instance in instances)


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
GENERIC = [
    "", " ", "a", "null", "NULL", "None", "true", "false", "True", "FALSE", "1",
    "0", "07", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "²", "１", "١٢",
    "9" * 30, "0" * 30 + "1", "2024-02-29", "2023-02-29", "2024-13-01",
    "2024-1-01", "20240101", "２０２４-01-01", "2024-01-01T00:00:00", "a\x00b",
    "a\x1fb", "a\x7fb", "a\x85b", "a\nb", "a\n", "é", "Ölçü", "%", "_",
    "id", "-id", "--id", "id,", ",id", "id,id", "id, name", "name,-created_at",
    "-hire_date,last_name", "salary,salary", "first_name,-id,email", "nope",
]  # fmt: skip


def candidates(schema: dict[str, Any]) -> list[str]:
    """Values worth trying against ``schema``: its edges, and the generic."""
    found = list(GENERIC)
    for branch in [schema, *schema.get("anyOf", [])]:
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound in branch:
                edge = branch[bound]
                found += [str(edge), str(edge + step), str(edge).zfill(25)]
                found += [str(edge).translate(t) for t in (FULLWIDTH, ARABIC_INDIC)]
        for bound, step in (("minLength", -1), ("maxLength", 1)):
            if bound in branch:
                found += ["x" * branch[bound], "x" * max(0, branch[bound] + step)]
        for value in [*branch.get("enum", []), branch.get("const")]:
            if isinstance(value, str):
                found += [value, value.upper(), f" {value}"]
    return list(dict.fromkeys(found))


def model_accepts(model: type[BaseModel], name: str, raw: str) -> bool:
    try:
        model.model_validate({name: raw})
    except ValidationError as error:
        assert {e["loc"] for e in error.errors()} == {(name,)}
        return False
    return True


def sort_names_repeat(raw: str) -> bool:
    names = [part.removeprefix("-") for part in raw.split(",")]
    return len(names) != len(set(names))


# Refusals no JSON schema can state (the documented 422s): a sort naming a
# field twice. A cursor's signature is checked by the view, not the model.
BEYOND_THE_SCHEMA = {"sort": sort_names_repeat}


def never(raw: str) -> bool:
    return False


def test_each_query_model_accepts_exactly_what_its_parameters_document(
    served, document
):
    documented = {
        (served[key], parameter["name"]): parameter["schema"]
        for key, operation in operations(document).items()
        for parameter in query_parameters(operation)
    }
    checked = 0
    for (model, name), schema in documented.items():
        for raw in candidates(schema):
            expected = documented_accepts(schema, raw)
            if expected and BEYOND_THE_SCHEMA.get(name, never)(raw):
                expected = False
            assert model_accepts(model, name, raw) == expected, (
                model.__name__,
                name,
                raw,
            )
            checked += 1
    assert checked > 1000


# --- over HTTP: every route checks its query string with its model -----------


@pytest.fixture
def ids(testapp, editor) -> dict[str, int]:
    department = testapp.post_json(
        f"{API}/departments", {"name": "Drift"}, headers=editor
    ).json["id"]
    person = {"first_name": "D", "last_name": "R", "salary": "1"}
    employee = testapp.post_json(
        f"{API}/employees",
        {**person, "email": "drift@example.com", "department_id": department},
        headers=editor,
    ).json["id"]
    return {"department": department, "employee": employee}


def address(operation: dict[str, Any], ids: dict[str, int]) -> str:
    kind = "department" if operation["path"].startswith(f"{API}/departments") else ""
    return operation["path"].format(id=ids[kind or "employee"])


def request(testapp, method, url, editor, body=None, media_type=None) -> Any:
    if body is None:
        return testapp.request(url, method=method, headers=editor, expect_errors=True)
    return testapp.request(
        url,
        method=method,
        headers=editor,
        body=json.dumps(body).encode(),
        content_type=media_type,
        expect_errors=True,
    )


def test_every_route_refuses_an_undocumented_or_repeated_parameter(
    testapp, editor, ids, document
):
    for (_route, method), operation in operations(document).items():
        url = address(operation, ids)
        answer = request(testapp, method, f"{url}?{UNDOCUMENTED}=1", editor)
        assert answer.status_int == 422, (method, url)
        assert [e["loc"] for e in answer.json["errors"]] == [["query", UNDOCUMENTED]]
        for parameter in query_parameters(operation):
            name = parameter["name"]
            value = next(
                raw
                for raw in candidates(parameter["schema"])
                if documented_accepts(parameter["schema"], raw)
            )
            twice = urlencode([(name, value), (name, "")])
            answer = request(testapp, method, f"{url}?{twice}", editor)
            assert answer.status_int == 422, (method, url, name)
            assert [e["loc"] for e in answer.json["errors"]] == [["query", name]]
            assert answer.json["errors"][0]["msg"] == "given more than once"


# --- request bodies ------------------------------------------------------------


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def probe_body(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Every documented read-only field (any value: they are ignored), an
    undocumented field, and the same inside arrays of objects."""
    schema = resolve(document, schema)
    body: dict[str, Any] = {UNDOCUMENTED: 1}
    for name, field in schema["properties"].items():
        if field.get("readOnly"):
            body[name] = ["any", {"value": None}]
        elif field.get("type") == "array" and "$ref" in field.get("items", {}):
            body[name] = [probe_body(document, field["items"])]
    return body


def undocumented_locs(body: Any, loc: tuple[Any, ...] = ("body",)) -> set[tuple]:
    found = set()
    if isinstance(body, dict):
        for name, value in body.items():
            if name == UNDOCUMENTED:
                found.add((*loc, name))
            found |= undocumented_locs(value, (*loc, name))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            if isinstance(value, dict):
                found |= undocumented_locs(value, (*loc, index))
    return found


def body_operations(document):
    return {
        key: operation
        for key, operation in operations(document).items()
        if "requestBody" in operation
    }


def test_every_route_that_takes_a_body_validates_the_documented_one(
    testapp, editor, ids, document
):
    assert len(body_operations(document)) == 8
    for (_route, method), operation in body_operations(document).items():
        url = address(operation, ids)
        content = operation["requestBody"]["content"]
        for media_type, media in content.items():
            schema = resolve(document, media["schema"])
            answer = request(testapp, method, url, editor, {}, media_type)
            missing = {
                tuple(e["loc"])
                for e in (answer.json.get("errors") or [])
                if e["type"] == "missing"
            }
            required = {("body", name) for name in schema.get("required", [])}
            assert missing == required, (method, url, media_type)
            if not required:
                assert answer.status_int < 300, (method, url, answer.text)

            body = probe_body(document, schema)
            answer = request(testapp, method, url, editor, body, media_type)
            assert answer.status_int == 422, (method, url)
            errors = {tuple(e["loc"]): e["type"] for e in answer.json["errors"]}
            expected = undocumented_locs(body)
            assert {
                loc for loc, kind in errors.items() if kind == "extra_forbidden"
            } == (expected), (method, url)
            read_only = [
                name
                for name, field in schema["properties"].items()
                if field.get("readOnly")
            ]
            assert not [loc for loc in errors if loc[-1] in read_only], (method, url)

            known = {
                name: None
                for name, field in schema["properties"].items()
                if not field.get("readOnly")
            }
            answer = request(testapp, method, url, editor, known, media_type)
            extra = [
                e["loc"]
                for e in (answer.json.get("errors") or [])
                if e["type"] == "extra_forbidden"
            ]
            assert extra == [], (method, url)


def test_the_idempotency_key_is_as_long_as_documented(testapp, editor, document):
    create = operations(document)[("departments", "POST")]
    (key,) = [p for p in create["parameters"] if p["name"] == HEADER]
    assert key["schema"]["maxLength"] == MAX_KEY_LENGTH
    longest = "k" * key["schema"]["maxLength"]
    for n, (value, status) in enumerate([(longest, 201), (longest + "k", 422)]):
        answer = testapp.post_json(
            f"{API}/departments",
            {"name": f"Keyed {n}"},
            headers={**editor, HEADER: value},
            expect_errors=True,
        )
        assert answer.status_int == status


# --- statuses derived from a declaration ---------------------------------------

fresh = itertools.count()


def valid_body(reference: str) -> dict[str, Any]:
    """A body the referenced schema accepts, new each time (unique names and
    emails), so that a probe gets past the body to the status it is after."""
    n = next(fresh)
    person = {
        "first_name": "P",
        "last_name": "R",
        "email": f"probe{n}@example.com",
        "salary": "1",
    }
    return {
        "DepartmentIn": {"name": f"Probe {n}"},
        "DepartmentInPatch": {},
        "EmployeeIn": person,
        "EmployeeInPatch": {},
        "RaiseIn": {"percent": "1"},
        "BulkIn": {"items": [person]},
    }[reference.split("/")[-1]]


def probe(testapp, operation, method, url, headers) -> int:
    """The status ``method url`` answers with a body the operation accepts."""
    content = operation.get("requestBody", {}).get("content")
    if content is None:
        return request(testapp, method, url, headers).status_int
    media_type, media = next(iter(content.items()))
    body = valid_body(media["schema"]["$ref"])
    return request(testapp, method, url, headers, body, media_type).status_int


def test_the_statuses_a_declaration_implies_are_the_ones_its_route_answers(
    testapp, connection, editor, ids, document
):
    """401 and 403 from the permission, 404 from the ``{id}``, 412 from the
    preconditions, 415 from the body: each documented exactly where the
    route answers it."""
    reader = bearer(store_token(connection, "reader"))
    stale = {**editor, "If-Match": '"0-0"'}  # no item has this ETag
    wrong = []
    for (route, method), operation in operations(document).items():
        path, url = operation["path"], address(operation, ids)
        answers = {
            401: probe(testapp, operation, method, url, {}),
            403: probe(testapp, operation, method, url, reader),
            404: probe(testapp, operation, method, path.format(id=10**9), editor)
            if "{id}" in path
            else None,
            412: probe(testapp, operation, method, url, stale),
            415: request(testapp, method, url, stale, {}, "text/plain").status_int,
        }
        wrong += [
            (route, method, status, answered)
            for status, answered in answers.items()
            if (answered == status) != (str(status) in operation["responses"])
        ]
    assert wrong == []
