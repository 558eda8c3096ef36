"""Telling a unique violation from a foreign-key one, on all three drivers."""

import sqlite3

import psycopg
import pymysql
from sqlalchemy.exc import IntegrityError

MYSQL_DUPLICATE_ENTRY = 1062


def is_unique_violation(error: IntegrityError) -> bool:
    orig = error.orig
    if isinstance(orig, psycopg.Error):
        return orig.sqlstate == "23505"
    if isinstance(orig, pymysql.err.IntegrityError):
        return bool(orig.args) and orig.args[0] == MYSQL_DUPLICATE_ENTRY
    if isinstance(orig, sqlite3.IntegrityError):
        return str(orig).startswith("UNIQUE constraint failed")
    return False
