"""Employees: create, read, replace, delete, list with filters, org chart."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import CTE, Select, bindparam, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import drivers
from ..models import Department, Employee, fold
from ..schemas.employee import EmployeeIn
from .errors import Conflict, Contended, FieldError, InvalidFields, NotFound
from .listing import Page, PageRequest, Record, fetch_page

# The hot reads use the table's columns, not mapped attributes: no ORM
# compile or loading step, and a cheaper cache key.
employees = Employee.__table__
departments = Department.__table__

# Reads return rows of these columns, not Employee objects: a response needs
# only the values, and an ORM object per row cost more than the query.
EMPLOYEE_COLUMNS = [
    column for column in employees.c if column.key not in ("search_key", "chain_stamp")
]
EMPLOYEE_BY_ID = select(*EMPLOYEE_COLUMNS).where(employees.c.id == bindparam("id"))
# One step up a management chain writes the row it reads (flipping its
# chain_stamp locks it on every database, and Galera certifies a write, not a
# lock), then reads its manager. updated_at is named so its onupdate leaves it:
# a manager's representation does not change because a report moved.
FLIP_CHAIN_STAMP = (
    update(employees)
    .where(employees.c.id == bindparam("row_id"))
    .values(chain_stamp=1 - employees.c.chain_stamp, updated_at=employees.c.updated_at)
)
MANAGER_OF = select(employees.c.manager_id).where(employees.c.id == bindparam("id"))

# A management chain deeper than this is a bug, not an org chart: it bounds
# the recursive queries even if a cycle ever slipped into the data.
MAX_DEPTH = 1000

Null = Literal["null"]


@dataclass(frozen=True, slots=True)
class EmployeeFilters:
    """The list's filters; ``"null"`` asks for rows where the column is empty."""

    department_id: int | Null | None = None
    manager_id: int | Null | None = None
    active: bool | None = None
    hired_after: date | None = None
    hired_before: date | None = None
    q: str | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        for column, value in (
            (employees.c.department_id, self.department_id),
            (employees.c.manager_id, self.manager_id),
        ):
            if value == "null":
                statement = statement.where(column.is_(None))
            elif value is not None:
                statement = statement.where(column == value)
        if self.active is not None:
            statement = statement.where(employees.c.active.is_(self.active))
        if self.hired_after is not None:
            statement = statement.where(employees.c.hire_date >= self.hired_after)
        if self.hired_before is not None:
            statement = statement.where(employees.c.hire_date <= self.hired_before)
        if self.q:
            # search_key holds the folded names and email; autoescape makes
            # % and _ in the query plain characters on every database.
            statement = statement.where(
                employees.c.search_key.contains(fold(self.q), autoescape=True)
            )
        return statement


def employee_tag(employee: Employee | Record) -> str:
    """The ETag's opaque-tag: ids are never reused and versions only grow."""
    return f"{employee.id}-{employee.version}"


def employee_fields(employee: Employee) -> dict[str, Any]:
    """The writable fields as they stand: the base a merge patch applies to."""
    return {name: getattr(employee, name) for name in EmployeeIn.model_fields}


class EmployeeService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, employee_id: int, *, lock: bool = False) -> Employee:
        """The employee; ``lock`` (FOR UPDATE) for one about to be changed: a
        read-modify-write then waits for a concurrent one instead of failing
        (docs/transactions.md)."""
        employee = self.session.get(Employee, employee_id, with_for_update=lock)
        if employee is None:
            raise NotFound(f"no employee with id {employee_id}")
        return employee

    def row(self, employee_id: int) -> Record:
        """The employee's columns, for reading: no object, no identity map."""
        found = self.session.execute(EMPLOYEE_BY_ID, {"id": employee_id}).first()
        if found is None:
            raise NotFound(f"no employee with id {employee_id}")
        return found

    def page(self, filters: EmployeeFilters, page: PageRequest) -> Page[Record]:
        statement = filters.apply(select(*EMPLOYEE_COLUMNS))
        return fetch_page(self.session, statement, page)

    def create(self, data: EmployeeIn) -> Employee:
        """Through the unit of work, whose flush events keep the derived
        columns; the foreign keys check the department and the manager."""
        employee = Employee(**data.model_dump())
        self.session.add(employee)
        self._write(data)
        return employee

    def replace(
        self, employee_id: int, data: EmployeeIn, expect: Callable[[str], object]
    ) -> Employee:
        """``expect`` checks the client's preconditions on the locked row's tag."""
        employee = self.get(employee_id, lock=True)
        expect(employee_tag(employee))
        if data.manager_id != employee.manager_id:
            self._check_manager(data.manager_id, employee_id)
        for field, value in data.model_dump().items():
            setattr(employee, field, value)
        self._write(data)
        return employee

    def delete(self, employee_id: int, expect: Callable[[str], object]) -> None:
        """Delete an employee who manages nobody.

        The row is locked first: a concurrent new report's foreign key check
        waits for this transaction, and fails once the manager is gone; a
        report committed before the lock was granted is counted below.
        """
        employee = self.get(employee_id, lock=True)
        expect(employee_tag(employee))
        reports = self.session.scalar(
            select(func.count(Employee.id)).where(Employee.manager_id == employee_id)
        )
        if reports:
            raise Conflict(f"the employee still manages {reports} employees")
        self.session.delete(employee)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict("the employee still manages someone") from None

    def reports(self, employee_id: int, recursive: bool) -> list[Record]:
        """Rows of each report's columns and ``depth``, nearest first, in
        one recursive query.

        The walk starts at the employee (depth 0), so an empty answer means
        the employee does not exist, not that nobody reports to them.
        """
        start = select(employees.c.id, literal(0).label("depth")).where(
            employees.c.id == employee_id
        )
        top = start.cte("tree", recursive=True)
        below = employees.alias("below")
        tree = top.union_all(
            select(below.c.id, top.c.depth + 1)
            .join(top, below.c.manager_id == top.c.id)
            .where(top.c.depth < (MAX_DEPTH if recursive else 1))
        )
        rows = self.session.execute(
            select(*EMPLOYEE_COLUMNS, tree.c.depth)
            .join(tree, employees.c.id == tree.c.id)
            .order_by(tree.c.depth, employees.c.id)
        ).all()
        if not rows:
            raise NotFound(f"no employee with id {employee_id}")
        return [row for row in rows if row.depth > 0]

    def chain(self, employee_id: int) -> list[Record]:
        """Rows of the managers above the employee, direct manager first, in
        one query."""
        chain = self._chain_cte(employee_id)
        rows = self.session.execute(
            select(*EMPLOYEE_COLUMNS, chain.c.depth)
            .join(chain, employees.c.id == chain.c.id)
            .order_by(chain.c.depth)
        ).all()
        if not rows:
            raise NotFound(f"no employee with id {employee_id}")
        return [row for row in rows if row.depth > 0]

    def _chain_cte(self, employee_id: int) -> CTE:
        """The employee (depth 0) and each manager above (depth 1, 2, ...)."""
        start = select(
            employees.c.id, employees.c.manager_id, literal(0).label("depth")
        ).where(employees.c.id == employee_id)
        chain = start.cte("chain", recursive=True)
        above = employees.alias("above")
        return chain.union_all(
            select(above.c.id, above.c.manager_id, chain.c.depth + 1)
            .join(chain, above.c.id == chain.c.manager_id)
            .where(chain.c.depth < MAX_DEPTH)
        )

    def _check_manager(self, manager_id: int | None, employee_id: int) -> None:
        """A new manager must not be the employee, nor close a cycle."""
        if manager_id is None:
            return
        if manager_id == employee_id:
            raise InvalidFields(
                [FieldError(("manager_id",), "an employee cannot manage themselves")]
            )
        if self._reaches(manager_id, employee_id):
            raise InvalidFields(
                [FieldError(("manager_id",), "this would make a management cycle")]
            )

    def _reaches(self, start: int, target: int) -> bool:
        """Whether ``target`` is on ``start``'s management chain.

        Walked one row at a time, each row written before it is read
        (``FLIP_CHAIN_STAMP``): each step sees the newest committed manager
        and holds the row. Two changes that would together close a cycle
        both write a row the other reads, so one waits for the other, or is
        retried (a deadlock; on Galera, a failed certification).
        """
        current: int | None = start
        for _ in range(MAX_DEPTH):
            if current is None:
                return False
            if current == target:
                return True
            self.session.execute(FLIP_CHAIN_STAMP, {"row_id": current})
            current = self.session.execute(
                MANAGER_OF, {"id": current}
            ).scalar_one_or_none()
        raise RuntimeError(f"a management chain above {start} is a cycle")

    def _write(self, data: EmployeeIn) -> None:
        """Flush the employee; a refusal names its field. The foreign keys
        check the department and the manager; only when one refuses is it
        asked which (SQLite does not say), after the rollback a failed flush
        requires."""
        try:
            self.session.flush()
        except IntegrityError as error:
            if drivers.unique_violation(error):
                message = f"an employee with email {data.email!r} already exists"
                raise Conflict(message, [FieldError(("email",), message)]) from None
            if not drivers.missing_reference(error):
                raise
            self.session.rollback()
            raise self._missing_references(data) from None

    def _missing_references(self, data: EmployeeIn) -> Exception:
        """What to say of a refused reference: which of the two is missing,
        read in one statement; if neither is now, a concurrent write made it
        meanwhile, and the request is run again."""
        department, manager = self.session.execute(
            select(
                select(departments.c.id)
                .where(departments.c.id == data.department_id)
                .scalar_subquery(),
                select(employees.c.id)
                .where(employees.c.id == data.manager_id)
                .scalar_subquery(),
            )
        ).one()
        errors = []
        if data.department_id is not None and department is None:
            message = f"no department with id {data.department_id}"
            errors.append(FieldError(("department_id",), message))
        if data.manager_id is not None and manager is None:
            message = f"no employee with id {data.manager_id}"
            errors.append(FieldError(("manager_id",), message))
        if not errors:
            return Contended("a row it refers to was written meanwhile")
        return InvalidFields(errors)
