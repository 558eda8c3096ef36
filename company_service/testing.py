"""Test support shared by tests/, bench/ and fuzz/: not an API.

The app, throw-away databases (built by the migrations) and the real server.
It imports neither pytest nor webtest, and takes every ini as an argument.
"""

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

import plaster
from alembic import command
from alembic.config import Config as AlembicConfig
from pyramid.paster import get_appsettings
from pyramid.router import Router
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    delete,
    func,
    insert,
    select,
    update,
)

from company_service import main
from company_service.models import ApiToken, Department, Employee, IdempotencyKey
from company_service.tokens import hash_token, new_token

# The checkout, with its ini files, under the editable install.
ROOT = Path(__file__).resolve().parent.parent
# A str, not a Path: it is also a config URI and a command-line argument.
TESTING_INI = str(ROOT / "testing.ini")
PSERVE = Path(sys.executable).parent / "pserve"
# Not a secret: the live servers' shared cursor key, for tests and benchmarks.
LIVE_SERVER_CURSOR_SECRET = "live-server-not-secret"  # noqa: S105


# --- the app -------------------------------------------------------------------


def app_settings_from(
    ini: str | Path, database_url: str, **overrides: str
) -> dict[str, Any]:
    """``ini``'s app settings on the database at ``database_url``."""
    settings = dict(get_appsettings(str(ini)))
    return {**settings, "sqlalchemy.url": database_url, **overrides}


def make_app(app_settings: dict[str, Any], **overrides: Any) -> Router:
    return main({}, **{**app_settings, **overrides})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the database --------------------------------------------------------------


def chosen_database_url(directory: Path) -> str:
    """``TEST_DATABASE_URL`` when set, else a SQLite file in ``directory``."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{directory / 'test.db'}"


def alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", "company_service:alembic")
    config.attributes["connection"] = connection
    return config


def rebuild_schema(engine: Engine) -> None:
    """Drop whatever is there and run every migration."""
    existing = MetaData()
    existing.reflect(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        if "employees" in existing.tables:
            # The self-reference would otherwise stop the drop on MariaDB.
            connection.execute(
                update(existing.tables["employees"]).values(manager_id=None)
            )
        existing.drop_all(connection)
    with engine.connect() as connection:  # the migrations begin their own
        command.upgrade(alembic_config(connection), "head")


def delete_all_rows(engine: Engine) -> None:
    """Empty every table: the committing tests leave real rows behind."""
    with engine.begin() as connection:
        connection.execute(update(Employee).values(manager_id=None))
        for model in (IdempotencyKey, Employee, Department, ApiToken):
            connection.execute(delete(model))


def count_rows(engine: Engine, model: type, *where: ColumnElement[bool]) -> int:
    """Count through a connection of its own: what another client would see."""
    with engine.connect() as connection:
        counted = connection.scalar(
            select(func.count()).select_from(model).where(*where)
        )
        return counted or 0


def store_token(connection: Connection, role: str, name: str | None = None) -> str:
    token = new_token()
    connection.execute(
        insert(ApiToken).values(
            name=name or f"{role}-{token[:8]}",
            role=role,
            token_hash=hash_token(token),
            created_at=func.now(),
        )
    )
    return token


@contextmanager
def committed(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection


# --- the real server -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage  # header names in any case
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
    """The server process, for callers that signal it themselves."""

    popen: "subprocess.Popen[bytes] | None" = None


@contextmanager
def live_server(
    ini: Path,
    database_url: str,
    workdir: Path,
    app_options: dict[str, str] | None = None,
    server_options: dict[str, str] | None = None,
    process: Process | None = None,
    pythonpath: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[LiveServer]:
    """``pserve`` on ``port`` (else a free one) with ``ini``'s sections plus
    the options given; it imports what the caller can (``sys.path``, after
    ``pythonpath``). Every server trusts ``127.0.0.1`` and shares one cursor
    secret, so a cursor from one is valid in the next."""
    port = port or free_port()
    config = workdir / f"server-{port}.ini"
    app_options = {
        "api.trusted_hosts": "127.0.0.1",
        "api.cursor_secret": LIVE_SERVER_CURSOR_SECRET,
        **(app_options or {}),
    }
    app_lines = "".join(f"{k} = {v}\n" for k, v in app_options.items())
    server_lines = "".join(f"{k} = {v}\n" for k, v in (server_options or {}).items())
    # waitress takes listen, or host and port, never both.
    if "listen" in plaster.get_settings(str(ini), "server:main"):
        address = f"listen = 127.0.0.1:{port}\n"
    else:
        address = f"host = 127.0.0.1\nport = {port}\n"
    config.write_text(
        f"[app:main]\nuse = config:{ini}#main\n{app_lines}\n"
        f"[server:main]\nuse = config:{ini}#main\n{address}{server_lines}"
    )
    log_path = workdir / f"server-{port}.log"
    log = log_path.open("wb")  # a pipe nobody reads would fill
    search_path = os.pathsep.join([*pythonpath, *(e for e in sys.path if e)])
    popen = subprocess.Popen(  # noqa: S603 (this venv's pserve, our own ini)
        [str(PSERVE), str(config)],
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": search_path},
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
                output = log_path.read_text()
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
