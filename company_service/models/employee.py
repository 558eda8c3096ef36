"""Employees: each in at most one department, reporting to at most one manager."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from .meta import (
    TABLE_ARGS,
    Base,
    UTCDateTime,
    created_time,
    fold,
    long_text,
    text,
    utcnow,
)

# 0 <= salary < 10^10, held as whole cents so sums and raises are exact on
# every database (SQLite has no exact decimal type).
MAX_SALARY_CENTS = 10**12
SEARCH_KEY_SEPARATOR = "\x1f"


def search_key(first_name: str, last_name: str, email: str) -> str:
    """What ``q`` searches: the folded names and email (see ``fold``).

    The unit separator keeps a match from spanning two fields.
    """
    return SEARCH_KEY_SEPARATOR.join(
        fold(part) for part in (first_name, last_name, email)
    )


def search_key_default(context: Any) -> str:
    """The search key of a row being inserted, whichever way it is inserted
    (the unit of work, or the bulk create's one ORM-enabled INSERT)."""
    row = context.get_current_parameters()
    return search_key(row["first_name"], row["last_name"], row["email"])


class Employee(Base):
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
    # Stored lower-cased, so a plain unique index is a case-insensitive one.
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
    search_key: Mapped[str] = mapped_column(long_text(), default=search_key_default)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=created_time, onupdate=utcnow
    )
    # version_id_col numbers the unit of work's writes; the default is for
    # an INSERT statement, which the unit of work does not number.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Flipped (0 <-> 1) on each manager a management-chain check walks, so
    # that Galera certifies what the check read (services/employees.py,
    # ``_reaches``). In no representation; it moves neither version nor
    # updated_at.
    chain_stamp: Mapped[int] = mapped_column(
        SmallInteger, default=0, server_default="0"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def salary(self) -> Decimal:
        return Decimal(self.salary_cents).scaleb(-2)

    @salary.setter
    def salary(self, value: Decimal) -> None:
        self.salary_cents = self.cents(value)

    @staticmethod
    def cents(value: Decimal) -> int:
        """A salary as the whole cents stored (validation allows 2 places)."""
        return int(value.scaleb(2))

    def __repr__(self) -> str:
        return f"<Employee {self.id} {self.email!r}>"


@event.listens_for(Employee, "before_insert")
@event.listens_for(Employee, "before_update")
def _keep_derived_columns(_mapper: Any, _connection: Any, employee: Employee) -> None:
    """Lower-case the email and refresh the search key, whoever writes the
    object (the API, pshell, the sample data). An INSERT statement gets its
    search key from the column default, and its emails from EmployeeIn,
    which lower-cases them."""
    employee.email = employee.email.lower()
    employee.search_key = search_key(
        employee.first_name, employee.last_name, employee.email
    )
