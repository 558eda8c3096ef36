"""company-service import-csv --new: employees from a CSV a person writes.

Only what a person knows goes in the file: names, email and salary, and
optionally a title, the hire date, the department by name and the manager
by email (someone already stored, or on an earlier line) or by id. Each row
is checked by EmployeeIn, the API's own rules and messages, and stored with
the same ``insert_values`` and column defaults as a bulk create; the
database gives ids and timestamps. Every bad row is reported, not only the
first; any bad row means the caller's transaction stores nothing.
"""

from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import bindparam, insert, update

from ..models import Department, Employee, email_key, insert_values
from ..models.department import name_key
from ..schemas.employee import EmployeeIn
from ..schemas.types import MAX_ID, Email, contract_message
from .employee_csv import BadLine, BatchedImport, check_shape, read_csv

REQUIRED = ("first_name", "last_name", "email", "salary")
OPTIONAL = ("title", "hire_date", "department", "manager")
COLUMNS = REQUIRED + OPTIONAL
EMAIL: TypeAdapter[str] = TypeAdapter(Email)
# A batch is inserted in at most this many INSERTs plus one, by depth of
# management within it (see NewHireImport._store).
LEVELS = 8


class BadRows(Exception):
    """Every problem found, one per field, in the order of the file."""

    def __init__(self, errors: list[BadLine]) -> None:
        rows = len({error.line for error in errors})
        super().__init__(f"{rows} bad row{'s' if rows != 1 else ''}")
        self.errors = errors


@dataclass(slots=True)
class Row:
    line: int
    values: dict[str, Any] | None  # None when a field is bad (reported already)
    email: str | None  # as stored, when the email itself is good
    department: str | None  # the name as written
    manager: str | int | None  # an email as stored, or an id
    manager_above: bool = False  # on an earlier line of this file


def header(record: list[str] | None) -> list[str]:
    """The columns, in the file's order: the required ones, any optional."""
    columns = [name.strip() for name in record or []]
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise BadLine(
            1,
            f"header: unknown column {unknown[0]!r}; the columns are"
            f" {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}",
        )
    twice = [name for name in COLUMNS if columns.count(name) > 1]
    if twice:
        raise BadLine(1, f"header: the column {twice[0]} appears twice")
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise BadLine(1, f"header: missing column {', '.join(missing)}")
    return columns


@dataclass
class NewHireImport(BatchedImport):
    """One import: rows checked as they are read, against the database a
    batch at a time, and inserted a batch at a time until the first bad
    row; after it the rest are only checked, so every bad row is named.

    Memory holds one batch, plus each row's email and, once stored, id: a
    manager may be given by the email of any row above.
    """

    lines: dict[str, int] = field(default_factory=dict)  # email -> line, every row's
    ids: dict[str, int] = field(default_factory=dict)  # email -> id, rows stored
    stored_ids: set[int] = field(default_factory=set)
    departments: dict[str, int] = field(default_factory=dict)  # name_key -> id
    errors: list[BadLine] = field(default_factory=list)
    pending: list[Row] = field(default_factory=list)
    read: int = 0
    stored: int = 0

    def run(self, handle: TextIO) -> int:
        """Store every row of ``handle`` or raise BadRows (or BadLine for
        the header or a file that is not CSV)."""
        lines = read_csv(handle)
        columns = header(next(lines, (1, None))[1])
        for line, record in lines:
            if record:  # a blank line is no row
                self._take(line, columns, record)
        self._flush()
        if self.errors:
            raise BadRows(sorted(self.errors, key=lambda error: error.line))
        return self.stored

    def _fail(self, line: int, field: str, reason: str) -> None:
        self.errors.append(BadLine(line, f"{field}: {reason}"))

    def _take(self, line: int, columns: list[str], record: list[str]) -> None:
        """Check one row on its own and against the rows above; queue it."""
        self.read += 1
        try:
            check_shape(line, record, len(columns))
        except BadLine as error:
            self.errors.append(error)
            return
        raw = dict(zip(columns, record, strict=True))
        fields = {name: raw[name] for name in REQUIRED}
        for name in ("title", "hire_date"):  # empty: null, or the API's default
            if raw.get(name, "").strip():
                fields[name] = raw[name]
        values: dict[str, Any] | None = None
        try:
            values = insert_values(EmployeeIn.model_validate(fields).model_dump())
            email: str | None = values["email"]
        except ValidationError as error:
            for problem in error.errors(include_url=False):
                where = ".".join(str(part) for part in problem["loc"])
                self._fail(line, where, contract_message(problem))
            email = self._email(raw["email"])
        row = Row(line, values, email, raw.get("department", "").strip() or None, None)
        self._manager(row, raw.get("manager", "").strip())
        if email is not None:
            if email in self.lines:
                seen = self.lines[email]
                self._fail(line, "email", f"{email} is also on line {seen}")
            else:
                self.lines[email] = line
        self.pending.append(row)
        if len(self.pending) >= self.batch_size:
            self._flush()

    @staticmethod
    def _email(value: str) -> str | None:
        """The email as stored, or None if it is not one (already reported)."""
        try:
            return EMAIL.validate_python(value)
        except ValidationError:
            return None

    def _manager(self, row: Row, value: str) -> None:
        """An email (of someone above or stored), an id (of someone stored)."""
        if not value:
            return
        if "@" in value:
            if (key := email_key(value)) in self.lines:
                # Someone above: their email passed EMAIL on their own row.
                row.manager, row.manager_above = key, True
                return
            try:
                row.manager = EMAIL.validate_python(value)
            except ValidationError as error:
                self._fail(row.line, "manager", contract_message(error.errors()[0]))
                return
            row.manager_above = row.manager in self.lines
        elif value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
            row.manager = int(value)
        else:
            self._fail(row.line, "manager", "must be an employee's email or id")

    def _flush(self) -> None:
        """Check the queued rows against the database; store them while
        no row has failed."""
        rows, self.pending = self.pending, []
        if not rows:
            return
        self._check(rows)
        if not self.errors:
            self._store(rows)
        if self.progress is not None:
            self.progress(self.read)

    def _check(self, rows: list[Row]) -> None:
        """Emails already taken, departments and managers that do not exist."""
        taken = set(self.existing(Employee.email, [r.email for r in rows if r.email]))
        names = {name_key(r.department): r.department for r in rows if r.department}
        wanted = set(names) - set(self.departments)
        self.departments.update(self.ids_by(Department.__table__.c.name_key, wanted))
        emails = {r.manager for r in rows if isinstance(r.manager, str)}
        emails -= set(self.lines)
        self.ids.update(self.ids_by(Employee.__table__.c.email, emails))
        ids = {r.manager for r in rows if isinstance(r.manager, int)}
        known_ids = set(self.existing(Employee.id, ids)) - self.stored_ids
        for row in rows:
            if row.email in taken:
                self._fail(row.line, "email", f"{row.email} already exists")
            if row.department and name_key(row.department) not in self.departments:
                self._fail(
                    row.line, "department", f"no department named {row.department!r}"
                )
            if isinstance(row.manager, int) and row.manager not in known_ids:
                self._fail(row.line, "manager", f"no employee with id {row.manager}")
            elif (
                isinstance(row.manager, str)
                and not row.manager_above
                and row.manager not in self.ids
            ):
                self._fail(
                    row.line,
                    "manager",
                    f"no employee with email {row.manager} in the database"
                    " or on a line above",
                )

    def _store(self, rows: list[Row]) -> None:
        """The batch in INSERTs by depth: a row whose manager is a row of the
        same batch goes in after it, so its id is known. Below ``LEVELS``
        rows deep (a chain, say) the rest go in last and get their managers
        from one UPDATE."""
        groups: list[list[Row]] = [[] for _ in range(LEVELS + 1)]
        depth: dict[str | None, int] = {}
        for row in rows:
            level = 0
            if isinstance(row.manager, str) and row.manager not in self.ids:
                level = min(depth[row.manager] + 1, LEVELS)  # a row above
            depth[row.email] = level
            groups[level].append(row)
        for group in groups:
            if group:
                self._insert(group)
        table = Employee.__table__
        later = [
            {"row_id": self.ids[row.email], "new_manager": self.ids[row.manager]}
            for row in groups[LEVELS]
            if row.values
            and row.values["manager_id"] is None
            and isinstance(row.manager, str)
            and row.email is not None
        ]
        if later:
            # updated_at set to itself: a new row's stays its created_at.
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(
                    manager_id=bindparam("new_manager"),
                    updated_at=table.c.updated_at,
                ),
                later,
            )

    def _insert(self, rows: list[Row]) -> None:
        """One INSERT of ``rows``, with every manager already stored."""
        values = []
        for row in rows:
            assert row.values is not None  # a row without them is an error
            if row.department:
                row.values["department_id"] = self.departments[name_key(row.department)]
            if isinstance(row.manager, int):
                row.values["manager_id"] = row.manager
            elif isinstance(row.manager, str):
                row.values["manager_id"] = self.ids.get(row.manager)
            values.append(row.values)
        table = Employee.__table__
        # Core, not ORM: the rows are not wanted as objects, only their ids.
        # Emails are unique, so they match ids to rows in any order.
        statement = insert(table).returning(table.c.email, table.c.id)
        stored: dict[str, int] = dict(self.session.execute(statement, values).all())
        self.ids.update(stored)
        self.stored_ids.update(stored.values())
        self.stored += len(stored)
