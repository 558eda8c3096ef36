"""Which database errors send a request round again."""

import sqlite3

import psycopg.errors
import pymysql.err
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from company_service import drivers
from company_service.db import is_transient, is_unavailable


def wrapped(orig: Exception) -> OperationalError:
    return OperationalError("UPDATE employees ...", {}, orig)


def mysql_error(errno: int, sqlstate: str, message: str) -> Exception:
    """As PyMySQL raises it: an errno, a message, and (since 1.1) a sqlstate."""
    error = pymysql.err.OperationalError(errno, message)
    error.sqlstate = sqlstate
    return error


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.errors.SerializationFailure("could not serialize access")),
        wrapped(psycopg.errors.DeadlockDetected("deadlock detected")),
        wrapped(mysql_error(1213, "40001", "Deadlock found")),
        wrapped(mysql_error(1205, "HY000", "Lock wait timeout exceeded")),
        wrapped(sqlite3.OperationalError("database is locked")),
        wrapped(sqlite3.OperationalError("database table is locked")),
        StaleDataError(
            "UPDATE statement on table 'employees' expected to update 1 row"
        ),
    ],
    ids=[
        "pg-serialization",
        "pg-deadlock",
        "mysql-deadlock",
        "mysql-lock-wait",
        "sqlite-locked",
        "sqlite-table-locked",
        "stale-version",
    ],
)
def test_transient_errors_are_retried(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")),
        wrapped(psycopg.errors.UndefinedTable("no such table")),
        wrapped(mysql_error(1045, "28000", "Access denied")),
        wrapped(sqlite3.OperationalError("no such table: employees")),
        RuntimeError("database is locked"),  # not a database error at all
    ],
    ids=[
        "pg-unique",
        "pg-undefined-table",
        "mysql-access-denied",
        "sqlite-no-table",
        "not-a-db-error",
    ],
)
def test_other_errors_are_not(error):
    assert not is_transient(error)


def dropped(statement: str | None) -> OperationalError:
    """What SQLAlchemy raises when the server has closed a pooled connection."""
    error = OperationalError(
        statement, {}, psycopg.OperationalError("server closed the connection")
    )
    error.connection_invalidated = True
    return error


def test_a_statement_on_a_dropped_connection_is_retried():
    """Nothing of the transaction can have committed: run it again afresh."""
    assert is_transient(dropped("SELECT employees.id FROM employees"))


def test_a_commit_on_a_dropped_connection_is_not_retried():
    """The COMMIT may have landed before the connection went: never replay it."""
    assert not is_transient(dropped(None))


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        (wrapped(psycopg.OperationalError("connection refused")), True),
        (wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),
        (wrapped(psycopg.errors.QueryCanceled("canceling statement: timeout")), False),
        (wrapped(mysql_error(2013, "HY000", "Lost connection")), True),
        (wrapped(mysql_error(1969, "70100", "Query execution was interrupted")), False),
    ],
)
def test_a_server_gone_is_told_from_a_statement_that_ran_too_long(error, gone):
    """A standby is skipped for the first (replicas.watch_failures), not the
    second: one slow query must not take it out of rotation."""
    assert drivers.server_gone(error) is gone
    assert is_unavailable(error)
