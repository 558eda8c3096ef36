"""Departments: create, read, replace, delete; listing with employee counts."""

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import drivers
from ..models import Department, Employee
from ..schemas.department import DepartmentIn
from .errors import Conflict, FieldError, NotFound
from .listing import Page, PageRequest, Record, fetch_page

departments = Department.__table__
employees = Employee.__table__

# Counted in the same statement as the departments: no query per row.
EMPLOYEE_COUNT = (
    select(func.count(employees.c.id))
    .where(employees.c.department_id == departments.c.id)
    .correlate(departments)
    .scalar_subquery()
    .label("employee_count")
)
# Reads select columns (a row per department, with its count), which the
# representation is made from directly; writes load Department objects.
WITH_COUNT = select(*departments.c, EMPLOYEE_COUNT)


def department_tag(department: Department | Record, employee_count: int) -> str:
    """The ETag's opaque-tag: the count is part of the representation, so a
    new or departed member changes the tag too."""
    return f"{department.id}-{department.version}-{employee_count}"


class DepartmentService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, department_id: int, *, lock: bool = False) -> Department:
        """The department; ``lock`` (FOR UPDATE) for one about to be changed,
        as in EmployeeService.get."""
        department = self.session.get(Department, department_id, with_for_update=lock)
        if department is None:
            raise NotFound(f"no department with id {department_id}")
        return department

    def row(self, department_id: int) -> Record:
        """The department's columns and employee count, in one statement."""
        found = self.session.execute(
            WITH_COUNT.where(departments.c.id == department_id)
        ).first()
        if found is None:
            raise NotFound(f"no department with id {department_id}")
        return found

    def employee_count(self, department_id: int) -> int:
        return (
            self.session.scalar(
                select(func.count(employees.c.id)).where(
                    employees.c.department_id == department_id
                )
            )
            or 0
        )

    def page(self, page: PageRequest) -> Page[Record]:
        """Rows of a department's columns and its employee_count."""
        return fetch_page(self.session, WITH_COUNT, page)

    def create(self, data: DepartmentIn) -> Department:
        department = Department(**data.model_dump())
        self.session.add(department)
        self._flush(data.name)
        return department

    def replace(
        self, department_id: int, data: DepartmentIn, expect: Callable[[str], object]
    ) -> tuple[Department, int]:
        """The replaced department and its employee count, counted once: the
        preconditions (``expect``, on the locked row) and the representation
        both need it."""
        department = self.get(department_id, lock=True)
        count = self.employee_count(department_id)
        expect(department_tag(department, count))
        for field, value in data.model_dump().items():
            setattr(department, field, value)
        self._flush(data.name)
        return department, count

    def delete(self, department_id: int, expect: Callable[[str], object]) -> None:
        """Delete a department nobody belongs to.

        The row is locked first: a concurrent new member's foreign key check
        waits for this transaction, and fails once the department is gone; a
        member committed before the lock was granted is counted below.
        """
        department = self.get(department_id, lock=True)
        staff = self.employee_count(department_id)
        expect(department_tag(department, staff))
        if staff:
            raise Conflict(f"the department still has {staff} employees")
        self.session.delete(department)
        self._flush(department.name)

    def _flush(self, name: str) -> None:
        """Flush; a unique violation names the department the client sent.

        After a failed flush the session's objects are unusable, so the
        message is built from the name passed in, not read back.
        """
        try:
            self.session.flush()
        except IntegrityError as error:
            if drivers.unique_violation(error):
                message = f"a department named {name!r} already exists"
                raise Conflict(message, [FieldError(("name",), message)]) from None
            raise Conflict("the department is still referenced") from None
