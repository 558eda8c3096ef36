"""Employees as CSV: the export's format, written and read back.

One module owns the format in both directions, so an import of an export
round-trips exactly: the same header, the same spelling of every value
(salary "98000.00", RFC 3339 timestamps with Z, true/false), null as an
empty field, and text a spreadsheet would run as a formula behind a quote
(see ``FORMULA_START``). ``employee_import`` stores what ``parse_row`` reads.
"""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from pydantic import ValidationError
from sqlalchemy import DateTime, Engine, Select, select, type_coerce
from sqlalchemy.orm import Session

from ..models import insert_values
from ..paging import Sort
from ..schemas.employee import EmployeeIn, EmployeeOut
from ..schemas.types import MAX_ID, cents_text, contract_message, naive_utc_timestamp
from .employees import EmployeeFilters, employees

FIELDS = tuple(EmployeeOut.model_fields)  # the representation's names, in order
# Timestamps are read as stored, naive UTC, and written straight out with a
# Z: making an aware datetime of each one only to format it again took a
# third of the export's time.
NAIVE_UTC = frozenset({"created_at", "updated_at"})
COLUMNS = tuple(
    employees.c.salary_cents
    if name == "salary"
    else type_coerce(employees.c[name], DateTime()).label(name)
    if name in NAIVE_UTC
    else employees.c[name]
    for name in FIELDS
)
DEFAULT_BATCH_SIZE = 1000


@dataclass
class BatchedImport:
    """What both import modes share: one session, batches, a progress callback."""

    session: Session
    batch_size: int = DEFAULT_BATCH_SIZE
    progress: Callable[[int], None] | None = None

    def chunks(self, values: Iterable[Any]) -> Iterator[list[Any]]:
        """``values`` in batch-sized lists, for IN lists and executemany."""
        values = list(values)
        for start in range(0, len(values), self.batch_size):
            yield values[start : start + self.batch_size]

    def existing(self, column: Any, values: Iterable[Any]) -> Iterator[Any]:
        """The ``values`` present in ``column``."""
        for chunk in self.chunks(values):
            yield from self.session.scalars(select(column).where(column.in_(chunk)))

    def ids_by(self, column: Any, values: Iterable[Any]) -> Iterator[tuple[Any, int]]:
        """(value, id) of each row whose ``column`` is one of ``values``."""
        table = column.table
        for chunk in self.chunks(values):
            statement = select(column, table.c.id).where(column.in_(chunk))
            yield from self.session.execute(statement)


TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")

# CSV injection (OWASP): a spreadsheet opening the export runs a cell that
# starts with one of these as a formula (=HYPERLINK(...) can send data away
# on a click). Such a text cell is written with a single quote in front,
# which spreadsheets show as text and do not run. A text cell that already
# starts with a quote gets one more, so the import can take exactly one
# leading quote off any text cell that has one and get the stored value
# back: an export imported into an empty table exports again byte for byte.
# Names cannot hold a tab or CR (one line, no control characters), but they
# are in OWASP's list and cost nothing here.
FORMULA_START = frozenset("=+-@\t\r")
QUOTE = "'"
ESCAPED_START = FORMULA_START | {QUOTE}
# Only the free text needs it. Everything else the service writes starts
# with a digit or a letter: ids, department_id, manager_id and version are
# >= 1; dates and timestamps start with a four-digit year; active is
# true/false; salary is never negative (the salary_range CHECK, and every
# write is validated to 0 <= salary < 10^10), the one way a number could
# start with "-".
TEXT_FIELDS = ("first_name", "last_name", "email", "title")

# --- export ----------------------------------------------------------------


def export_statement(filters: EmployeeFilters, sort: Sort) -> Select[Any]:
    """Plain columns, not ORM objects: a row costs a tuple, not an identity map."""
    return filters.apply(select(*COLUMNS)).order_by(*sort.order_by())


def neutralise(value: str) -> str:
    """``value`` as the export writes a text cell: behind a quote when a
    spreadsheet would run it, or when it starts with a quote already (so
    that ``unescape`` is exact)."""
    return QUOTE + value if value[:1] in ESCAPED_START else value


def unescape(value: str) -> str:
    """A text cell of the export back to the stored value: one leading
    quote off, the one ``neutralise`` added."""
    return value[1:] if value[:1] == QUOTE else value


def csv_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """One row as the JSON representation spells it (csv writes None as ""),
    its text cells neutralised (see FORMULA_START).

    The check is ``neutralise`` written inline, a set lookup per text cell:
    a function call per cell costs noticeably on the export's hot path.
    """
    (id_, first, last, email, title, hired, cents) = row[:7]
    (department, manager, active, created, updated, version) = row[7:]
    return (
        id_,
        QUOTE + first if first[:1] in ESCAPED_START else first,
        QUOTE + last if last[:1] in ESCAPED_START else last,
        QUOTE + email if email[:1] in ESCAPED_START else email,
        QUOTE + title if title and title[0] in ESCAPED_START else title,
        hired.isoformat(),
        cents_text(cents),
        department,
        manager,
        "true" if active else "false",
        naive_utc_timestamp(created),  # as stored (see COLUMNS)
        naive_utc_timestamp(updated),
        version,
    )


def stream_csv(
    engine: Engine, statement: Select[Any], batch_size: int
) -> Iterator[bytes]:
    """The header, then one chunk of CSV per ``batch_size`` rows.

    The rows are read on a connection of the generator's own: the WSGI
    server iterates the body after pyramid_tm has committed and closed the
    request's session. ``stream_results`` makes PostgreSQL and MariaDB use a
    server-side cursor, so only one batch is ever in memory. The ``with``
    returns the connection to the pool however iteration ends, including a
    client that goes away (the server then calls the generator's close()).
    Closing the result first ends a half-read server-side cursor cleanly
    (PyMySQL reads and drops the rest of an unfinished result). The query
    runs before the first byte is yielded, so a failure to start is still
    an error status rather than a truncated 200.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> bytes:
        chunk = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return chunk

    options = {"stream_results": True, "yield_per": batch_size}
    with (
        engine.connect() as connection,
        connection.execution_options(**options).execute(statement) as result,
    ):
        writer.writerow(FIELDS)
        yield take()
        for rows in result.partitions():
            writer.writerows(map(csv_row, rows))
            yield take()


# --- reading ---------------------------------------------------------------


class BadLine(Exception):
    """The first line of the file that cannot be imported, and why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line


def first_error(*errors: BadLine | None) -> BadLine | None:
    found = [error for error in errors if error is not None]
    return min(found, key=lambda error: error.line, default=None)


def read_csv(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """Each record, the header first, as (line where it starts, fields): a
    quoted field may span lines, and the error belongs to the first."""
    reader = csv.reader(handle, strict=True)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as error:
        raise BadLine(start, f"not valid CSV: {error}") from None


def records(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """The header checked, then each row as ``read_csv`` gives it."""
    lines = read_csv(handle)
    if next(lines, (1, None))[1] != list(FIELDS):
        raise BadLine(1, f"the header must be {','.join(FIELDS)}")
    yield from lines


def _positive_int(line: int, name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID):
        raise BadLine(line, f"{name}: must be an integer from 1 to {MAX_ID}")
    return int(value)


def _timestamp(line: int, name: str, value: str) -> datetime:
    if not TIMESTAMP.fullmatch(value):
        raise BadLine(line, f"{name}: must be an RFC 3339 UTC time ending in Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadLine(line, f"{name}: not a real date and time") from None


def _optional(value: str, convert: Callable[[str], Any]) -> Any:
    """An empty field is null. A value ``convert`` cannot read goes on as
    text, so pydantic reports it with the message the API would give."""
    if value == "":
        return None
    try:
        return convert(value)
    except ValueError:
        return value


def _ascii_int(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise ValueError(value)
    return int(value)


BOOLEANS = {"true": True, "false": False}


def parse_id(line: int, record: list[str]) -> int:
    """The row's id, checked first: other rows may refer to it."""
    check_shape(line, record, len(FIELDS))
    return _positive_int(line, "id", record[0])


def check_shape(line: int, record: list[str], fields: int) -> None:
    """The record has ``fields`` fields, all of them valid UTF-8."""
    if len(record) != fields:
        raise BadLine(line, f"expected {fields} fields, found {len(record)}")
    try:
        "".join(record).encode("utf-8")
    except UnicodeEncodeError:  # surrogateescape'd bytes, see cli.open_csv
        raise BadLine(line, "the line is not valid UTF-8") from None


def parse_row(line: int, record: list[str]) -> tuple[dict[str, Any], int | None]:
    """The row's column values, with manager_id NULL, and its manager.

    The editable fields go through EmployeeIn, the API's own rules; the
    read-only ones are taken from the file, so a round trip is exact. The
    text fields are unescaped first (one leading quote off, see
    FORMULA_START), so the rules see the value the export started from.
    """
    raw = dict(zip(FIELDS, record, strict=True))
    for name in TEXT_FIELDS:
        raw[name] = unescape(raw[name])
    try:
        data = EmployeeIn.model_validate(
            {
                "first_name": raw["first_name"],
                "last_name": raw["last_name"],
                "email": raw["email"],
                "title": _optional(raw["title"], str),
                "hire_date": raw["hire_date"],
                "salary": raw["salary"],
                "department_id": _optional(raw["department_id"], _ascii_int),
                "manager_id": _optional(raw["manager_id"], _ascii_int),
                "active": BOOLEANS.get(raw["active"], raw["active"]),
            }
        )
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadLine(line, f"{where}: {contract_message(first)}") from None
    values = insert_values(data.model_dump())
    manager = values.pop("manager_id")
    values.update(
        id=_positive_int(line, "id", raw["id"]),
        manager_id=None,
        created_at=_timestamp(line, "created_at", raw["created_at"]),
        updated_at=_timestamp(line, "updated_at", raw["updated_at"]),
        version=_positive_int(line, "version", raw["version"]),
    )
    return values, manager


def manager_of(record: list[str]) -> tuple[int | None, int | None]:
    """(id, manager_id) of a row not otherwise read, where they are ids."""
    if len(record) != len(FIELDS):
        return None, None
    employee_id = _optional(record[0], _ascii_int)
    manager = _optional(record[FIELDS.index("manager_id")], _ascii_int)
    return (
        employee_id if isinstance(employee_id, int) else None,
        manager if isinstance(manager, int) else None,
    )
