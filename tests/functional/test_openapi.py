"""The OpenAPI document: valid 3.1, open, and exactly the operations that are served.

What each operation says it accepts and answers is held to what its route
does in test_openapi_behaviour.py.
"""

import json

import jsonschema
import pytest
import webtest
from openapi_spec_validator import validate
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.security import NO_PERMISSION_REQUIRED

from company_service.db import dispose_engines
from company_service.introspection import route_views, view_methods
from company_service.testing import make_app
from company_service.views.config import Operation, checked_operation


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


def documented_operations(document: dict) -> set[tuple[str, str]]:
    """(route name, METHOD) of every operation, from its operationId."""
    return {
        (operation["operationId"].removeprefix(f"{method}_"), method.upper())
        for methods in document["paths"].values()
        for method, operation in methods.items()
    }


@pytest.mark.parametrize("with_probes", [False, True])
def test_every_served_route_and_method_is_documented_and_nothing_else(
    app, plain_app, with_probes
):
    """Every view of the service is an ``api_view``, so none is left out; the
    test suite's probe routes and Pyramid's static files are not the API's."""
    served_app = app if with_probes else plain_app
    views = route_views(served_app.registry)
    probes = {v["route_name"] for v in views if v["route_name"].startswith("probe.")}
    assert bool(probes) == with_probes
    served = {
        (view["route_name"], method)
        for view in views
        for method in view_methods(view)
        if not view["route_name"].startswith("__") and view["route_name"] not in probes
    }
    document = webtest.TestApp(served_app).get("/api/v1/openapi.json").json
    assert documented_operations(document) == served
    assert sum(len(methods) for methods in document["paths"].values()) == len(served)
    assert not [path for path in document["paths"] if "_probe" in path]


def test_a_json_view_that_returns_no_model_refuses_to_start():
    """Its answer would be a JSON the document cannot name."""

    def untyped(request):
        return {}

    def typed(request) -> dict:
        return {}

    for view in (untyped, typed):
        config = Configurator(settings={})
        config.add_view_deriver(checked_operation, name="operation")
        config.add_route("somewhere", "/somewhere")
        config.add_view(
            view,
            route_name="somewhere",
            permission=NO_PERMISSION_REQUIRED,
            renderer="json",
            operation=Operation(summary="No model"),
        )
        with pytest.raises(ConfigurationError, match="not annotated"):
            config.commit()


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
    # Its model's schema, resolved against the document as a client would.
    reference = answer["content"]["application/json"]["schema"]
    schema = {**reference, "components": response.json["components"]}
    resolved = response.json["components"]["schemas"][reference["$ref"].split("/")[-1]]
    assert resolved["type"] == "object"
    assert "OpenAPI 3.1" in resolved["description"]
    validator = jsonschema.Draft202012Validator  # OpenAPI 3.1's dialect
    validator.check_schema(schema)
    validator(schema).validate(response.json)
    with pytest.raises(jsonschema.ValidationError):  # what it used to say it was
        validator(schema).validate(json.dumps(response.json))
    with pytest.raises(jsonschema.ValidationError):  # a 3.0 document is not it
        validator(schema).validate({**response.json, "openapi": "3.0.3"})


def test_only_text_is_described_as_a_bare_string(document):
    """A JSON answer has its model's schema; ``{"type": "string"}``
    fits only a body that is text as sent (the CSV export, the docs page)."""
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                for media_type, content in answer.get("content", {}).items():
                    if content["schema"] == {"type": "string"}:
                        assert not media_type.endswith("json"), (path, method, status)
