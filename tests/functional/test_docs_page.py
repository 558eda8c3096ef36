"""The docs page, and the only files of Swagger UI's bundle it is served with.

The page loads Swagger UI's script and stylesheet from the service itself (no
CDN), and nothing else of the bundle is served: not its stock index.html, not
the swagger-initializer.js that renders another host's document, not a
directory index. Those answer 404 like any unknown address.
"""

import re
from email.utils import format_datetime, parsedate_to_datetime

import pytest
import webtest
from swagger_ui_bundle import swagger_ui_path

from company_service.routes import DOCS_ASSETS, DOCS_STATIC

PAGE = "/api/v1/docs"


@pytest.fixture(scope="module")
def client(app) -> webtest.TestApp:
    return webtest.TestApp(app)


def referenced(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*)"', html)


def test_the_page_is_html_that_loads_only_the_served_assets(client):
    page = client.get(PAGE)
    assert page.status_int == 200
    assert page.content_type == "text/html"
    assert page.charset.lower() == "utf-8"
    assert "http" not in page.text.replace("http-equiv", ""), "no absolute URLs, no CDN"
    assert sorted(referenced(page.text)) == sorted(
        f"{DOCS_STATIC}/{name}" for name in DOCS_ASSETS
    )
    assert 'url: "/api/v1/openapi.json"' in page.text, "this service's document"


def test_the_page_links_below_the_mount_point(app):
    """Behind a proxy that mounts the service under a prefix, so are its links."""
    page = webtest.TestApp(app).get(PAGE, extra_environ={"SCRIPT_NAME": "/company"})
    assert all(url.startswith("/company/api/v1/") for url in referenced(page.text))
    assert 'url: "/company/api/v1/openapi.json"' in page.text


@pytest.mark.parametrize("name", sorted(DOCS_ASSETS))
def test_each_asset_the_page_loads_is_served_from_the_package(client, name):
    response = client.get(f"{DOCS_STATIC}/{name}")
    assert response.status_int == 200
    assert response.content_type == DOCS_ASSETS[name]
    assert response.body == (swagger_ui_path / name).read_bytes()
    assert response.headers["Cache-Control"] == "max-age=3600"
    assert client.head(f"{DOCS_STATIC}/{name}").status_int == 200
    assert client.get(f"{DOCS_STATIC}/{name}?v=5").status_int == 200, "cache busting"


def test_an_unchanged_asset_is_revalidated_with_a_304(client):
    name = "swagger-ui-bundle.js"
    since = client.get(f"{DOCS_STATIC}/{name}").headers["Last-Modified"]
    later = format_datetime(parsedate_to_datetime(since), usegmt=True)
    response = client.get(
        f"{DOCS_STATIC}/{name}", headers={"If-Modified-Since": later}, status=304
    )
    assert response.body == b""


@pytest.mark.parametrize(
    "path",
    [
        f"{DOCS_STATIC}/",
        DOCS_STATIC,
        f"{DOCS_STATIC}/index.html",
        f"{DOCS_STATIC}/swagger-initializer.js",
        f"{DOCS_STATIC}/index.css",
        f"{DOCS_STATIC}/oauth2-redirect.html",
        f"{DOCS_STATIC}/swagger-ui.js",
        f"{DOCS_STATIC}/swagger-ui-standalone-preset.js",
        f"{DOCS_STATIC}/swagger-ui-bundle.js.map",
        f"{DOCS_STATIC}/favicon-32x32.png",
        f"{DOCS_STATIC}/swagger-ui.css/",
        f"{DOCS_STATIC}/Swagger-UI.css",
        f"{DOCS_STATIC}/%2e%2e/openapi.json",
        f"{DOCS_STATIC}/./swagger-initializer.js",
    ],
)
def test_nothing_else_of_the_bundle_is_served(client, path):
    response = client.get(path, status=404)
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 404


def test_the_bundle_still_ships_what_is_not_served(client):
    """The 404s above are the route's doing, not files missing from the package."""
    for name in ("index.html", "swagger-initializer.js", *DOCS_ASSETS):
        assert (swagger_ui_path / name).is_file(), name


def test_an_asset_answers_only_get_and_head(client):
    response = client.post(f"{DOCS_STATIC}/swagger-ui.css", status=405)
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.content_type == "application/problem+json"


def test_the_assets_are_no_operation_of_the_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith(DOCS_STATIC)]
