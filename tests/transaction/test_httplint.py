"""Every kind of response the real server sends, checked by an HTTP linter.

A named list of requests covers each route and method, and each status class
the service answers (2xx, 304, 4xx, and 503 from a second server whose
database is down). They go over a socket to the real waitress, and
``httplint`` (Mark Nottingham's linter for HTTP messages) reads each response
as it came: status line, header fields in order, content. It is told the
request too, so a HEAD response or a 304 without content is judged as such.

No note may be BAD. A WARN note is either fixed in
the service or listed in ``ALLOWED_WARNINGS`` below with the reason it stays:
the test fails on any BAD or WARN not listed, so a new one is seen, not
drifted into.
"""

import http.client
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from httplint import HttpRequestLinter, HttpResponseLinter, Note, levels
from sqlalchemy import Engine

from company_service.testing import (
    ROOT,
    LiveServer,
    bearer,
    committed,
    live_server,
    store_token,
)

API = "/api/v1"
DOWN = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1

# note name -> why the service keeps answering so.
ALLOWED_WARNINGS: dict[str, str] = {
    "STATUS_BAD_REQUEST": (
        "httplint warns on every 400 that the server did not understand the"
        " request; here that is the point: the request's JSON is malformed."
    ),
}


@dataclass
class Exchange:
    """One request and the response as it came off the socket."""

    name: str
    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    version: bytes = b""
    status: int = 0
    reason: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def send(
    server: LiveServer,
    name: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Exchange:
    """Send one request on its own connection; keep the response unparsed
    beyond its framing (http.client removes only the chunked coding)."""
    headers = {"User-Agent": "httplint-test", **(headers or {})}
    payload = raw if raw is not None else b""
    if body is not None:
        payload = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    exchange = Exchange(name, method, path, headers, payload)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request(method, path, body=payload or None, headers=headers)
        response = connection.getresponse()
        exchange.version = b"HTTP/1.1" if response.version == 11 else b"HTTP/1.0"
        exchange.status = response.status
        exchange.reason = response.reason.encode("latin-1")
        exchange.headers = response.getheaders()
        exchange.body = response.read()
    finally:
        connection.close()
    return exchange


def walk(notes: list[Note]) -> Iterator[Note]:
    for note in notes:
        yield note
        yield from walk(note.subnotes)


def lint(exchange: Exchange) -> list[tuple[str, levels, str]]:
    """httplint's notes on the response: (note name, level, summary)."""
    request = HttpRequestLinter()
    request.process_request_topline(
        exchange.method.encode(), exchange.path.encode(), b"HTTP/1.1"
    )
    request.process_headers(
        [(k.encode(), v.encode()) for k, v in exchange.request_headers.items()]
    )
    request.feed_content(exchange.request_body)
    request.finish_content(True)

    response = HttpResponseLinter()
    response.request = request
    response.is_head_response = exchange.method == "HEAD"
    response.process_response_topline(
        exchange.version, str(exchange.status).encode(), exchange.reason
    )
    response.process_headers(
        [(k.encode("latin-1"), v.encode("latin-1")) for k, v in exchange.headers]
    )
    response.feed_content(exchange.body)
    response.finish_content(True)
    return [
        (type(note).__name__, note.level, str(note.summary))
        for note in walk(list(response.notes))
    ]


def conversation(server: LiveServer, editor: str, reader: str) -> list[Exchange]:
    """The named requests, in an order that makes each one's fixtures."""
    auth = bearer(editor)
    done: list[Exchange] = []

    def go(*args: Any, expect: int, **kwargs: Any) -> Exchange:
        exchange = send(server, *args, **kwargs)
        assert exchange.status == expect, (
            exchange.name,
            exchange.status,
            exchange.body,
        )
        done.append(exchange)
        return exchange

    go("healthz", "GET", "/healthz", expect=200)
    go("healthz HEAD", "HEAD", "/healthz", expect=200)
    go("readyz", "GET", "/readyz", expect=200)
    go("openapi", "GET", f"{API}/openapi.json", expect=200)
    go("docs", "GET", f"{API}/docs", expect=200)
    go("docs css", "GET", f"{API}/docs/static/swagger-ui.css", expect=200)

    def every_method(
        kind: str, collection: str, body: dict, spare: dict, patch: dict
    ) -> tuple[str, Exchange]:
        """POST, GET, HEAD (and a 304), PUT and PATCH on a new item of
        ``collection``, GET and HEAD on the collection, DELETE of a spare
        item. The item's path, and its POST."""
        made = go(f"POST {kind}", "POST", collection, body, auth, expect=201)
        item = f"{collection}/{made.json['id']}"
        extra = go(f"POST spare {kind}", "POST", collection, spare, auth, expect=201)
        go(f"GET {kind}s", "GET", collection, headers=auth, expect=200)
        go(f"HEAD {kind}s", "HEAD", collection, headers=auth, expect=200)
        got = go(f"GET {kind}", "GET", item, headers=auth, expect=200)
        go(f"HEAD {kind}", "HEAD", item, headers=auth, expect=200)
        tag = {"If-None-Match": got.header("ETag")}
        go(f"GET {kind} 304", "GET", item, headers={**auth, **tag}, expect=304)
        go(f"PUT {kind}", "PUT", item, body, auth, expect=200)
        go(f"PATCH {kind}", "PATCH", item, patch, auth, expect=200)
        gone = f"{collection}/{extra.json['id']}"
        go(f"DELETE {kind}", "DELETE", gone, headers=auth, expect=204)
        return item, made

    departments = f"{API}/departments"
    department, made = every_method(
        "department",
        departments,
        {"name": "Lint"},
        {"name": "Spare"},
        {"name": "Lint3"},
    )
    go(
        "GET department employees",
        "GET",
        f"{department}/employees",
        headers=auth,
        expect=200,
    )

    employees = f"{API}/employees"
    person = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@lint.example",
        "title": "Engineer",
        "hire_date": "2024-03-01",
        "salary": "98000.00",
        "department_id": made.json["id"],
    }
    other = {**person, "email": "spare@lint.example"}
    employee, _ = every_method("employee", employees, person, other, {"title": "Lead"})
    go("reports", "GET", f"{employee}/reports", headers=auth, expect=200)
    go("chain", "GET", f"{employee}/chain", headers=auth, expect=200)
    go("stats", "GET", f"{API}/stats/departments", headers=auth, expect=200)
    go("csv", "GET", f"{API}/employees.csv", headers=auth, expect=200)
    go("csv HEAD", "HEAD", f"{API}/employees.csv", headers=auth, expect=200)
    batch = {
        "items": [
            {**person, "email": f"bulk{i}@lint.example", "department_id": None}
            for i in range(3)
        ]
    }
    go("bulk", "POST", f"{employees}/bulk", batch, auth, expect=200)
    go("raise", "POST", f"{department}/raise", {"percent": "5"}, auth, expect=200)

    # 4xx
    json_auth = {**auth, "Content-Type": "application/json"}
    go("400 malformed", "POST", departments, None, json_auth, raw=b"{", expect=400)
    go("401 no token", "GET", departments, expect=401)
    go("403 reader", "POST", departments, {"name": "No"}, bearer(reader), expect=403)
    go("404", "GET", f"{departments}/999999", headers=auth, expect=404)
    go("404 no route", "GET", f"{API}/nowhere", expect=404)
    go("405", "POST", "/healthz", expect=405)
    go("409", "POST", departments, {"name": "Lint3"}, auth, expect=409)
    stale = {**auth, "If-Match": '"999"'}
    go("412", "PUT", department, {"name": "Stale"}, stale, expect=412)
    big = b'{"name": "' + b"x" * 1_100_000 + b'"}'
    go("413", "POST", departments, None, json_auth, raw=big, expect=413)
    text = {**auth, "Content-Type": "text/plain"}
    go("415", "POST", departments, None, text, raw=b"name", expect=415)
    go("422", "POST", departments, {"name": ""}, auth, expect=422)
    return done


@pytest.fixture(scope="module")
def down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second real server whose database does not answer: the way to a 503."""
    workdir: Path = tmp_path_factory.mktemp("down")
    with live_server(ROOT / "development.ini", DOWN, workdir) as running:
        yield running


def test_every_response_passes_the_http_linter(
    server: LiveServer, down_server: LiveServer, clean_database: Engine
) -> None:
    with committed(clean_database) as connection:
        editor = store_token(connection, "editor")
        reader = store_token(connection, "reader")
    exchanges = conversation(server, editor, reader)
    for name, path in [("503 readyz", "/readyz"), ("503 API", f"{API}/employees")]:
        exchange = send(down_server, name, "GET", path, headers=bearer("A" * 43))
        assert exchange.status == 503, (name, exchange.status, exchange.body)
        exchanges.append(exchange)

    levels_seen: Counter[str] = Counter()
    bad: dict[tuple[str, str], str] = {}
    warned: dict[str, list[str]] = {}
    for exchange in exchanges:
        for note, level, summary in lint(exchange):
            levels_seen[level.name] += 1
            if level is levels.BAD:
                bad[(exchange.name, note)] = summary
            elif level is levels.WARN:
                warned.setdefault(note, []).append(f"{exchange.name}: {summary}")
    print(
        f"\nhttplint: {len(exchanges)} responses linted; notes by level: "
        + ", ".join(f"{k}={v}" for k, v in sorted(levels_seen.items()))
    )
    for note, where in sorted(warned.items()):
        print(f"  WARN {note} ({len(where)}): {where[0]}")
    for (name, note), summary in sorted(bad.items()):
        print(f"  BAD {note}: {name}: {summary}")
    assert bad == {}
    unexplained = {k: v for k, v in warned.items() if k not in ALLOWED_WARNINGS}
    assert unexplained == {}
