"""The OpenAPI document: valid 3.1, open, and exactly the routes that are served."""

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


def test_the_docs_page_and_its_assets_are_served_here(plain_app):
    client = webtest.TestApp(plain_app)
    page = client.get("/api/v1/docs")
    assert page.content_type == "text/html"
    assert "http" not in page.text.replace("http-equiv", ""), "no absolute URLs, no CDN"
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert asset in page.text
        assert client.get(f"/api/v1/docs/static/{asset}").status_int == 200
