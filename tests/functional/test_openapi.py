"""The OpenAPI document: valid 3.1, open, and exactly the routes that are served."""

import json

import jsonschema
import pytest
import webtest
from openapi_spec_validator import validate

from company_service.db import dispose_engines
from company_service.introspection import route_views, view_methods
from company_service.openapi import OPERATIONS, DocumentBuilder
from company_service.testing import make_app


@pytest.fixture(scope="module")
def plain_app(app_settings, engine):
    """The service as deployed: no test probes."""
    app = make_app(app_settings, **{"pyramid.includes": ""})
    yield app
    dispose_engines(app.registry)


@pytest.fixture(scope="module")
def document(plain_app) -> dict:
    return webtest.TestApp(plain_app).get("/api/v1/openapi.json").json


def test_the_document_is_valid_openapi_3_1_and_needs_no_token(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_served_route_and_method_is_documented_and_nothing_else(
    plain_app, document
):
    served = {
        (view["route_name"], method)
        for view in route_views(plain_app.registry)
        for method in view_methods(view)
        if not view["route_name"].startswith("__")
    }
    assert served == set(OPERATIONS)
    documented = sum(len(methods) for methods in document["paths"].values())
    assert documented == len(OPERATIONS)


def test_a_view_without_an_operation_fails_the_build(plain_app, monkeypatch):
    monkeypatch.delitem(OPERATIONS, ("employee_chain", "GET"))
    with pytest.raises(LookupError, match="employee_chain"):
        DocumentBuilder(plain_app.registry).build()


def test_operations_name_their_statuses_and_security(document):
    item = document["paths"]["/api/v1/employees/{id}"]
    assert {"200", "304", "401", "404"} <= set(item["get"]["responses"])
    assert {"409", "412", "415", "422"} <= set(item["patch"]["responses"])
    patch_body = item["patch"]["requestBody"]["content"]
    assert set(patch_body) == {"application/json", "application/merge-patch+json"}
    assert document["paths"]["/healthz"]["get"]["security"] == []
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    create = document["paths"]["/api/v1/employees"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]


def test_the_schemas_are_the_models_own(document):
    employee = document["components"]["schemas"]["EmployeeIn"]
    assert employee["additionalProperties"] is False
    assert employee["properties"]["first_name"]["maxLength"] == 100
    assert employee["properties"]["id"]["readOnly"] is True  # accepted, ignored
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "request_id"} <= set(
        problem["required"]
    )


def test_the_document_describes_its_own_response_as_the_object_it_is(plain_app):
    """Not ``{"type": "string"}``: a client generated from the document would
    expect a string, and a validating proxy or fuzzer would reject the answer."""
    response = webtest.TestApp(plain_app).get("/api/v1/openapi.json")
    answer = response.json["paths"]["/api/v1/openapi.json"]["get"]["responses"]["200"]
    assert list(answer["content"]) == [response.content_type] == ["application/json"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert "OpenAPI 3.1" in schema["description"]
    validator = jsonschema.Draft202012Validator  # OpenAPI 3.1's dialect
    validator.check_schema(schema)
    validator(schema).validate(response.json)
    with pytest.raises(jsonschema.ValidationError):  # what it used to say it was
        validator(schema).validate(json.dumps(response.json))
    with pytest.raises(jsonschema.ValidationError):  # a 3.0 document is not it
        validator(schema).validate({**response.json, "openapi": "3.0.3"})


def test_only_text_is_described_as_a_bare_string(document):
    """A JSON answer has a model's schema or its own; ``{"type": "string"}``
    fits only a body that is text as sent (the CSV export, the docs page)."""
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                for media_type, content in answer.get("content", {}).items():
                    if content["schema"] == {"type": "string"}:
                        assert not media_type.endswith("json"), (path, method, status)
