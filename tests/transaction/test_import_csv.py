"""company-service import-csv, run as a real process on committed data.

The file comes from the export itself, so these tests also hold the two
ends of the format together: export, import, export gives the same bytes.
"""

import contextlib
import csv
import io
import os
import pty
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from company_service.models import Employee
from company_service.testing import TESTING_INI, count_rows
from tests.support.cli import BIN, assert_one_line_error, run
from tests.support.company import (
    CSV,
    EMPLOYEES,
    FORMULA_PEOPLE,
    HEADER,
    TEXT_FIELDS,
    add_formula_people,
)


@pytest.fixture
def import_csv(database_url, clean_database, tmp_path):
    def invoke(content: str | bytes, name: str = "employees.csv"):
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return run(
            "company-service",
            "import-csv",
            TESTING_INI,
            str(path),
            database_url=database_url,
        )

    return invoke


def export(app, headers, **query) -> str:
    return app.get(CSV, params=query, headers=headers).text


def stored_rows(engine) -> list[tuple]:
    """Every column, search_key and salary_cents included."""
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(Employee.__table__).order_by("id"))
        ]


def delete_employees(engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(Employee).values(manager_id=None))
        connection.execute(Employee.__table__.delete())


def edit(text: str, line: int, **fields: str) -> str:
    """``text`` with some fields of the record on ``line`` replaced."""
    records = list(csv.reader(io.StringIO(text, newline="")))
    for name, value in fields.items():
        records[line - 1][HEADER.index(name)] = value
    out = io.StringIO()
    csv.writer(out).writerows(records)
    return out.getvalue()


def field(text: str, line: int, name: str) -> str:
    return list(csv.reader(io.StringIO(text, newline="")))[line - 1][HEADER.index(name)]


@pytest.mark.parametrize(
    "order",
    ["id", "-id"],  # managers before their reports; every manager after them
)
def test_export_delete_import_export_gives_the_same_bytes_and_rows(
    real_app, company, import_csv, clean_database, order
):
    headers, _ = company
    original = real_app.get(CSV, headers=headers).body
    rows = stored_rows(clean_database)
    exported = export(real_app, headers, sort=order)
    delete_employees(clean_database)

    result = import_csv(exported)

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"imported 8 employees from {Path(result.args[-1])}"
    ]
    assert real_app.get(CSV, headers=headers).body == original
    assert stored_rows(clean_database) == rows


def test_cells_behind_a_quote_are_imported_as_they_were_stored(
    real_app, company, import_csv, clean_database
):
    """The export puts a quote in front of text a spreadsheet would run and
    of text that starts with a quote; the import takes exactly one off."""
    headers, _ = company
    ids = add_formula_people(real_app, headers)
    listed = real_app.get(EMPLOYEES, params={"limit": "500"}, headers=headers).json
    rows = stored_rows(clean_database)
    exported = real_app.get(CSV, headers=headers).body
    cells = [
        [field(exported.decode(), line, name) for name in TEXT_FIELDS]
        for line in range(len(rows) - len(ids) + 2, len(rows) + 2)  # by id
    ]
    assert cells == [expected for _, expected in FORMULA_PEOPLE]
    delete_employees(clean_database)

    result = import_csv(exported)

    assert result.returncode == 0, result.stderr
    for employee_id, (body, _) in zip(ids, FORMULA_PEOPLE, strict=True):
        stored = real_app.get(f"{EMPLOYEES}/{employee_id}", headers=headers).json
        assert {name: stored[name] for name in body} == body
    again = real_app.get(EMPLOYEES, params={"limit": "500"}, headers=headers).json
    assert again == listed
    assert stored_rows(clean_database) == rows
    assert real_app.get(CSV, headers=headers).body == exported


def test_ids_go_on_after_the_imported_ones(
    real_app, company, import_csv, clean_database
):
    """On PostgreSQL the id sequence must be moved past the imported ids."""
    headers, ids = company
    delete_employees(clean_database)
    assert import_csv(many_rows(50, ids["eng"], first=10**6)).returncode == 0
    answer = real_app.post_json(
        EMPLOYEES,
        {"first_name": "New", "last_name": "One", "email": "new@example.com",
         "salary": "1"},
        headers=headers,
        status=201,
    )  # fmt: skip
    assert answer.json["id"] == 10**6 + 50


def next_one(n: int, last: int) -> int | None:
    """Each row managed by the next: every manager further down the file, in
    a chain far longer than one batch."""
    return n + 1 if n < last else None


def many_rows(count: int, department: int, first: int = 1, manager=next_one) -> str:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    last = first + count - 1
    for n in range(first, last + 1):
        writer.writerow(
            [n, "Row", n, f"row{n}@example.com", "", "2024-01-01", "1.00",
             department, manager(n, last), "true", now, now, 1]
        )  # fmt: skip
    return out.getvalue()


def managers_by_id(engine) -> dict[int, int | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(Employee.id, Employee.manager_id))
        return {employee_id: manager for employee_id, manager in rows}


def test_many_rows_in_several_batches_with_managers_further_down(
    real_app, company, import_csv, clean_database
):
    headers, ids = company
    delete_employees(clean_database)
    result = import_csv(many_rows(2500, ids["eng"]))
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # no progress line unless on a terminal
    assert managers_by_id(clean_database) == {
        n: next_one(n, 2500) for n in range(1, 2501)
    }
    chain = real_app.get(f"{EMPLOYEES}/2499/chain", headers=headers).json["items"]
    assert [item["id"] for item in chain] == [2500]


def test_managers_above_and_below_in_other_batches(company, import_csv, clean_database):
    """Managers in an earlier batch are stored with the row; the others in
    the second pass. Both must end up right."""

    def mixed(n: int, last: int) -> int | None:
        if n > 1200:
            return n - 1200  # stored already, in an earlier batch
        return n + 1 if n < 1200 else None  # further down

    _, ids = company
    delete_employees(clean_database)
    result = import_csv(many_rows(2500, ids["eng"], manager=mixed))
    assert result.returncode == 0, result.stderr
    assert managers_by_id(clean_database) == {n: mixed(n, 2500) for n in range(1, 2501)}


def test_a_bad_row_after_full_batches_leaves_nothing(
    company, import_csv, clean_database
):
    _, ids = company
    delete_employees(clean_database)
    text = edit(many_rows(2500, ids["eng"]), 2400, salary="-1")
    line = assert_one_line_error(import_csv(text))
    assert line.startswith("company-service: error: line 2400: salary: ")
    assert count_rows(clean_database, Employee) == 0


# Lines: 1 header, 2 ada, 3 grace, 4 zoe, 5 soren, 6 linus, 7 barbara, ...
# Each case: how to spoil the export, the line to blame, the reason (a regex).
BAD_LINES = {
    "invalid-email": (
        lambda t: edit(t, 5, email="not-an-email"),
        5,
        "email: value is not a valid email address: .+",
    ),
    "duplicate-email": (
        lambda t: edit(t, 5, email=field(t, 3, "email").upper()),
        5,
        r"email: grace@example\.com is also on line 3",
    ),
    "duplicate-id": (
        lambda t: edit(t, 5, id=field(t, 3, "id")),
        5,
        r"id: \d+ is also on line 3",
    ),
    "no-such-department": (
        lambda t: edit(t, 5, department_id="999999"),
        5,
        "department_id: no department with id 999999",
    ),
    "no-such-manager": (
        lambda t: edit(t, 5, manager_id="999999"),
        5,
        "manager_id: no employee with id 999999",
    ),
    "self-manager": (
        lambda t: edit(t, 5, manager_id=field(t, 5, "id")),
        5,
        "manager_id: an employee cannot manage themselves",
    ),
    "salary": (lambda t: edit(t, 5, salary="12.345"), 5, "salary: .+"),
    "active": (lambda t: edit(t, 5, active="yes"), 5, "active: .+"),
    "timestamp": (
        lambda t: edit(t, 5, created_at="2026-01-05 09:30:00"),
        5,
        "created_at: must be an RFC 3339 UTC time ending in Z",
    ),
    "version": (
        lambda t: edit(t, 5, version="0"),
        5,
        "version: must be an integer from 1 to 2147483647",
    ),
    "empty-name": (lambda t: edit(t, 5, first_name=""), 5, "first_name: .+"),
    "too-few-fields": (
        lambda t: "".join(
            (ln.rsplit(",", 1)[0] + "\r\n") if i == 4 else ln
            for i, ln in enumerate(t.splitlines(keepends=True))
        ),
        5,
        "expected 13 fields, found 12",
    ),
    "header": (
        lambda t: t.replace("first_name", "firstname", 1),
        1,
        "the header must be id,first_name,.+,version",
    ),
    "empty-file": (lambda t: "", 1, "the header must be .+"),
    # A quoted field over two physical lines: reported where it starts.
    "spans-lines": (
        lambda t: edit(t, 3, title="two\nlines"),
        3,
        "title: must be one line, with no control characters",
    ),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_the_first_bad_line_is_named_and_nothing_is_stored(
    real_app, company, import_csv, clean_database, case
):
    headers, _ = company
    mutate, number, reason = BAD_LINES[case]
    text = mutate(export(real_app, headers))
    delete_employees(clean_database)
    line = assert_one_line_error(import_csv(text))
    assert re.fullmatch(f"company-service: error: line {number}: {reason}", line), line
    assert count_rows(clean_database, Employee) == 0


def test_a_cycle_is_reported_on_its_first_line(
    real_app, company, import_csv, clean_database
):
    headers, _ = company
    text = export(real_app, headers)
    soren, barbara = field(text, 5, "id"), field(text, 7, "id")
    text = edit(edit(text, 5, manager_id=barbara), 7, manager_id=soren)
    delete_employees(clean_database)
    line = assert_one_line_error(import_csv(text))
    assert line == (
        f"company-service: error: line 5: manager_id: a management cycle"
        f" through ids {soren} -> {barbara} -> {soren}"
    )
    assert count_rows(clean_database, Employee) == 0


def test_an_earlier_line_wins_over_a_later_one_found_first(
    real_app, company, import_csv, clean_database
):
    """A manager that exists nowhere is found only at the end of the file,
    a missing department only when the batch is checked; on lines 4 and 3
    they come before the bad email on line 6."""
    headers, _ = company
    text = edit(export(real_app, headers), 6, email="bad")
    delete_employees(clean_database)
    missing = edit(text, 4, manager_id="999999")
    assert "line 4: manager_id" in assert_one_line_error(import_csv(missing))
    # A manager further down than the bad line is not missing: line 6 it is.
    below = edit(text, 4, manager_id=field(text, 9, "id"))
    assert "line 6: email" in assert_one_line_error(import_csv(below))
    # Departments are looked up a batch at a time, after line 6 was read.
    department = edit(text, 3, department_id="999999")
    assert "line 3: department_id" in assert_one_line_error(import_csv(department))
    assert count_rows(clean_database, Employee) == 0


def test_an_undecodable_byte_is_named_by_its_line(
    real_app, company, import_csv, clean_database
):
    headers, _ = company
    text = edit(export(real_app, headers), 4, last_name="XX")
    delete_employees(clean_database)
    data = text.encode().replace(b"XX", b"\xff\xfe")
    line = assert_one_line_error(import_csv(data))
    assert line == "company-service: error: line 4: the line is not valid UTF-8"


def test_rows_already_stored_are_refused(real_app, company, import_csv, clean_database):
    headers, ids = company
    text = export(real_app, headers)
    line = assert_one_line_error(import_csv(text))
    assert line == (
        "company-service: error: line 2: id: an employee with id"
        f" {ids['ada']} already exists"
    )
    # New ids, but the emails are taken.
    renumbered = edit(text, 2, id="999999", manager_id="")
    line = assert_one_line_error(import_csv(renumbered))
    assert (
        line == "company-service: error: line 2: email: ada@example.com already exists"
    )
    assert count_rows(clean_database, Employee) == 8


def test_a_missing_file_is_one_clear_line(database_url, clean_database, tmp_path):
    result = run(
        "company-service",
        "import-csv",
        TESTING_INI,
        str(tmp_path / "nope.csv"),
        database_url=database_url,
    )
    line = assert_one_line_error(result)
    assert line == (
        f"company-service: error: cannot read {tmp_path / 'nope.csv'}:"
        " No such file or directory"
    )


def test_on_a_terminal_a_progress_line_is_shown_and_cleared(
    company, database_url, clean_database, tmp_path
):
    _, ids = company
    delete_employees(clean_database)
    path = tmp_path / "many.csv"
    path.write_text(many_rows(2500, ids["eng"]))
    reader, writer = pty.openpty()
    try:
        result = subprocess.run(
            [str(BIN / "company-service"), "import-csv", TESTING_INI, str(path)],
            stderr=writer,
            env={**os.environ, "DATABASE_URL": database_url},
            timeout=120,
            check=False,
        )
        os.close(writer)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the terminal is drained
            while chunk := os.read(reader, 4096):
                shown += chunk
    finally:
        os.close(reader)
    assert result.returncode == 0, shown
    text = shown.decode()
    # Rows, the rate, the share of the file read and the time left.
    shown_rows = re.compile(
        r"\rimporting: ([0-9]+) rows, [0-9]+ rows/s, [0-9]+% of the file,"
        r" about [0-9 a-z]+ left\x1b\[K"
    )
    assert [int(rows) for rows in shown_rows.findall(text)] == [1000, 2000, 2500]
    assert text.endswith("\r\x1b[K" + f"imported 2500 employees from {path}\r\n")
