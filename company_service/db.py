"""The request transaction: one engine per process, one session per request.

A view never commits. ``request.dbsession`` is joined to ``request.tm`` by
zope.sqlalchemy; pyramid_tm commits that transaction when the view returns a
response below 400 and aborts it otherwise; pyramid_retry replays a request
whose transaction lost a race (see :func:`is_transient`).
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
    """Build an engine from ``sqlalchemy.*`` and ``db.*`` settings.

    ``pre_ping`` tests a pooled connection before lending it: worth a round
    trip only where a dead connection could not be retried (the export,
    whose rows are read after its response has begun). ``isolation_level``
    overrides ``db.isolation_level``; it is set once per new connection, so
    a pool of its own costs no statement per request. ``address`` (a standby's URL)
    overrides the database's.
    """
    url = make_url(address or database_url(settings))
    # hide_parameters: with SQL logging on, bound values (a token's hash, an
    # employee's salary) still never reach the logs. No pool_pre_ping: it
    # costs every request a round trip; a connection found dead by its first
    # statement is retried instead (see is_transient).
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
        # An unreachable server fails fast instead of hanging a request, and
        # no statement runs longer than db.statement_timeout_ms (0: no limit).
        timeout = int(settings.get("db.connect_timeout_seconds", 5))
        statement_ms = int(settings.get("db.statement_timeout_ms", 5000))
        options["connect_args"] = {"connect_timeout": timeout}
        if url.get_backend_name() == "postgresql":
            options["connect_args"]["options"] = f"-c statement_timeout={statement_ms}"
        else:
            # MariaDB counts max_statement_time in seconds. Snapshot isolation:
            # without it, a REPEATABLE READ transaction may lock (and write) a
            # row that changed after its snapshot and decide on the stale
            # values it read before; with it, that lock fails (error 1020) and
            # the request is retried, as PostgreSQL's REPEATABLE READ does
            # with a serialization failure. See docs/transactions.md.
            # db.wsrep_sync_wait (Galera): 1 makes each read wait until this
            # node has applied every write the cluster had committed when the
            # read began, so a read after a write through another node sees
            # it. A plain server has the variable and ignores it (wsrep off).
            # See docs/scaling.md, section Galera.
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
    """SQLAlchemy's pysqlite recipe: we emit BEGIN ourselves.

    pysqlite's own transaction handling starts transactions late and never
    for savepoints; taking it over makes savepoints work and lets a writer
    take the write lock up front with ``BEGIN IMMEDIATE``, so two writers
    queue on the busy timeout instead of deadlocking half-way through.
    """

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
        writer = connection.get_execution_options().get("sqlite_writer")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def is_transient(exc: BaseException) -> bool:
    """True for errors that the same request, run again, may well not hit.

    zope.sqlalchemy already recognises PostgreSQL's class 40 and MySQL's
    deadlock, but only while the transaction is still open; errors raised at
    commit time, SQLite's "database is locked" and MariaDB's lock wait
    timeout need this check of our own.
    """
    if IRetryableError.providedBy(exc) or isinstance(
        exc, transaction.interfaces.TransientError | StaleDataError
    ):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated and exc.statement is not None:
        # A pooled connection the server dropped (it restarted, or timed the
        # connection out) failed a statement: nothing of this transaction can
        # have committed, and SQLAlchemy has emptied the pool of connections
        # as old, so the next attempt connects afresh. A failed COMMIT has no
        # statement: its outcome is unknown, so it is never replayed.
        return True
    return drivers.lost_a_race(exc)


def is_unavailable(exc: BaseException) -> bool:
    """True when the database cannot answer now: down, restarting, or too slow.

    Not retried (a new attempt would wait out the same outage); the client
    gets 503 with Retry-After. When the database is back, the first request
    on each stale pooled connection is replayed on a new one (is_transient),
    with no restart of the service.
    """
    if isinstance(exc, SQLAlchemyTimeoutError):  # no pooled connection free in time
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return drivers.unavailable(exc)


# The environ key the ``writes`` view option sets (see declared_writes).
WRITES = "company_service.writes"
# The environ key under which the test harness hands in a session of its own,
# on a connection it rolls back after each test: every database access of
# the request then goes through it.
TEST_SESSION = "app.dbsession"


def choose_bind(
    registry: Registry, *, writes: bool, request: Request | None = None
) -> Engine:
    """The one place a session's database is chosen, by what it will do.

    A writer gets the writers' pool: READ COMMITTED with row locks on
    PostgreSQL and MariaDB, ``BEGIN IMMEDIATE`` on SQLite (see
    docs/transactions.md). A reader gets a usable standby when
    ``db.replica_url`` names some (replicas.py), else the readers' pool.
    """
    engine: Engine = registry["db.writer_engine" if writes else "db.engine"]
    replicas = registry.get("db.replicas")
    if writes or replicas is None or request is None:
        return engine
    standby: Engine | None = replicas.bind_for(request)
    return standby or engine


def open_session(
    registry: Registry, *, writes: bool, request: Request | None = None
) -> Session:
    """A new session on the database ``choose_bind`` picks.

    The factory is registered with zope.sqlalchemy once (``includeme``), so
    the session joins the thread's transaction manager whenever it begins a
    database transaction: ``request.tm`` in a request, ``transaction.manager``
    in a script or pshell.
    """
    session: Session = registry["dbsession_factory"](
        bind=choose_bind(registry, writes=writes, request=request)
    )
    return session


def request_dbsession(request: Request) -> Session:
    """The request's session; a writer's when its view declared ``writes``.

    The test harness may hand in a session of its own through the environ,
    bound to a connection it rolls back afterwards.
    """
    session = request.environ.get(TEST_SESSION)
    if session is None:
        writes = request.environ.get(WRITES, False)
        session = open_session(request.registry, writes=writes, request=request)
    assert isinstance(session, Session)
    return session


def declared_writes(view: Any, info: Any) -> Any:
    """View deriver for the ``writes`` option: a view that writes says so,
    and its request's session is then a writer's (``choose_bind``)."""
    if not info.options.get("writes"):
        return view

    def writing_view(context: Any, request: Request) -> Any:
        request.environ[WRITES] = True
        return view(context, request)

    return writing_view


declared_writes.options = ("writes",)  # type: ignore[attr-defined]


def thread_manager(request: Request) -> transaction.ThreadTransactionManager:
    """``tm.manager_hook``: the thread's own transaction manager, explicit.

    One manager per thread (``transaction.manager``) lets the session
    factory be registered with zope.sqlalchemy once, instead of attaching
    its listeners to every new session. Explicit mode refuses any use of it
    outside a begun transaction. A failed commit leaves its transaction on
    the manager (pyramid_tm answers, but only an abort frees it); it is
    aborted here, before this request begins its own, so nothing of it
    reaches the next request on this thread.
    """
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
    """Before a replayed attempt begins its transaction, wait a random while
    that doubles with each attempt, so that requests that collided do not
    collide again in step. Retries are the backstop: the write paths take
    their row locks first, so contention waits instead of failing
    (docs/transactions.md). A tween, not an ``IBeforeRetry`` subscriber: with
    no subscriber at all, Pyramid skips its event notifications on every
    request."""
    base_seconds = float(registry.settings.get("retry.backoff_ms", 20)) / 1000

    def back_off_tween(request: Request) -> Response:
        attempt = request.environ.get("retry.attempt", 0)
        if attempt:
            limit = base_seconds * 2 ** (attempt - 1)
            time.sleep(random.uniform(0, limit))  # noqa: S311 (jitter)
        return handler(request)

    return back_off_tween


ENGINES = ("db.engine", "db.writer_engine", "db.export_engine")


def dispose_engines(registry: Any) -> None:
    """Close every pooled connection the app holds (its readers', writers'
    and exports' pools, and its standbys'): for tests that make apps of
    their own."""
    for name in ENGINES:
        registry[name].dispose()
    replicas = registry.get("db.replicas")  # replicas.py, with db.replica_url
    if replicas is not None:
        replicas.dispose()


def includeme(config: Configurator) -> None:
    """Wire the engine, the session, pyramid_tm and pyramid_retry together."""
    settings = config.get_settings()
    # The contract, not a preference: an explicit manager that refuses use
    # outside a begun transaction, and every status >= 400 aborts.
    settings["tm.manager_hook"] = thread_manager
    settings["tm.commit_veto"] = "pyramid_tm.default_commit_veto"
    # annotate_user would look the token up for every request, even /healthz.
    settings["tm.annotate_user"] = False
    settings.setdefault("retry.attempts", 3)

    engine = make_engine(settings)
    config.registry["db.engine"] = engine
    # Writers: READ COMMITTED with row locks (docs/transactions.md), in a pool
    # of their own whose connections are made at that level. Switching one
    # pool's connections per request would cost MariaDB two statements per
    # write, and a SET on a connection the server had dropped fails outside
    # any statement, where it cannot be told apart from a failed COMMIT.
    # SQLite has one writer at a time: the writer handle only asks for
    # BEGIN IMMEDIATE.
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
    # Once, on the factory, with the thread's manager (see thread_manager).
    # "changed": zope.sqlalchemy commits only a session it saw change through
    # the ORM, so a text() or Core write would otherwise be rolled back
    # silently; a read-only transaction then ends in COMMIT, which costs the
    # database what a ROLLBACK does.
    zope.sqlalchemy.register(
        factory, initial_state="changed", transaction_manager=transaction.manager
    )
    config.registry["dbsession_factory"] = factory
    # Streaming exports read for as long as the client downloads: a pool of
    # their own, without the statement time limit of request queries.
    config.registry["db.export_engine"] = make_engine(
        {**settings, "db.statement_timeout_ms": 0}, pre_ping=True
    )

    config.include("pyramid_retry")
    # What config.include("pyramid_tm") does, but request.tm: see request.py.
    config.add_tween("pyramid_tm.tm_tween_factory", over=EXCVIEW)
    config.add_tween(BACK_OFF_TWEEN, over="pyramid_tm.tm_tween_factory")
    config.add_view_deriver(declared_writes, name="writes")
    if settings.get("db.replica_url"):  # reads on standbys: replicas.py
        config.include(".replicas")
