"""``api.trusted_hosts``: a Host the service does not answer for gets 400, so no
URL it writes (``Location``, ``Link``) names a host a client made up.

testing.ini lists ``example.com localhost 127.0.0.1 [::1]``; the ``testapp``
harness sends ``Host: example.com``.
"""

import configparser
import socket

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import ITweens
from pyramid.settings import aslist
from sqlalchemy import func, select
from webob import Request

from company_service.db import dispose_engines
from company_service.hosts import (
    DEFAULT_TRUSTED_HOSTS,
    HOSTS_TWEEN,
    host_name,
    trusted_hosts,
)
from company_service.models import Department
from company_service.request_id import STANDARD_HEADERS_TWEEN
from company_service.testing import ROOT, bearer, make_app
from tests.support.api import problem

DEPARTMENTS = "/api/v1/departments"
EVIL = "evil.example:99"


def departments(connection) -> int:
    return connection.scalar(select(func.count()).select_from(Department))


def assert_refused(response) -> None:
    body = problem(response, 400)
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "evil" not in response.text
    assert "Location" not in response.headers and "Link" not in response.headers


def raw(app, path: str, **environ: str | None):
    """Call the app with exactly this environ: a key given as None is left out."""
    request = Request.blank(path)
    for key, value in environ.items():
        if value is None:
            request.environ.pop(key, None)
        else:
            request.environ[key] = value
    return request.get_response(app)


# --- refused -------------------------------------------------------------------


def test_an_untrusted_host_gets_400_problem_with_the_standard_headers(
    testapp, reader_token
):
    response = testapp.get(
        DEPARTMENTS,
        headers={**bearer(reader_token), "X-Request-ID": "host-1"},
        extra_environ={"HTTP_HOST": EVIL},
        status=400,
    )
    assert_refused(response)
    assert response.headers["X-Request-ID"] == "host-1"


def test_an_untrusted_host_writes_nothing(testapp, editor_token, connection):
    before = departments(connection)
    response = testapp.post_json(
        DEPARTMENTS,
        {"name": "Elsewhere"},
        headers=bearer(editor_token),
        extra_environ={"HTTP_HOST": EVIL},
        status=400,
    )
    assert_refused(response)
    assert departments(connection) == before


def test_the_host_is_checked_before_the_token(testapp):
    response = testapp.get(DEPARTMENTS, extra_environ={"HTTP_HOST": EVIL}, status=400)
    assert_refused(response)
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    "host",
    [
        "",  # empty
        "example.com:abc",  # not a port
        "example.com:80:80",
        "example.com, evil.example",  # two Host headers, joined
        "example.com@evil.example",
        "evil.example",
        "sub.example.com",  # a listed name's subdomain is another name
        "[::2]:80",
        "[::1",  # unclosed
        "[::1]x",
    ],
)
def test_malformed_or_unlisted_hosts_get_400(testapp, host):
    assert_refused(
        testapp.get(
            "/api/v1/openapi.json", extra_environ={"HTTP_HOST": host}, status=400
        )
    )


def test_an_http11_request_without_host_gets_400(app):
    response = raw(
        app, "/api/v1/openapi.json", HTTP_HOST=None, SERVER_PROTOCOL="HTTP/1.1"
    )
    assert_refused(response)


# --- answered ------------------------------------------------------------------


def test_a_trusted_host_with_a_port_writes_urls_with_it(testapp, editor_token):
    created = testapp.post_json(
        DEPARTMENTS,
        {"name": "Ported"},
        headers=bearer(editor_token),
        extra_environ={"HTTP_HOST": "example.com:8080"},
        status=201,
    )
    assert created.headers["Location"] == (
        f"http://example.com:8080{DEPARTMENTS}/{created.json['id']}"
    )


def test_the_location_of_a_created_item_names_the_trusted_host(testapp, editor_token):
    created = testapp.post_json(
        DEPARTMENTS, {"name": "Here"}, headers=bearer(editor_token), status=201
    )
    assert created.headers["Location"] == (
        f"http://example.com{DEPARTMENTS}/{created.json['id']}"
    )


def test_the_link_of_a_page_names_the_trusted_host(testapp, editor_token):
    for name in ("One", "Two"):
        testapp.post_json(DEPARTMENTS, {"name": name}, headers=bearer(editor_token))
    page = testapp.get(
        f"{DEPARTMENTS}?limit=1",
        headers=bearer(editor_token),
        extra_environ={"HTTP_HOST": "127.0.0.1:6543"},
    )
    assert page.headers["Link"].startswith(f"<http://127.0.0.1:6543{DEPARTMENTS}?")


@pytest.mark.parametrize(
    "host",
    ["EXAMPLE.com", "Example.COM:443", "LocalHost", "example.com.", "[::1]:6543"],
)
def test_names_match_case_insensitively_with_any_port(testapp, reader_token, host):
    response = testapp.get(
        DEPARTMENTS, headers=bearer(reader_token), extra_environ={"HTTP_HOST": host}
    )
    assert response.status_int == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.parametrize("host", [EVIL, "", None])
def test_health_routes_answer_any_host(app, path, host):
    response = raw(app, path, HTTP_HOST=host, SERVER_PROTOCOL="HTTP/1.1")
    assert response.status_int == 200
    assert "X-Request-ID" in response.headers


@pytest.mark.parametrize(
    ("server_name", "status"), [("localhost", 200), ("waitress.invalid", 400)]
)
def test_an_http10_request_without_host_is_checked_by_the_server_name(
    app, server_name, status
):
    """WebOb then builds URLs from SERVER_NAME (waitress's ``server_name``)."""
    response = raw(
        app,
        "/api/v1/openapi.json",
        HTTP_HOST=None,
        SERVER_PROTOCOL="HTTP/1.0",
        SERVER_NAME=server_name,
        SERVER_PORT="6543",
    )
    assert response.status_int == status


# --- the setting -----------------------------------------------------------------


def test_unset_it_is_what_make_run_is_reached_by():
    assert trusted_hosts({}) == {"localhost", "127.0.0.1", "[::1]"}
    assert aslist(DEFAULT_TRUSTED_HOSTS) == ["localhost", "127.0.0.1", "[::1]"]


def test_listed_names_are_normalized():
    assert trusted_hosts({"api.trusted_hosts": "API.Example.com.\n  [::1]"}) == {
        "api.example.com",
        "[::1]",
    }


@pytest.mark.parametrize("value", ["", "   ", "localhost:6543", "::1", "a b:1"])
def test_an_empty_list_or_a_port_stops_the_start(value):
    with pytest.raises(ConfigurationError, match=r"api\.trusted_hosts"):
        trusted_hosts({"api.trusted_hosts": value})


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("Example.COM", "example.com"),
        ("example.com:", "example.com"),
        ("example.com:8080", "example.com"),
        ("[::1]:80", "[::1]"),
        ("[::1]", "[::1]"),
        (":80", None),
        ("example.com:８０", None),  # fullwidth digits are no port
    ],
)
def test_host_name(host, name):
    assert host_name(host) == name


def test_a_custom_list_is_used(app_settings, engine):
    app = make_app(app_settings, **{"api.trusted_hosts": "api.example.org"})
    try:
        ours = raw(app, "/api/v1/openapi.json", HTTP_HOST="api.example.org:443")
        theirs = raw(app, "/api/v1/openapi.json", HTTP_HOST="example.com")
    finally:
        dispose_engines(app.registry)
    assert ours.status_int == 200
    assert theirs.status_int == 400


@pytest.mark.parametrize("cors", ["", "https://app.example"])
def test_the_check_sits_under_the_standard_headers_above_cors_and_the_transaction(
    app_settings, engine, cors
):
    app = make_app(app_settings, **{"cors.allow_origins": cors})
    try:
        tweens = [name for name, _ in app.registry.getUtility(ITweens).implicit()]
    finally:
        dispose_engines(app.registry)
    assert tweens[:2] == [STANDARD_HEADERS_TWEEN, HOSTS_TWEEN]
    assert tweens.index("pyramid_tm.tm_tween_factory") > 1
    if cors:
        # CORS stays above the exception view, whose answers it must see.
        cors_at = tweens.index("company_service.cors.cors_tween_factory")
        assert cors_at < tweens.index("pyramid.tweens.excview_tween_factory")


def test_production_ini_names_its_own_host():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "production.ini")
    listed = trusted_hosts(parser["app:main"])
    assert listed
    assert not listed & {"localhost", "127.0.0.1", "[::1]"}


# --- the real server -------------------------------------------------------------


def test_the_real_server_refuses_a_raw_untrusted_host(server):
    """waitress hands the app the Host as sent; nothing in between fixes it."""

    def send(path: str) -> tuple[str, dict[str, str]]:
        with socket.create_connection((server.host, server.port), timeout=30) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {EVIL}\r\n"
                "X-Request-ID: raw-host\r\nConnection: close\r\n\r\n".encode()
            )
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        head, _, _ = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status_line, headers

    status_line, headers = send(DEPARTMENTS)
    assert status_line.startswith("HTTP/1.1 400 ")
    assert headers["content-type"].startswith("application/problem+json")
    assert headers["x-request-id"] == "raw-host"
    assert headers["x-content-type-options"] == "nosniff"
    assert "location" not in headers
    status_line, _ = send("/healthz")
    assert status_line.startswith("HTTP/1.1 200 ")
