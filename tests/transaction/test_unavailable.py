"""A database that is down or too slow: a quick 503, never a hang or a 500."""

import time

import psycopg.errors
import pymysql.err
import pytest
import webtest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from company_service.db import dispose_engines, is_unavailable
from company_service.testing import bearer, make_app

DOWN = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def wrapped(orig: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


def mysql_error(errno: int, message: str) -> Exception:
    error = pymysql.err.OperationalError(errno, message)
    error.sqlstate = "HY000"
    return error


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.OperationalError("connection failed: Connection refused")),
        wrapped(psycopg.errors.QueryCanceled("canceling statement: timeout")),
        wrapped(psycopg.errors.AdminShutdown("terminating connection")),
        wrapped(mysql_error(2003, "Can't connect to MySQL server")),
        wrapped(mysql_error(2013, "Lost connection to MySQL server during query")),
        wrapped(mysql_error(1969, "max_statement_time exceeded")),
        PoolTimeout("QueuePool limit reached"),
    ],
    ids=["pg-refused", "pg-timeout", "pg-shutdown", "mysql-refused", "mysql-lost",
         "mysql-timeout", "pool-timeout"],
)  # fmt: skip
def test_outages_and_timeouts_are_unavailability(error):
    assert is_unavailable(error)


def test_a_database_that_is_down_gets_a_quick_503(app_settings):
    app = make_app(app_settings, **{"sqlalchemy.url": DOWN})
    started = time.monotonic()
    answer = webtest.TestApp(app).get(
        "/api/v1/employees", headers=bearer("A" * 43), status=503
    )
    assert time.monotonic() - started < 2
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"] == "1"
    assert "psycopg" not in answer.text and "127.0.0.1" not in answer.text


def test_a_statement_over_the_time_limit_is_cut_short_with_503(
    app_settings, engine, committed_editor_token
):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no statement timeout (its busy timeout bounds waits)")
    app = make_app(app_settings, **{"db.statement_timeout_ms": "300"})
    try:
        started = time.monotonic()
        answer = webtest.TestApp(app).get(
            "/api/v1/_probe/slow-query",
            headers=bearer(committed_editor_token),
            status=503,
        )
        assert time.monotonic() - started < 1.5, "the 2 s statement was not cut short"
        assert answer.headers["Retry-After"] == "1"
    finally:
        dispose_engines(app.registry)
