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

# The server runner's drain Event (server.py); absent under another server.
DRAINING_KEY = "company_service.draining"


@api_view("healthz", permission=NO_PERMISSION_REQUIRED, summary="Liveness")
def healthz(request: Request) -> Health:
    """The process answers; the database is not consulted."""
    return Health(status="ok")


def answers(engine: Engine) -> None:
    """``SELECT 1`` on a pooled connection, once more if the first found the
    connection dropped, as a request would be replayed."""
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise


@api_view(
    "readyz",
    permission=NO_PERMISSION_REQUIRED,
    summary="Readiness: the database answers",
    problems=(503,),
)
def readyz(request: Request) -> Ready:
    """The process is not draining, and each request pool's database
    answers (through the engines: no transaction is needed)."""
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
    # A standby down never makes the process unready: the primary reads.
    return Ready(status="ok", database="ok", **replica_report(request.registry))
