"""Fixtures: one database per run, built by the migrations.

Two harnesses, as docs/DESIGN.md describes:

- ``testapp`` runs each test inside a connection-level transaction that is
  rolled back afterwards; the app's ``request.dbsession`` is a session on
  that connection, so tests are isolated and fast. It never commits.
- ``real_app`` goes through pyramid_tm's real commit/abort path on the same
  database; ``clean_database`` empties the tables after each such test. Only
  this harness can see the commit veto, retries and commit-time errors.

``TEST_DATABASE_URL`` picks the database (default: a temporary SQLite file).
The helpers the fixtures are built on, and that tests import, are in
:mod:`company_service.testing`, shared with bench/ and fuzz/; test files
import nothing from here.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
import webtest
import zope.sqlalchemy
from pyramid.router import Router
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from company_service.db import make_engine
from company_service.testing import (
    ROOT,
    TESTING_INI,
    LiveServer,
    app_settings_from,
    bearer,
    chosen_database_url,
    delete_all_rows,
    live_server,
    make_app,
    rebuild_schema,
    store_token,
)
from tests.support.company import make_company
from tests.support.factories import rows_in

# The tests choose the database; a developer's DATABASE_URL must not leak in.
os.environ.pop("DATABASE_URL", None)

PROBES = "tests.support.probes"


CLUSTER_TESTS = Path(__file__).parent / "cluster"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/cluster start clusters of their own and take minutes: they run
    only when named (``make test-cluster``), never as part of ``make test``."""
    if collection_path != CLUSTER_TESTS:
        return None
    named = (Path(arg.split("::")[0]).resolve() for arg in config.args)
    return not any(p == CLUSTER_TESTS or CLUSTER_TESTS in p.parents for p in named)


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {os.environ.get('TEST_DATABASE_URL') or 'temporary SQLite file'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return chosen_database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app_settings(database_url: str) -> dict[str, Any]:
    return app_settings_from(TESTING_INI, database_url, **{"pyramid.includes": PROBES})


@pytest.fixture(scope="session")
def engine(app_settings: dict[str, Any]) -> Iterator[Engine]:
    engine = make_engine(app_settings)
    rebuild_schema(engine)
    yield engine
    engine.dispose()


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
def dbsession(
    connection: Connection, tm: transaction.TransactionManager
) -> Iterator[Session]:
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    # As the app's factory is registered (db.includeme), but with this test's
    # own manager: zope.sqlalchemy's documented per-session form.
    zope.sqlalchemy.register(session, initial_state="changed", transaction_manager=tm)
    with rows_in(session):  # the test's factories write here
        yield session


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


@pytest.fixture
def editor(editor_token: str) -> dict[str, str]:
    """The headers of a request made by an editor."""
    return bearer(editor_token)


@pytest.fixture
def reader(reader_token: str) -> dict[str, str]:
    """The headers of a request made by a reader."""
    return bearer(reader_token)


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


@pytest.fixture
def company(
    real_app: webtest.TestApp, committed_editor_token: str
) -> tuple[dict[str, str], Any]:
    """An editor's headers, and the sample company made through the API and
    committed."""
    headers = bearer(committed_editor_token)
    return headers, make_company(real_app, headers)


@pytest.fixture(scope="session")
def server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real waitress, started by pserve from development.ini, on a free port."""
    workdir = tmp_path_factory.mktemp("server")
    with live_server(ROOT / "development.ini", database_url, workdir) as running:
        yield running
