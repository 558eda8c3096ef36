"""``/``: open, a JSON index whose links lead to the docs page, the OpenAPI
document and the health checks."""

from importlib.metadata import version
from urllib.parse import urlsplit


def test_the_index_needs_no_token_and_every_link_answers(testapp):
    index = testapp.get("/", status=200)
    assert index.content_type == "application/json"
    assert index.json["service"] == "company_service"
    assert index.json["version"] == version("company_service")
    links = {
        name: index.json[name] for name in ("docs", "openapi", "healthz", "readyz")
    }
    paths = {name: urlsplit(url).path for name, url in links.items()}
    assert paths == {
        "docs": "/api/v1/docs",
        "openapi": "/api/v1/openapi.json",
        "healthz": "/healthz",
        "readyz": "/readyz",
    }
    assert all(url.startswith("http://example.com/") for url in links.values())
    assert testapp.get(paths["docs"]).content_type == "text/html"
    document = testapp.get(paths["openapi"]).json
    assert document["paths"]["/"]["get"]["security"] == []
    assert testapp.get(paths["healthz"]).json == {"status": "ok"}
    assert testapp.get(paths["readyz"]).json["database"] == "ok"


def test_the_index_takes_no_query_string(testapp):
    answer = testapp.get("/?verbose=1", status=422)
    assert answer.json["errors"][0]["loc"] == ["query", "verbose"]
