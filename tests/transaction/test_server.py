"""The real thing: pserve runs waitress from development.ini; we use a socket."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PSERVE = Path(sys.executable).parent / "pserve"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(database_url, engine, tmp_path_factory) -> Iterator[tuple[str, int]]:
    """development.ini's app and waitress settings; only the address differs."""
    port = free_port()
    development = ROOT / "development.ini"
    ini = tmp_path_factory.mktemp("server") / "server.ini"
    ini.write_text(
        f"[app:main]\nuse = config:{development}#main\n\n"
        f"[server:main]\nuse = config:{development}#main\nlisten = 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [str(PSERVE), str(ini)],
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"server did not start: {process.stdout.read().decode()}")
            time.sleep(0.1)
    yield "127.0.0.1", port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def request(server, method: str, path: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection(*server, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.msg, response.read()  # msg: any-case names
    finally:
        connection.close()


def test_the_server_is_alive_and_ready(server):
    status, _, body = request(server, "GET", "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _, body = request(server, "GET", "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})


def test_the_server_answers_problems_and_request_ids(server):
    status, headers, body = request(
        server, "GET", "/api/v1/nowhere", {"X-Request-ID": "e2e-1"}
    )
    assert status == 404
    assert headers["Content-Type"].startswith("application/problem+json")
    assert headers["X-Request-ID"] == "e2e-1"
    assert json.loads(body)["request_id"] == "e2e-1"


def test_the_server_answers_405_with_allow(server):
    status, headers, _ = request(server, "POST", "/healthz")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
