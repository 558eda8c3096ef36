"""Reads from PostgreSQL hot standbys, with read-your-writes per client.

Installed only when ``db.replica_url`` names standbys. How reads are routed,
the Consistency-Token and the failure modes: docs/scaling.md, section
"PostgreSQL hot standby".
"""

import itertools
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.settings import aslist
from pyramid_retry import mark_error_retryable
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from . import db, drivers
from .problems import invalid

log = logging.getLogger(__name__)

HEADER = "Consistency-Token"
# PostgreSQL's pg_lsn text: two hex numbers of up to 32 bits each.
LSN_SHAPE = re.compile(r"[0-9A-F]{1,8}/[0-9A-F]{1,8}")
TOKEN_TWEEN = "company_service.replicas.consistency_token_tween_factory"  # noqa: S105

# Past the commit record even with synchronous_commit off.
WAL_POSITION = text("SELECT pg_current_wal_insert_lsn()::text")
REPLAYED = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
# Seconds behind (an upper bound); NULL, never usable, once promoted.
LAG = text(
    "SELECT CASE"
    " WHEN NOT pg_is_in_recovery() THEN NULL"
    " WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)"
    "  AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


def parse_token(value: str) -> str:
    """The WAL position a client sent back, or a 422 naming the header."""
    token = value.strip().upper()
    if LSN_SHAPE.fullmatch(token) is None:
        raise invalid(
            ("header", HEADER),
            f"not a token this service issued; send back the {HEADER} of a write,"
            " unchanged",
        )
    return token


def autocommit(engine: Engine) -> Connection:
    """A pooled connection outside any transaction: takes no snapshot."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


@dataclass(eq=False)
class Replica:
    """One standby and what this process last learnt about it."""

    name: str
    engine: Engine
    lag_seconds: float | None = None  # None: not checked yet, or unusable
    checked_at: float = -math.inf
    down_until: float = 0.0

    def state(self, now: float, max_lag: float) -> str:
        if now < self.down_until:
            return "down"
        if self.lag_seconds is None or self.lag_seconds > max_lag:
            return "lagging"
        return "streaming"


class ReplicaSet:
    """The standbys of one process, and the rules for choosing among them."""

    def __init__(
        self,
        replicas: list[Replica],
        *,
        max_lag_seconds: float,
        check_seconds: float,
        down_seconds: float,
        wait_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.replicas = replicas
        self.max_lag = max_lag_seconds
        self.check_seconds = check_seconds
        self.down_seconds = down_seconds
        self.wait_seconds = wait_seconds
        self.clock = clock
        self._checking = threading.Lock()
        self._turns = itertools.count()

    def failed(self, replica: Replica) -> None:
        """Skip ``replica`` for ``down_seconds``: it failed a connection or query."""
        if self.clock() >= replica.down_until:
            log.warning(
                "standby %s failed; reading elsewhere for a while", replica.name
            )
        replica.down_until = self.clock() + self.down_seconds
        replica.lag_seconds = None
        replica.checked_at = -math.inf  # checked again as soon as it is back

    def check(self, replica: Replica) -> None:
        """Measure ``replica``'s lag now; a failure marks it down."""
        try:
            with autocommit(replica.engine) as connection:
                lag = connection.scalar(LAG)
        except SQLAlchemyError:
            self.failed(replica)
        else:
            replica.lag_seconds = None if lag is None else max(0.0, float(lag))
        replica.checked_at = self.clock()

    def usable(self) -> list[Replica]:
        """The standbys neither down nor lagging; one request refreshes a stale
        check while the others go on with the last one."""
        now = self.clock()
        found = []
        for replica in self.replicas:
            if now < replica.down_until:
                continue
            stale = now - replica.checked_at >= self.check_seconds
            if stale and self._checking.acquire(blocking=False):
                try:
                    self.check(replica)
                finally:
                    self._checking.release()
            if replica.state(now, self.max_lag) == "streaming":
                found.append(replica)
        return found

    def replayed(self, replica: Replica, lsn: str, deadline: float) -> bool:
        """Whether ``replica`` replays ``lsn`` before ``deadline``; polled before
        the request's snapshot is taken, so that snapshot includes the write."""
        pause = 0.001
        try:
            with autocommit(replica.engine) as connection:
                while not connection.scalar(REPLAYED, {"lsn": lsn}):
                    if self.clock() + pause > deadline:
                        return False
                    time.sleep(pause)
                    pause = min(pause * 2, 0.02)
        except SQLAlchemyError:
            self.failed(replica)
            return False
        return True

    def pick(self, lsn: str | None) -> Replica | None:
        """The standby to read from (turn by turn), or None for the primary."""
        usable = self.usable()
        if not usable:
            return None
        start = next(self._turns) % len(usable)
        ordered = usable[start:] + usable[:start]
        if lsn is None:
            return ordered[0]
        deadline = self.clock() + self.wait_seconds
        for replica in ordered:  # each is asked at least once
            if self.replayed(replica, lsn, deadline):
                return replica
        return None

    def bind_for(self, request: Request) -> Engine | None:
        """The standby a reading request should use, or None for the primary."""
        sent = request.headers.get(HEADER)
        replica = self.pick(None if sent is None else parse_token(sent))
        return None if replica is None else replica.engine

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()

    def states(self) -> list[dict[str, Any]]:
        """Each standby's state for /readyz, refreshed as the reads' is, so
        health checks add no load."""
        self.usable()
        now = self.clock()
        report = []
        for replica in self.replicas:
            state = replica.state(now, self.max_lag)
            lag = None if state == "down" else replica.lag_seconds
            report.append({"name": replica.name, "state": state, "lag_seconds": lag})
        return report


def wal_position(engine: Engine) -> str | None:
    """The primary's WAL insert position now, or None if it cannot be read."""
    try:
        with autocommit(engine) as connection:
            position: str | None = connection.scalar(WAL_POSITION)
            return position
    except SQLAlchemyError as error:
        log.warning("no %s: %s", HEADER, type(error.__cause__ or error).__name__)
        return None


Handler = Callable[[Request], Response]


def consistency_token_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Above pyramid_tm: by the time the view's response comes back up here,
    its transaction has committed (a failed commit raises past us)."""
    primary = registry["db.engine"]

    def consistency_token_tween(request: Request) -> Response:
        response = handler(request)
        writes = request.environ.get(db.WRITES, False)
        if writes and 200 <= response.status_code < 300:
            position = wal_position(primary)
            if position is not None:
                response.headers[HEADER] = position
        return response

    return consistency_token_tween


def watch_failures(replicas: ReplicaSet, replica: Replica) -> None:
    """A standby that is gone: its error is retryable (the replay reads
    elsewhere) and it is skipped a while. A slow statement is neither."""

    @event.listens_for(replica.engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception
        if not isinstance(error, DBAPIError):
            return
        if context.is_disconnect or drivers.server_gone(error):
            replicas.failed(replica)
            mark_error_retryable(error)


def make_replicas(settings: Mapping[str, Any]) -> ReplicaSet:
    replicas = []
    for number, url in enumerate(aslist(settings["db.replica_url"]), start=1):
        if make_url(url).get_backend_name() != "postgresql":
            raise ConfigurationError("db.replica_url: only PostgreSQL standbys")
        engine = db.make_engine(settings, address=url)
        replicas.append(Replica(name=f"replica-{number}", engine=engine))
    found = ReplicaSet(
        replicas,
        max_lag_seconds=float(settings.get("db.replica_max_lag_seconds", 5)),
        check_seconds=float(settings.get("db.replica_check_seconds", 1)),
        down_seconds=float(settings.get("db.replica_down_seconds", 5)),
        wait_seconds=float(settings.get("db.replica_wait_ms", 500)) / 1000,
    )
    for replica in replicas:
        watch_failures(found, replica)
    return found


def replica_report(registry: Registry) -> dict[str, Any]:
    """``{"replicas": [...]}`` for /readyz, or nothing without standbys."""
    replicas: ReplicaSet | None = registry.get("db.replicas")
    return {} if replicas is None else {"replicas": replicas.states()}


def includeme(config: Configurator) -> None:
    """Called by ``db.includeme`` only when ``db.replica_url`` is set."""
    settings = config.get_settings()
    if config.registry["db.engine"].dialect.name != "postgresql":
        raise ConfigurationError("db.replica_url needs a PostgreSQL primary")
    config.registry["db.replicas"] = make_replicas(settings)
    config.add_tween(TOKEN_TWEEN, over="pyramid_tm.tm_tween_factory")
