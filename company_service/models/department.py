"""Departments: a name unique regardless of case."""

import hashlib
from typing import Any

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from .meta import TABLE_ARGS, Base, Versioned, before_write, derived, fold, text


def name_key(name: str) -> str:
    """The case-insensitive identity of a name, as the unique index sees it:
    a digest, since folding can make a name many times longer."""
    return hashlib.sha256(fold(name).encode()).hexdigest()


KEY_DEFAULT = derived(name_key, "name")


class Department(Versioned, Base):
    __tablename__ = "departments"
    __table_args__ = (
        # The contract's sorts are (field, id): each has its own index.
        Index(None, "name", "id"),
        Index(None, "created_at", "id"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(text(100))
    # Kept by the flush events below; the default is for an INSERT statement.
    name_key: Mapped[str] = mapped_column(text(64), unique=True, default=KEY_DEFAULT)
    description: Mapped[str | None] = mapped_column(text(2000))

    def __repr__(self) -> str:
        return f"<Department {self.id} {self.name!r}>"


@before_write(Department)
def _keep_name_key(_mapper: Any, _connection: Any, department: Department) -> None:
    department.name_key = name_key(department.name)
