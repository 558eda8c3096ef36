"""Creating many employees at once: every item stored, or none."""

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Department, Employee, insert_values
from ..schemas.employee import EmployeeIn
from .errors import Conflict, Contended, FieldError, InvalidFields


def item_error(index: int, field: str, message: str) -> FieldError:
    return FieldError(("items", index, field), message)


class BulkCreate:
    """Checks the whole batch first, then stores it with one statement."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, items: Sequence[EmployeeIn]) -> list[Employee]:
        """The stored employees, in the order given.

        One ORM-enabled INSERT ... RETURNING (multi-row on PostgreSQL and
        MariaDB), not a statement per object; the columns' defaults fill in
        what the flush events would.
        """
        self._check_references(items)
        self._check_duplicates(items)
        rows = [insert_values(item.model_dump()) for item in items]
        # Without sort_by_parameter_order: asking the database to keep the
        # parameters' order makes SQLAlchemy send a statement per row on
        # SQLite. Emails are unique in the batch, so they restore the order.
        statement = insert(Employee).returning(Employee)
        try:
            stored = {e.email: e for e in self.session.scalars(statement, rows)}
        except IntegrityError:
            # A concurrent request stored one of these emails after our check;
            # run again, and the check above will name the item.
            raise Contended("a concurrent write collided with this batch") from None
        return [stored[item.email] for item in items]

    def _check_references(self, items: Sequence[EmployeeIn]) -> None:
        """Every department and manager named must exist: two queries in all."""
        departments = self._existing(Department, {i.department_id for i in items})
        managers = self._existing(Employee, {i.manager_id for i in items})
        errors = []
        for index, item in enumerate(items):
            if item.department_id is not None and item.department_id not in departments:
                errors.append(item_error(index, "department_id", "no such department"))
            if item.manager_id is not None and item.manager_id not in managers:
                errors.append(item_error(index, "manager_id", "no such employee"))
        if errors:
            raise InvalidFields(errors)

    def _check_duplicates(self, items: Sequence[EmployeeIn]) -> None:
        """Emails repeated in the batch or already stored: 409 naming each item."""
        first_seen: dict[str, int] = {}
        errors = []
        for index, item in enumerate(items):
            if item.email in first_seen:
                message = f"the same email as item {first_seen[item.email]}"
                errors.append(item_error(index, "email", message))
            else:
                first_seen[item.email] = index
        stored = set(
            self.session.scalars(
                select(Employee.email).where(Employee.email.in_(first_seen))
            )
        )
        for email in stored:
            errors.append(item_error(first_seen[email], "email", "already exists"))
        if errors:
            errors.sort(key=lambda error: error.path[1])
            raise Conflict(f"{len(errors)} items collide", errors)

    def _existing(
        self, model: type[Employee | Department], ids: set[int | None]
    ) -> set[int]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return set()
        return set(self.session.scalars(select(model.id).where(model.id.in_(wanted))))
