"""Error messages in the words of the contract: no internal class names, no
regular expressions, for every body and query string the document lists."""

import inspect
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import BaseModel

from company_service import schemas
from company_service.schemas import department, employee, operations, query, types
from company_service.testing import bearer

# One valid body per request body model; a new model needs one here.
VALID = {
    "DepartmentIn": {"name": "Wording"},
    "EmployeeIn": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "salary": "1.00",
    },
    "RaiseIn": {"percent": 1},
}
VALID["BulkIn"] = {"items": [VALID["EmployeeIn"]]}

NOT_OBJECTS = [[], [VALID["DepartmentIn"]], "name", 7, True, None]
# Refused by every pattern a string field has: a control character and a NUL.
UNWANTED = "a\x01\x00b"


def model_names() -> set[str]:
    modules = (schemas, department, employee, operations, query, types)
    return {
        name
        for module in modules
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, BaseModel)
    }


@pytest.fixture(scope="module")
def document(app):
    import webtest

    return webtest.TestApp(app).get("/api/v1/openapi.json").json


@pytest.fixture
def ids(testapp, editor_token) -> dict[str, int]:
    """An existing department and employee, for the item routes."""
    headers = bearer(editor_token)
    department_id = testapp.post_json(
        "/api/v1/departments", VALID["DepartmentIn"], headers=headers
    ).json["id"]
    employee_id = testapp.post_json(
        "/api/v1/employees", VALID["EmployeeIn"], headers=headers
    ).json["id"]
    return {"departments": department_id, "employees": employee_id}


def body_operations(document) -> list[tuple[str, str, str]]:
    """(method, path, body model name) of every operation that takes a body."""
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]["application/json"]
                name = content["schema"]["$ref"].rsplit("/", 1)[-1]
                found.append((method.upper(), path, name.removesuffix("Patch")))
    return found


def query_parameters(document) -> list[tuple[str, str]]:
    """(path, name) of every query parameter of every GET."""
    return [
        (path, parameter["name"])
        for path, methods in document["paths"].items()
        if "get" in methods
        for parameter in methods["get"]["parameters"]
        if parameter["in"] == "query"
    ]


def url(path: str, ids: dict[str, int]) -> str:
    """A documented path with its ``{id}`` (if any) an existing item's."""
    collection = path.split("/")[3] if path.count("/") > 2 else ""
    return path.replace("{id}", str(ids.get(collection, 1)))


def refused(testapp, token: str, path: str, body: Any) -> list[dict]:
    """The errors of a POST of ``body`` to ``path``, which must be a 422."""
    answer = testapp.post_json(path, body, headers=bearer(token), status=422)
    return answer.json["errors"]


def send(testapp, token, ids, method, path, body):
    sender = getattr(testapp, f"{method.lower()}_json")
    return sender(url(path, ids), body, headers=bearer(token), expect_errors=True)


def assert_plain_words(errors: list[dict], patterns: set[str]) -> None:
    internal = model_names()
    for error in errors:
        words = set(error["msg"].replace(",", " ").split())
        assert not words & internal, error
        assert not any(pattern in error["msg"] for pattern in patterns), error
        assert "should match pattern" not in error["msg"], error


def string_patterns(document) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found | set(types.PATTERN_MESSAGES)


def test_every_body_model_has_a_valid_example(document):
    assert {name for _, _, name in body_operations(document)} == set(VALID)


@pytest.mark.parametrize("body", NOT_OBJECTS, ids=repr)
def test_a_body_of_the_wrong_json_type_is_told_to_be_an_object(
    testapp, editor_token, ids, document, body
):
    for method, path, _ in body_operations(document):
        answer = send(testapp, editor_token, ids, method, path, body)
        assert answer.status_int == 422, (method, path, answer.text)
        [error] = answer.json["errors"]
        assert error == {
            "loc": ["body"],
            "msg": "must be a JSON object",
            "type": "model_type",
        }, (method, path)


def test_bulk_items_and_lists_of_the_wrong_json_type(testapp, editor_token):
    bulk = "/api/v1/employees/bulk"
    items = [1, VALID["EmployeeIn"], "x"]
    errors = refused(testapp, editor_token, bulk, {"items": items})
    assert [(e["loc"], e["msg"]) for e in errors] == [
        (["body", "items", 0], "must be a JSON object"),
        (["body", "items", 2], "must be a JSON object"),
    ]
    errors = refused(testapp, editor_token, bulk, {"items": VALID["EmployeeIn"]})
    assert errors[0]["msg"] == "must be a JSON array"


def test_every_string_field_refuses_control_characters_in_words(
    testapp, editor_token, ids, document
):
    patterns = string_patterns(document)
    schemas_ = document["components"]["schemas"]
    checked = 0
    for method, path, name in body_operations(document):
        for field, schema in schemas_[name]["properties"].items():
            if schema.get("readOnly") or "string" not in str(schema):
                continue
            body = {**VALID[name], field: UNWANTED}
            answer = send(testapp, editor_token, ids, method, path, body)
            assert answer.status_int == 422, (method, path, field, answer.text)
            [error] = answer.json["errors"]
            assert error["loc"] == ["body", field]
            assert_plain_words([error], patterns)
            checked += 1
    assert checked >= 10  # names, email, title, dates, salary, description...


@pytest.mark.parametrize(
    ("field", "says"),
    [
        ("first_name", "must be one line, with no control characters"),
        ("title", "must be one line, with no control characters"),
    ],
)
def test_a_control_character_in_a_one_line_field_says_so(
    testapp, editor_token, field, says
):
    body = {**VALID["EmployeeIn"], field: "Ada\x07"}
    assert refused(testapp, editor_token, "/api/v1/employees", body) == [
        {"loc": ["body", field], "msg": says, "type": "string_pattern_mismatch"}
    ]


def test_a_nul_in_a_description_says_so(testapp, editor_token):
    body = {"name": "Nul", "description": "a\x00b"}
    [error] = refused(testapp, editor_token, "/api/v1/departments", body)
    assert error["msg"] == "must not contain the NUL character (U+0000)"


def test_a_validator_s_message_comes_without_pydantic_s_prefix(testapp, editor_token):
    errors = refused(testapp, editor_token, "/api/v1/departments", {"name": "\u200b"})
    assert errors[0]["msg"] == "must contain a visible character"


def test_every_query_parameter_refuses_a_control_character_in_words(
    testapp, reader_token, ids, document
):
    patterns = string_patterns(document)
    parameters = query_parameters(document)
    for path, name in parameters:
        answer = testapp.get(
            f"{url(path, ids)}?{name}={quote(UNWANTED)}",
            headers=bearer(reader_token),
            expect_errors=True,
        )
        assert answer.status_int == 422, (path, name, answer.text)
        assert_plain_words(answer.json["errors"], patterns)
    assert len(parameters) >= 20
