"""Liveness and readiness, for load balancers and orchestrators. No token."""

import logging

from pyramid.httpexceptions import HTTPServiceUnavailable
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..problems import retry_after_seconds
from ..replicas import replica_report
from ..schemas.responses import Health, Ready
from .config import api_view

log = logging.getLogger(__name__)

# Where the server runner puts its drain's Event (set: draining) in every
# request's environ; under another server the key is absent.
DRAINING_KEY = "company_service.draining"


@api_view(
    route_name="healthz",
    request_method="GET",
    permission=NO_PERMISSION_REQUIRED,
    summary="Liveness",
)
def healthz(request: Request) -> Health:
    """The process answers; the database is not consulted."""
    return Health(status="ok")


def answers(engine: Engine) -> None:
    """``SELECT 1`` on a pooled connection. One that the server dropped (it
    restarted) fails first; SQLAlchemy then empties the pool of connections
    as old, and the check runs once more, as a request would be replayed."""
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise


@api_view(
    route_name="readyz",
    request_method="GET",
    permission=NO_PERMISSION_REQUIRED,
    summary="Readiness: the database answers",
    problems=(503,),
)
def readyz(request: Request) -> Ready:
    """The process is not draining, and the database answers a query on a
    connection from each request pool (readers' and writers').

    While the server drains after SIGTERM (``server.py``) this is a 503 at
    once, though the process still serves every other request: the load
    balancer's checks take it out of rotation before its listener closes.

    Uses the engines, not ``request.dbsession``: this asks whether a
    connection can be had, and needs no transaction of its own.
    """
    draining = request.environ.get(DRAINING_KEY)
    if draining is not None and draining.is_set():
        raise HTTPServiceUnavailable(
            "this process is shutting down",
            headers={"Retry-After": str(retry_after_seconds(request))},
        )
    readers, writers = (
        request.registry["db.engine"],
        request.registry["db.writer_engine"],
    )
    try:
        answers(readers)
        if writers.pool is not readers.pool:  # SQLite's writers share the pool
            answers(writers)
    except SQLAlchemyError as error:
        log.warning(
            "readiness check failed: %s", type(error.__cause__ or error).__name__
        )
        raise HTTPServiceUnavailable(
            "the database cannot be reached",
            headers={"Retry-After": str(retry_after_seconds(request))},
        ) from None
    # A standby's state is reported, but never makes the process unready:
    # its reads go to the primary meanwhile (replicas.py).
    return Ready(status="ok", database="ok", **replica_report(request.registry))
