"""Fixtures: one database per run, built by the migrations.

Two harnesses, as docs/DESIGN.md describes:

- ``testapp`` runs each test inside a connection-level transaction that is
  rolled back afterwards; the app's ``request.dbsession`` is a session on
  that connection, so tests are isolated and fast. It never commits.
- ``real_app`` goes through pyramid_tm's real commit/abort path on the same
  database; ``clean_database`` empties the tables after each such test. Only
  this harness can see the commit veto, retries and commit-time errors.

``TEST_DATABASE_URL`` picks the database (default: a temporary SQLite file).
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
import webtest
from pyramid.paster import get_appsettings
from pyramid.router import Router
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from company_service import main
from company_service.db import make_engine, register_session

from .support.db import delete_all_rows, rebuild_schema, store_token
from .support.server import LiveServer, live_server

# The tests choose the database; a developer's DATABASE_URL must not leak in.
os.environ.pop("DATABASE_URL", None)

ROOT = Path(__file__).resolve().parent.parent
TESTING_INI = str(ROOT / "testing.ini")
PROBES = "tests.support.probes"


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {os.environ.get('TEST_DATABASE_URL') or 'temporary SQLite file'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app_settings(database_url: str) -> dict[str, Any]:
    settings = dict(get_appsettings(TESTING_INI))
    settings["sqlalchemy.url"] = database_url
    settings["pyramid.includes"] = PROBES
    return settings


@pytest.fixture(scope="session")
def engine(app_settings: dict[str, Any]) -> Iterator[Engine]:
    engine = make_engine(app_settings)
    rebuild_schema(engine)
    yield engine
    engine.dispose()


def make_app(app_settings: dict[str, Any], **overrides: Any) -> Router:
    return main({}, **{**app_settings, **overrides})


@pytest.fixture(scope="session")
def app(app_settings: dict[str, Any], engine: Engine) -> Router:
    return make_app(app_settings)


# --- the rolled-back harness -------------------------------------------------


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def tm() -> Iterator[transaction.TransactionManager]:
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    manager.doom()  # whatever a test does, this transaction cannot commit
    yield manager
    manager.abort()


@pytest.fixture
def dbsession(connection: Connection, tm: transaction.TransactionManager) -> Session:
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    register_session(session, tm)
    return session


@pytest.fixture
def testapp(
    app: Router, tm: transaction.TransactionManager, dbsession: Session
) -> webtest.TestApp:
    return webtest.TestApp(
        app,
        extra_environ={
            "HTTP_HOST": "example.com",
            "tm.active": True,  # pyramid_tm steps aside: the test owns the transaction
            "tm.manager": tm,
            "app.dbsession": dbsession,
        },
    )


@pytest.fixture
def editor_token(connection: Connection) -> str:
    return store_token(connection, "editor")


@pytest.fixture
def reader_token(connection: Connection) -> str:
    return store_token(connection, "reader")


# --- the real commit path ----------------------------------------------------


@pytest.fixture
def clean_database(engine: Engine) -> Iterator[Engine]:
    delete_all_rows(engine)
    yield engine
    delete_all_rows(engine)


@pytest.fixture
def real_app(app: Router, clean_database: Engine) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})


@pytest.fixture
def committed_editor_token(clean_database: Engine) -> str:
    with clean_database.begin() as connection:
        return store_token(connection, "editor")


@pytest.fixture(scope="session")
def server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real waitress, started by pserve from development.ini, on a free port."""
    workdir = tmp_path_factory.mktemp("server")
    with live_server(ROOT / "development.ini", database_url, workdir) as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
