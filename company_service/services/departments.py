"""Departments: create, read, replace, delete; listing with employee counts."""

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Department, Employee
from ..paging import SortField
from ..schemas.department import DepartmentIn
from .errors import Conflict, NotFound
from .integrity import is_unique_violation
from .listing import Page, PageRequest, fetch_page
from .versions import Expected, check_state, state_tag, versioned_write

SORT_FIELDS = {
    "id": SortField(Department.id, int),
    "name": SortField(Department.name, str),
    "created_at": SortField(Department.created_at, datetime),
}

# Counted in the same statement as the departments: no query per row.
EMPLOYEE_COUNT = (
    select(func.count(Employee.id))
    .where(Employee.department_id == Department.id)
    .correlate(Department)
    .scalar_subquery()
    .label("employee_count")
)


def department_tag(department: Department, employee_count: int) -> str:
    """The state tag of the ETag: the count is part of the representation,
    so a new or departed member changes the tag too."""
    return state_tag(department.id, department.version, employee_count)


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

    def get_with_count(self, department_id: int) -> tuple[Department, int]:
        """The department and its employee count, in one statement."""
        row = self.session.execute(
            select(Department, EMPLOYEE_COUNT).where(Department.id == department_id)
        ).first()
        if row is None:
            raise NotFound(f"no department with id {department_id}")
        return row[0], row[1]

    def employee_count(self, department_id: int) -> int:
        return self.session.scalar(
            select(func.count(Employee.id)).where(
                Employee.department_id == department_id
            )
        )

    def page(self, page: PageRequest) -> Page:
        """Rows of (Department, employee_count)."""
        statement: Select = select(Department, EMPLOYEE_COUNT)
        return fetch_page(self.session, statement, page)

    def create(self, data: DepartmentIn) -> Department:
        department = Department(**data.model_dump())
        self.session.add(department)
        self._flush(data.name)
        return department

    def replace(
        self, department_id: int, data: DepartmentIn, expected: Expected | None
    ) -> Department:
        department = self.get(department_id, lock=True)
        if expected is not None:
            count = self.employee_count(department_id)
            check_state(department_tag(department, count), expected)
        for field, value in data.model_dump().items():
            setattr(department, field, value)
        with versioned_write(expected):
            self._flush(data.name)
        return department

    def delete(self, department_id: int, expected: Expected | None) -> None:
        """Delete a department nobody belongs to.

        The row is locked first: a concurrent new member's foreign key check
        waits for this transaction, and fails once the department is gone; a
        member committed before the lock was granted is counted below.
        """
        department = self.get(department_id, lock=True)
        staff = self.employee_count(department_id)
        check_state(department_tag(department, staff), expected)
        if staff:
            raise Conflict(f"the department still has {staff} employees")
        self.session.delete(department)
        with versioned_write(expected):
            self._flush(department.name)

    def _flush(self, name: str) -> None:
        """Flush; a unique violation names the department the client sent.

        After a failed flush the session's objects are unusable, so the
        message is built from the name passed in, not read back.
        """
        try:
            self.session.flush()
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(
                    f"a department named {name!r} already exists",
                    loc=["body", "name"],
                ) from None
            raise Conflict("the department is still referenced") from None
