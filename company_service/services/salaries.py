"""A department-wide raise: one set-based UPDATE, all rows or none."""

from decimal import Decimal
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .. import drivers
from ..models import Employee
from ..models.meta import utcnow
from .departments import DepartmentService
from .errors import FieldError, InvalidFields

# percent has at most 4 decimals, so the factor is an exact integer:
# new = cents * (10^6 + percent * 10^4) / 10^6, rounded half-up. With
# cents < 10^12 and the factor <= 2 * 10^6 the product fits in 64 bits.
SCALE = 10**6


def raise_salaries(session: Session, department_id: int, percent: Decimal) -> int:
    """Raise every active employee of the department; the number whose
    salary changed.

    The database computes every new salary in one statement, and its CHECK
    constraint refuses the statement as a whole if any result is out of
    range: no salary changes unless all of them can.
    """
    DepartmentService(session).get(department_id)
    staff = (Employee.department_id == department_id, Employee.active.is_(True))
    # Lock the staff's rows first, in id order (two raises then queue rather
    # than deadlock): at READ COMMITTED the UPDATE skips rows on its
    # snapshot's values, and would miss a change a concurrent raise made.
    # Once the locks are held, no raise can commit in between.
    session.execute(
        select(Employee.id).where(*staff).order_by(Employee.id).with_for_update()
    )
    factor = SCALE + int(percent.scaleb(4))
    raised = (Employee.salary_cents * factor + SCALE // 2) // SCALE
    statement = (
        update(Employee)
        .where(
            *staff,
            # A salary the raise leaves as it is (0 %, or a cent that rounds
            # back) is no change: its version and updated_at stay.
            raised != Employee.salary_cents,
        )
        .values(
            salary_cents=raised,
            version=Employee.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    try:
        result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
        return result.rowcount
    except (IntegrityError, OperationalError) as error:
        if not drivers.check_violation(error):
            raise
        message = "would take a salary out of range (0 to 9999999999.99)"
        raise InvalidFields([FieldError(("percent",), message)]) from None
