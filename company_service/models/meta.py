"""The declarative base, constraint names, column types that behave alike
on SQLite, PostgreSQL and MariaDB, and defaults computed from a row."""

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import DateTime, Dialect, MetaData, String, Table, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# InnoDB for transactions and foreign keys; utf8mb4 for all of Unicode.
# AUTOINCREMENT: SQLite would otherwise give a deleted row's id to the next
# row; PostgreSQL's sequences and InnoDB's counter never go back. An id, and
# so a URL or an ETag, then never names two things.
TABLE_ARGS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "sqlite_autoincrement": True,
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model maps one Table (DeclarativeBase only promises a FromClause),
    # which Core's insert() and update() take and whose .name is known.
    __table__: ClassVar[Table]


def long_text() -> TypeEngine[str]:
    """Unbounded text, compared by code point like ``text`` (not indexable)."""
    return (
        Text()
        .with_variant(Text(collation="C"), "postgresql")
        .with_variant(
            mysql.TEXT(charset="utf8mb4", collation="utf8mb4_nopad_bin"),
            "mysql",
            "mariadb",
        )
    )


def text(length: int) -> TypeEngine[str]:
    """A VARCHAR that compares by code point on every database.

    Each database's default collation sorts and compares text differently
    (MariaDB's even treats "e" and "é" as equal). Comparing code points
    everywhere gives one order for keyset paging, and uniqueness that means
    exactly what the Python side computed.
    """
    return (
        String(length)
        .with_variant(String(length, collation="C"), "postgresql")
        .with_variant(
            mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_nopad_bin"),
            "mysql",
            "mariadb",
        )
    )


def fold(value: str) -> str:
    """Caseless form of ``value``: NFKC-normalised and casefolded.

    "Straße", "STRASSE" and "strasse" fold alike, as do composed and
    decomposed accents. Computed in Python because SQLite's lower() knows
    only ASCII and each database would otherwise fold differently.
    """
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", value).casefold()
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def derived(
    function: Callable[..., T], *columns: str
) -> Callable[[DefaultExecutionContext], T]:
    """A column default: ``function`` of other columns of the row being
    inserted, however it is inserted (the unit of work, or an INSERT
    statement of one row or many)."""

    def default(context: DefaultExecutionContext) -> T:
        # SQLAlchemy leaves get_current_parameters() unannotated.
        row = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return function(*(row[column] for column in columns))

    return default


# Default for ``updated_at``: a new row was last changed when it was made.
created_time = derived(lambda created: created, "created_at")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC with microseconds in the database.

    One convention on three databases: SQLite has no time zones and MariaDB's
    DATETIME drops fractions unless asked; a cursor holding a timestamp must
    find exactly the stored value again.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
