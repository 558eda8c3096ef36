"""What each database driver's errors mean: the one module that knows.

psycopg 3 reports a SQLSTATE, PyMySQL an error number, sqlite3 a message;
everything above asks a question here instead.
"""

import sqlite3

import psycopg
import pymysql
from sqlalchemy.exc import DBAPIError

# MariaDB: 1213 deadlock (Galera's certification failure too), 1205 lock
# wait timeout, 1020 record changed since the snapshot.
MYSQL_TRANSIENT = frozenset({1020, 1205, 1213})
# MariaDB: 2003 cannot connect, 2006 gone away, 2013 lost connection, 1053
# shutting down, 1927 killed, 1969 max_statement_time; Galera 1047 node not
# in the primary component.
MYSQL_UNAVAILABLE = frozenset({1047, 1053, 1927, 1969, 2003, 2006, 2013})
MYSQL_GONE = MYSQL_UNAVAILABLE - {1969}  # all but the statement time limit
MYSQL_DUPLICATE_ENTRY = 1062
MYSQL_NO_PARENT_ROW = 1452  # a foreign key names no row
MYSQL_CHECK_FAILED = 4025  # raised as an OperationalError, not an IntegrityError
# PostgreSQL: class 08 connection exceptions, 57P0x shutdown/starting up,
# 57014 statement_timeout.
POSTGRES_GONE = ("08", "57P0")
POSTGRES_UNAVAILABLE = (*POSTGRES_GONE, "57014")


def _mysql_errno(error: BaseException) -> int | None:
    if isinstance(error, pymysql.err.MySQLError) and error.args:
        code = error.args[0]
        return code if isinstance(code, int) else None
    return None


def lost_a_race(error: DBAPIError) -> bool:
    """A serialization failure, deadlock, lock timeout or busy database:
    the same transaction, run again, may well succeed."""
    orig = error.orig
    if isinstance(orig, psycopg.Error):  # 40001 serialization, 40P01 deadlock
        return (orig.sqlstate or "").startswith("40")
    if isinstance(orig, pymysql.err.OperationalError):
        return _mysql_errno(orig) in MYSQL_TRANSIENT
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig)
        return "locked" in message or "busy" in message
    return False


def _server_says(
    orig: BaseException | None, sqlstates: tuple[str, ...], errnos: frozenset[int]
) -> bool:
    if isinstance(orig, psycopg.OperationalError):
        return orig.sqlstate is None or orig.sqlstate.startswith(sqlstates)
    if isinstance(orig, pymysql.err.MySQLError):
        return _mysql_errno(orig) in errnos
    return False


def unavailable(error: DBAPIError) -> bool:
    """The database cannot answer now: down, restarting, or too slow."""
    if isinstance(error.orig, sqlite3.OperationalError):
        return "unable to open database" in str(error.orig)
    return _server_says(error.orig, POSTGRES_UNAVAILABLE, MYSQL_UNAVAILABLE)


def server_gone(error: DBAPIError) -> bool:
    """The server cannot be reached or is shutting down (not merely slow)."""
    return _server_says(error.orig, POSTGRES_GONE, MYSQL_GONE)


def _refused_by(
    error: DBAPIError, sqlstate: str, mysql_errno: int, sqlite_message: str
) -> bool:
    orig = error.orig
    if isinstance(orig, psycopg.Error):
        return orig.sqlstate == sqlstate
    if isinstance(orig, pymysql.err.MySQLError):
        return _mysql_errno(orig) == mysql_errno
    return isinstance(orig, sqlite3.Error) and str(orig).startswith(sqlite_message)


def unique_violation(error: DBAPIError) -> bool:
    return _refused_by(
        error, "23505", MYSQL_DUPLICATE_ENTRY, "UNIQUE constraint failed"
    )


def missing_reference(error: DBAPIError) -> bool:
    """A row written refers, by a foreign key, to a row that does not exist.
    (SQLite says only that some foreign key failed.)"""
    return _refused_by(
        error, "23503", MYSQL_NO_PARENT_ROW, "FOREIGN KEY constraint failed"
    )


def check_violation(error: DBAPIError) -> bool:
    """A CHECK constraint refused the statement."""
    return _refused_by(error, "23514", MYSQL_CHECK_FAILED, "CHECK constraint failed")
