"""CORS: off by default; for listed origins, preflight answers and exposed headers."""

import pytest
import webtest

from company_service.db import dispose_engines
from company_service.testing import make_app

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def cors_app(app_settings, engine):
    app = make_app(
        app_settings, **{"cors.allow_origins": f"{ORIGIN} https://other.example"}
    )
    yield webtest.TestApp(app)
    dispose_engines(app.registry)


def test_off_by_default(testapp):
    answer = testapp.get("/healthz", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_preflight_names_the_routes_methods_without_a_token(cors_app):
    answer = cors_app.options(
        "/api/v1/employees/1",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"},
    )
    assert answer.status_int == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert set(answer.headers["Access-Control-Allow-Methods"].split(", ")) == {
        "GET", "HEAD", "PUT", "PATCH", "DELETE",
    }  # fmt: skip
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert "If-Match" in answer.headers["Access-Control-Allow-Headers"]


def test_responses_to_a_listed_origin_expose_the_contract_headers(cors_app):
    answer = cors_app.get("/api/v1/employees", headers={"Origin": ORIGIN}, status=401)
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = set(answer.headers["Access-Control-Expose-Headers"].split(", "))
    assert exposed == {"Consistency-Token", "ETag", "Link", "Location", "X-Request-ID"}
    assert "Origin" in answer.headers["Vary"]


def test_an_unlisted_origin_gets_no_cors_headers(cors_app):
    answer = cors_app.options(
        "/api/v1/employees",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET",
        },
        status=405,
    )
    assert "Access-Control-Allow-Origin" not in answer.headers
