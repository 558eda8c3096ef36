"""Employees: each in at most one department, reporting to at most one manager."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
)
from sqlalchemy.orm import Mapped, mapped_column

from .meta import (
    TABLE_ARGS,
    Base,
    Versioned,
    before_write,
    derived,
    fold,
    long_text,
    text,
)

# 0 <= salary < 10^10, held as whole cents so sums and raises are exact on
# every database (SQLite has no exact decimal type).
MAX_SALARY_CENTS = 10**12
SEARCH_KEY_SEPARATOR = "\x1f"

# The derived columns, each computed here and nowhere else.


def email_key(email: str) -> str:
    """An email as stored: lower-cased, so the plain unique index is a
    case-insensitive one."""
    return email.lower()


def search_key(first_name: str, last_name: str, email: str) -> str:
    """What ``q`` searches: the folded names and email, joined by a
    separator no match can span."""
    return SEARCH_KEY_SEPARATOR.join(
        fold(part) for part in (first_name, last_name, email)
    )


def cents(salary: Decimal) -> int:
    """A salary as the whole cents stored (validation allows 2 places)."""
    return int(salary.scaleb(2))


def insert_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An employee's fields, as the API names them, as INSERT values."""
    values = dict(fields)
    values["salary_cents"] = cents(values.pop("salary"))
    return values


SEARCH_KEY_DEFAULT = derived(search_key, "first_name", "last_name", "email")


class Employee(Versioned, Base):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint(
            f"salary_cents >= 0 AND salary_cents < {MAX_SALARY_CENTS}",
            name="salary_range",
        ),
        # Every sort of the contract is (field, id): each has its own index.
        Index(None, "department_id", "id"),
        Index(None, "manager_id", "id"),
        Index(None, "first_name", "id"),
        Index(None, "last_name", "id"),
        Index(None, "hire_date", "id"),
        Index(None, "salary_cents", "id"),
        Index(None, "created_at", "id"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(text(100))
    last_name: Mapped[str] = mapped_column(text(100))
    # Its email_key, kept by the flush events below.
    email: Mapped[str] = mapped_column(text(254), unique=True)
    title: Mapped[str | None] = mapped_column(text(200))
    hire_date: Mapped[date] = mapped_column(Date)
    salary_cents: Mapped[int] = mapped_column(BigInteger)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT")
    )
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(default=True)
    search_key: Mapped[str] = mapped_column(long_text(), default=SEARCH_KEY_DEFAULT)
    # Flipped by each management-chain check that walks the row, so Galera
    # certifies what it read (docs/transactions.md, "Past one server").
    # Last, after Versioned's columns, as the migration added it.
    chain_stamp: Mapped[int] = mapped_column(
        SmallInteger, default=0, server_default="0", sort_order=1
    )

    @property
    def salary(self) -> Decimal:
        return Decimal(self.salary_cents).scaleb(-2)

    @salary.setter
    def salary(self, value: Decimal) -> None:
        self.salary_cents = cents(value)

    def __repr__(self) -> str:
        return f"<Employee {self.id} {self.email!r}>"


@before_write(Employee)
def _keep_derived_columns(_mapper: Any, _connection: Any, employee: Employee) -> None:
    employee.email = email_key(employee.email)
    employee.search_key = search_key(
        employee.first_name, employee.last_name, employee.email
    )
