"""A department-wide raise: one set-based UPDATE, all rows or none."""

from decimal import Decimal

import psycopg
import pymysql
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..models import Employee
from ..models.meta import utcnow
from .departments import DepartmentService
from .errors import InvalidInput

# percent has at most 4 decimals, so the factor is an exact integer:
# new = cents * (10^6 + percent * 10^4) / 10^6, rounded half-up. With
# cents < 10^12 and the factor <= 2 * 10^6 the product fits in 64 bits.
SCALE = 10**6
MYSQL_CHECK_FAILED = 4025


def is_check_violation(error: DBAPIError) -> bool:
    """PostgreSQL 23514, MariaDB 4025 (which PyMySQL raises as an
    OperationalError, not an IntegrityError), SQLite's message."""
    orig = error.orig
    if isinstance(orig, psycopg.Error):
        return orig.sqlstate == "23514"
    if isinstance(orig, pymysql.err.MySQLError):
        return bool(orig.args) and orig.args[0] == MYSQL_CHECK_FAILED
    return "CHECK constraint failed" in str(orig)


def raise_salaries(session: Session, department_id: int, percent: Decimal) -> int:
    """Raise every active employee of the department; the number changed.

    The database computes every new salary in one statement, and its CHECK
    constraint refuses the statement as a whole if any result is out of
    range: no salary changes unless all of them can.
    """
    DepartmentService(session).get(department_id)
    factor = SCALE + int(percent.scaleb(4))
    statement = (
        update(Employee)
        .where(Employee.department_id == department_id, Employee.active.is_(True))
        .values(
            salary_cents=(Employee.salary_cents * factor + SCALE // 2) // SCALE,
            version=Employee.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    try:
        return session.execute(statement).rowcount
    except (IntegrityError, OperationalError) as error:
        if not is_check_violation(error):
            raise
        raise InvalidInput(
            [
                {
                    "loc": ["body", "percent"],
                    "msg": "would take a salary out of range (0 to 9999999999.99)",
                    "type": "value_error",
                }
            ]
        ) from None
