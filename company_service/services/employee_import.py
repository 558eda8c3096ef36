"""company-service import-csv: the export's rows back in, all or nothing.

Rows are read by ``employee_csv`` (the format's one owner), checked, and
inserted here in batches inside the caller's transaction; raising
``BadLine`` lets that transaction roll every insert back.
"""

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import bindparam, insert, text, update

from ..models import Department, Employee
from .employee_csv import (
    BadLine,
    BatchedImport,
    first_error,
    manager_of,
    parse_id,
    parse_row,
    records,
)


@dataclass
class EmployeeImport(BatchedImport):
    """One import: rows validated, checked against the database and inserted
    in batches, so memory holds one batch plus a few ints and strings per
    row. A row whose manager an earlier batch stored gets it at once; the
    others go in with manager_id NULL (the manager may come later in the
    file) and get it in a second pass. What needs the whole file (managers
    that exist nowhere, cycles) is checked at the end; the error reported is
    the one on the earliest line.
    """

    lines: dict[int, int] = field(default_factory=dict)  # id -> line, readable ids
    managers: dict[int, int] = field(default_factory=dict)  # id -> manager_id
    later: dict[int, int] = field(default_factory=dict)  # managers, second pass
    emails: dict[str, int] = field(default_factory=dict)  # email -> line
    departments: set[int] = field(default_factory=set)  # known to exist
    pending: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    imported: int = 0

    def run(self, handle: TextIO) -> int:
        """Import every row of ``handle`` or raise the earliest BadLine."""
        failure: BadLine | None = None
        try:
            for line, record in records(handle):
                if failure is None:
                    try:
                        self._take(line, record)
                    except BadLine as error:
                        failure = first_error(error, self._check(self.pending))
                else:  # only ids and managers now, for the checks below
                    self._note_manager(line, record)
            if failure is None:
                self._flush()
        except BadLine as error:
            failure = first_error(failure, error)
        limit = failure.line if failure is not None else sys.maxsize
        failure = first_error(failure, self._check_managers(limit))
        if failure is not None:
            raise failure
        self._set_managers()
        return self.imported

    def _take(self, line: int, record: list[str]) -> None:
        """Read one row, check it against the rows above, queue it."""
        employee_id = parse_id(line, record)
        if employee_id in self.lines:
            seen = self.lines[employee_id]
            raise BadLine(line, f"id: {employee_id} is also on line {seen}")
        self.lines[employee_id] = line
        values, manager = parse_row(line, record)
        email = values["email"]
        if email in self.emails:
            raise BadLine(line, f"email: {email} is also on line {self.emails[email]}")
        self.emails[email] = line
        if manager is not None:
            self.managers[employee_id] = manager
        self.pending.append((line, values))
        if len(self.pending) >= self.batch_size:
            self._flush()

    def _note_manager(self, line: int, record: list[str]) -> None:
        """After a bad line, only who manages whom: a row above it may name a
        manager further down, or be in a cycle through one."""
        employee_id, manager = manager_of(record)
        if employee_id is not None and employee_id not in self.lines:
            self.lines[employee_id] = line
            if manager is not None:
                self.managers[employee_id] = manager

    def _flush(self) -> None:
        """Check the queued rows against the database, then insert them."""
        if not self.pending:
            return
        error = self._check(self.pending)
        if error is not None:
            raise error
        first_line = self.pending[0][0]
        for _, values in self.pending:
            manager = self.managers.get(values["id"])
            if manager is None:
                continue
            if self.lines.get(manager, first_line) < first_line:
                values["manager_id"] = manager  # stored by an earlier batch
            else:
                self.later[values["id"]] = manager
        # Core, not ORM, insert: the ORM would put its own number in the
        # version column (it is the mapper's version_id_col).
        rows = [values for _, values in self.pending]
        self.session.execute(insert(Employee.__table__), rows)
        self.imported += len(self.pending)
        self.pending = []
        if self.progress is not None:
            self.progress(self.imported)

    def _check(self, rows: list[tuple[int, dict[str, Any]]]) -> BadLine | None:
        """The first row whose id or email is taken, or whose department is not."""
        if not rows:
            return None
        ids = [values["id"] for _, values in rows]
        emails = [values["email"] for _, values in rows]
        taken_ids = set(self.existing(Employee.id, ids))
        taken_emails = set(self.existing(Employee.email, emails))
        wanted = {values["department_id"] for _, values in rows} - {None}
        self.departments.update(self.existing(Department.id, wanted - self.departments))
        for line, values in rows:
            if values["id"] in taken_ids:
                return BadLine(
                    line, f"id: an employee with id {values['id']} already exists"
                )
            if values["email"] in taken_emails:
                return BadLine(line, f"email: {values['email']} already exists")
            department = values["department_id"]
            if department is not None and department not in self.departments:
                return BadLine(
                    line, f"department_id: no department with id {department}"
                )
        return None

    def _check_managers(self, limit: int) -> BadLine | None:
        """Managers that exist neither in the file nor in the database, and
        cycles inside the file; only rows above line ``limit`` count."""
        outside = {m for m in self.managers.values() if m not in self.lines}
        stored = set(self.existing(Employee.id, outside))
        missing = [
            BadLine(self.lines[e], f"manager_id: no employee with id {m}")
            for e, m in self.managers.items()
            if m in outside and m not in stored and self.lines[e] < limit
        ]
        cycles = [error for error in self._cycles() if error.line < limit]
        return first_error(*missing, *cycles)

    def _cycles(self) -> Iterator[BadLine]:
        """Each management cycle, reported on the earliest line in it.

        Every row has at most one manager, so following managers from each
        row either leaves the file, reaches a row already walked, or comes
        back to the current walk: a cycle. Each row is walked once.
        """
        done: set[int] = set()
        for start in self.managers:
            walk: list[int] = []
            node = start
            while node in self.managers and node not in done:
                done.add(node)
                walk.append(node)
                node = self.managers[node]
            if node in walk:
                cycle = walk[walk.index(node) :]
                first = cycle.index(min(cycle, key=self.lines.__getitem__))
                cycle = cycle[first:] + cycle[:first]
                if len(cycle) == 1:
                    reason = "an employee cannot manage themselves"
                else:
                    chain = " -> ".join(str(e) for e in [*cycle, cycle[0]])
                    reason = f"a management cycle through ids {chain}"
                yield BadLine(self.lines[cycle[0]], f"manager_id: {reason}")

    def _set_managers(self) -> None:
        """The second pass: every row is in, so the managers that were not
        yet stored when their reports were inserted can be set now.

        ``updated_at`` is set to itself so its on-update default does not
        fire: an import keeps the file's timestamps and versions.
        """
        table = Employee.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(manager_id=bindparam("new_manager"), updated_at=table.c.updated_at)
        )
        pairs = [{"row_id": e, "new_manager": m} for e, m in self.later.items()]
        for chunk in self.chunks(pairs):
            self.session.execute(statement, chunk)
        if self.imported and self.session.get_bind().dialect.name == "postgresql":
            # Explicit ids do not move the sequence; the next POST would collide.
            self.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('employees', 'id'),"
                    " (SELECT max(id) FROM employees))"
                )
            )
