"""Departments: create, read, replace, delete; listing with employee counts."""

from collections.abc import Collection
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
from .versions import check_version, versioned_write

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


class DepartmentService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, department_id: int) -> Department:
        department = self.session.get(Department, department_id)
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
        self, department_id: int, data: DepartmentIn, expected: Collection[int] | None
    ) -> Department:
        department = self.get(department_id)
        check_version(department.version, expected)
        for field, value in data.model_dump().items():
            setattr(department, field, value)
        with versioned_write(expected):
            self._flush(data.name)
        return department

    def delete(self, department_id: int, expected: Collection[int] | None) -> None:
        department = self.get(department_id)
        check_version(department.version, expected)
        staff = self.employee_count(department_id)
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
