"""The declarative base, constraint names, column types that behave alike
on SQLite, PostgreSQL and MariaDB, and defaults computed from a row."""

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import DateTime, Dialect, Integer, MetaData, String, Table, Text, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

T = TypeVar("T")
Listener = TypeVar("Listener", bound=Callable[..., None])

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# InnoDB for transactions and foreign keys; utf8mb4 for all of Unicode;
# AUTOINCREMENT so that SQLite, like the others, never reuses a deleted id.
TABLE_ARGS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "sqlite_autoincrement": True,
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # One Table per model (DeclarativeBase only promises a FromClause).
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
    """A VARCHAR that compares by code point on every database: one order
    for keyset paging, and uniqueness as the Python side computed it."""
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
    """Caseless form of ``value``, NFKC-normalised; in Python, because each
    database folds differently (SQLite's lower() knows only ASCII)."""
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", value).casefold()
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def derived(
    function: Callable[..., T], *columns: str
) -> Callable[[DefaultExecutionContext], T]:
    """A column default: ``function`` of other columns of the row, however
    it is inserted."""

    def default(context: DefaultExecutionContext) -> T:
        # SQLAlchemy leaves get_current_parameters() unannotated.
        row = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return function(*(row[column] for column in columns))

    return default


def before_write(model: type) -> Callable[[Listener], Listener]:
    """Run the decorated mapper listener before each INSERT and UPDATE of
    ``model``'s objects, whoever writes them."""

    def register(listener: Listener) -> Listener:
        event.listen(model, "before_insert", listener)
        event.listen(model, "before_update", listener)
        return listener

    return register


# Default for ``updated_at``: a new row was last changed when it was made.
created_time = derived(lambda created: created, "created_at")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC with microseconds in the
    database, so a cursor's timestamp finds the stored value on all three."""

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


class Versioned:
    """Timestamps and the version the unit of work numbers (an INSERT
    statement's is 1), after the model's own columns."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=created_time, onupdate=utcnow
    )
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}
