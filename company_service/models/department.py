"""Departments: a name unique regardless of case."""

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, event
from sqlalchemy.orm import Mapped, mapped_column

from .meta import MYSQL_TABLE_ARGS, Base, UTCDateTime, text, utcnow


def name_key(name: str) -> str:
    """The case-insensitive identity of a name, as the unique index sees it."""
    return name.casefold()


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(text(100))
    # casefold(name), computed in Python (SQLite's lower() knows only ASCII)
    # and kept by the flush events below; casefolding may triple the length.
    name_key: Mapped[str] = mapped_column(text(300), unique=True)
    description: Mapped[str | None] = mapped_column(text(2000))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Department {self.id} {self.name!r}>"


@event.listens_for(Department, "before_insert")
@event.listens_for(Department, "before_update")
def _keep_name_key(_mapper: Any, _connection: Any, department: Department) -> None:
    department.name_key = name_key(department.name)
