"""The request transaction: engines, the session factory, pyramid_tm and retries.

A view never commits: pyramid_tm commits below 400 and aborts otherwise;
pyramid_retry replays a request that lost a race. See docs/transactions.md.
"""

import os
import random
import sqlite3
import time
from collections.abc import Callable, Mapping
from typing import Any

import transaction
import transaction.interfaces
import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW
from pyramid_retry import IRetryableError
from sqlalchemy import Engine, engine_from_config, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from . import drivers

BACK_OFF_TWEEN = "company_service.db.back_off_tween_factory"


def database_url(settings: Mapping[str, Any]) -> str:
    """``DATABASE_URL`` wins over the ini, so one ini serves every database."""
    return os.environ.get("DATABASE_URL") or settings["sqlalchemy.url"]


def make_engine(
    settings: Mapping[str, Any],
    *,
    pre_ping: bool = False,
    isolation_level: str | None = None,
    address: str | None = None,
) -> Engine:
    """An engine from ``sqlalchemy.*`` and ``db.*`` settings; ``pre_ping`` only
    where a dead connection could not be replayed (the export)."""
    url = make_url(address or database_url(settings))
    # hide_parameters: bound values (token hashes, salaries) never reach logs.
    options: dict[str, Any] = {
        "url": url,
        "hide_parameters": True,
        "pool_pre_ping": pre_ping,
    }
    if url.get_backend_name() == "sqlite":
        busy_ms = int(settings.get("db.sqlite_busy_timeout_ms", 5000))
        options["connect_args"] = {"timeout": busy_ms / 1000}
    else:
        options["isolation_level"] = isolation_level or settings.get(
            "db.isolation_level", "REPEATABLE READ"
        )
        timeout = int(settings.get("db.connect_timeout_seconds", 5))
        statement_ms = int(settings.get("db.statement_timeout_ms", 5000))
        options["connect_args"] = {"connect_timeout": timeout}
        if url.get_backend_name() == "postgresql":
            options["connect_args"]["options"] = f"-c statement_timeout={statement_ms}"
        else:
            # Snapshot isolation: docs/transactions.md, "Why not REPEATABLE
            # READ for writes"; wsrep_sync_wait: docs/scaling.md, Galera.
            sync_wait = int(settings.get("db.wsrep_sync_wait", 0))
            options["connect_args"]["init_command"] = (
                f"SET SESSION max_statement_time = {statement_ms / 1000}, "
                "innodb_snapshot_isolation = ON"
                + (f", wsrep_sync_wait = {sync_wait}" if sync_wait else "")
            )
        options.setdefault("pool_timeout", timeout)
    engine = engine_from_config(dict(settings), "sqlalchemy.", **options)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, in_memory=url.database in (None, "", ":memory:"))
    return engine


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    """SQLAlchemy's pysqlite recipe: we emit BEGIN ourselves, so savepoints
    work and a writer takes the lock up front (``BEGIN IMMEDIATE``)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_writer"):
            # May wait for the lock and fail busy: through SQLAlchemy, so the
            # error arrives wrapped and the request is retried.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A deferred BEGIN takes no lock and cannot be busy: straight to
            # the driver, without the statement machinery every read would pay.
            connection.connection.dbapi_connection.execute("BEGIN")


def is_transient(exc: BaseException) -> bool:
    """True for errors that the same request, run again, may well not hit
    (zope.sqlalchemy's check misses commit-time and SQLite's, among others)."""
    if IRetryableError.providedBy(exc) or isinstance(
        exc, transaction.interfaces.TransientError | StaleDataError
    ):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated and exc.statement is not None:
        # A dropped pooled connection failed a statement: nothing committed.
        # A failed COMMIT has no statement and may have landed: not replayed.
        return True
    return drivers.lost_a_race(exc)


def is_unavailable(exc: BaseException) -> bool:
    """True when the database cannot answer now: down, restarting, or too slow.
    Not retried (the replay would wait out the same outage): a 503."""
    if isinstance(exc, SQLAlchemyTimeoutError):  # no pooled connection free in time
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return drivers.unavailable(exc)


# Environ keys: set by the ``writes`` view option; the test harness's session.
WRITES = "company_service.writes"
TEST_SESSION = "app.dbsession"


def choose_bind(
    registry: Registry, *, writes: bool, request: Request | None = None
) -> Engine:
    """The one place a session's database is chosen, by what it will do
    (docs/transactions.md, "Which database a session uses")."""
    engine: Engine = registry["db.writer_engine" if writes else "db.engine"]
    replicas = registry.get("db.replicas")
    if writes or replicas is None or request is None:
        return engine
    standby: Engine | None = replicas.bind_for(request)
    return standby or engine


def open_session(
    registry: Registry, *, writes: bool, request: Request | None = None
) -> Session:
    """A new session on the database ``choose_bind`` picks, joined to the
    thread's transaction manager whenever it begins."""
    session: Session = registry["dbsession_factory"](
        bind=choose_bind(registry, writes=writes, request=request)
    )
    return session


def request_dbsession(request: Request) -> Session:
    """The request's session (the test harness's, if it handed one in)."""
    session = request.environ.get(TEST_SESSION)
    if session is None:
        writes = request.environ.get(WRITES, False)
        session = open_session(request.registry, writes=writes, request=request)
    assert isinstance(session, Session)
    return session


def declared_writes(view: Any, info: Any) -> Any:
    """View deriver: a view declaring ``writes`` gets a writer's session."""
    if not info.options.get("writes"):
        return view

    def writing_view(context: Any, request: Request) -> Any:
        request.environ[WRITES] = True
        return view(context, request)

    return writing_view


declared_writes.options = ("writes",)  # type: ignore[attr-defined]


def thread_manager(request: Request) -> transaction.ThreadTransactionManager:
    """``tm.manager_hook``: the thread's manager, explicit, freed of what a
    failed commit left (docs/transactions.md, "Why once per factory, and one
    manager per thread")."""
    manager = transaction.manager
    manager.explicit = True
    try:
        manager.get()
    except transaction.interfaces.NoTransaction:
        return manager
    manager.abort()
    return manager


Handler = Callable[[Request], Response]


def back_off_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Jitter before a replayed attempt, doubling per attempt, so collided
    requests do not collide again in step."""
    base_seconds = float(registry.settings.get("retry.backoff_ms", 20)) / 1000

    def back_off_tween(request: Request) -> Response:
        attempt = request.environ.get("retry.attempt", 0)
        if attempt:
            limit = base_seconds * 2 ** (attempt - 1)
            time.sleep(random.uniform(0, limit))  # noqa: S311 (jitter)
        return handler(request)

    return back_off_tween


def dispose_engines(registry: Any) -> None:
    """Close every pool the app holds, standbys' included."""
    for name in ("db.engine", "db.writer_engine", "db.export_engine"):
        registry[name].dispose()
    replicas = registry.get("db.replicas")
    if replicas is not None:
        replicas.dispose()


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    settings["tm.manager_hook"] = thread_manager
    settings["tm.commit_veto"] = "pyramid_tm.default_commit_veto"
    # annotate_user would look the token up for every request, even /healthz.
    settings["tm.annotate_user"] = False
    settings.setdefault("retry.attempts", 3)

    engine = make_engine(settings)
    config.registry["db.engine"] = engine
    # Writers' pool: docs/transactions.md, "Which database a session uses".
    writer: Engine
    if engine.dialect.name == "sqlite":
        writer = engine.execution_options(sqlite_writer=True)
    else:
        writer = make_engine(
            settings,
            isolation_level=settings.get("db.writer_isolation_level", "READ COMMITTED"),
        )
    config.registry["db.writer_engine"] = writer
    factory = sessionmaker()
    # "changed": a text() or Core write commits too.
    zope.sqlalchemy.register(
        factory, initial_state="changed", transaction_manager=transaction.manager
    )
    config.registry["dbsession_factory"] = factory
    # Exports read for as long as the client downloads: no statement limit.
    config.registry["db.export_engine"] = make_engine(
        {**settings, "db.statement_timeout_ms": 0}, pre_ping=True
    )

    config.include("pyramid_retry")
    # pyramid_tm's includeme, less its request method (see request.py).
    config.add_tween("pyramid_tm.tm_tween_factory", over=EXCVIEW)
    config.add_tween(BACK_OFF_TWEEN, over="pyramid_tm.tm_tween_factory")
    config.add_view_deriver(declared_writes, name="writes")
    if settings.get("db.replica_url"):
        config.include(".replicas")
