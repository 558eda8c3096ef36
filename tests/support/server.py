"""Running the real server: pserve with development.ini's app and waitress settings."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PSERVE = Path(sys.executable).parent / "pserve"
ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Any  # http.client.HTTPMessage: header names in any case
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.msg, response.read())
        finally:
            connection.close()


@dataclass
class Process:
    """The server process, for tests that signal it themselves."""

    popen: subprocess.Popen | None = None


@contextmanager
def live_server(
    ini: Path,
    database_url: str,
    workdir: Path,
    app_options: dict[str, str] | None = None,
    server_options: dict[str, str] | None = None,
    process: Process | None = None,
) -> Iterator[LiveServer]:
    """Start ``pserve`` on a free port with ``ini``'s app and server sections,
    plus any options given (e.g. the test probes for the app)."""
    port = free_port()
    config = workdir / f"server-{port}.ini"
    app_lines = "".join(f"{k} = {v}\n" for k, v in (app_options or {}).items())
    server_lines = "".join(f"{k} = {v}\n" for k, v in (server_options or {}).items())
    config.write_text(
        f"[app:main]\nuse = config:{ini}#main\n{app_lines}\n"
        f"[server:main]\nuse = config:{ini}#main\nlisten = 127.0.0.1:{port}\n"
        f"{server_lines}"
    )
    log = (workdir / f"server-{port}.log").open("wb")  # a pipe nobody reads would fill
    popen = subprocess.Popen(
        [str(PSERVE), str(config)],
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    if process is not None:
        process.popen = popen
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if popen.poll() is not None or time.monotonic() > deadline:
                popen.kill()
                log.close()
                output = (workdir / f"server-{port}.log").read_text()
                raise RuntimeError(f"server did not start: {output}") from None
            time.sleep(0.1)
    try:
        yield LiveServer("127.0.0.1", port)
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            popen.kill()
        log.close()
