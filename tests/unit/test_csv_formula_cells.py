"""The export's CSV injection rule, cell by cell, without a database.

Tab and CR cannot reach a stored name through the API (one line, no
control characters), so only here can the rule be seen to cover them.
"""

import csv
import io
from datetime import date, datetime

import pytest

from company_service.services.employee_csv import (
    FIELDS,
    csv_row,
    neutralise,
    parse_row,
    unescape,
)

# OWASP's list, the quote itself, and text that starts some other way.
CASES = [
    ("=1+1", "'=1+1"),
    ("+1", "'+1"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("'quoted", "''quoted"),
    ("''", "'''"),
    ("'", "''"),
    ("Ada", "Ada"),
    ("O'Brien", "O'Brien"),
    (" =1", " =1"),  # not at the start: a spreadsheet does not run it
    ("＝1", "＝1"),  # a full-width sign is not OWASP's "="
    ("", ""),
]


def stored_row(first: str, last: str, email: str, title: str | None) -> tuple:
    when = datetime(2024, 1, 2, 3, 4, 5, 6)
    return (1, first, last, email, title, date(2024, 1, 1), 0, None, None, True,
            when, when, 1)  # fmt: skip


@pytest.mark.parametrize(("value", "cell"), CASES)
def test_a_text_cell_is_neutralised_and_read_back_exactly(value, cell):
    assert neutralise(value) == cell
    assert unescape(cell) == value


@pytest.mark.parametrize(("value", "cell"), CASES)
def test_each_text_field_of_a_row_gets_the_rule(value, cell):
    row = csv_row(stored_row(value, value, value, value))
    assert row[1:5] == (cell, cell, cell, cell)


def test_the_other_fields_are_written_as_they_were():
    """Numbers, dates, booleans and timestamps never start with a formula
    character (salaries are >= 0), so they are not looked at."""
    row = csv_row(stored_row("=a", "b", "c@example.com", None))
    assert row == (1, "'=a", "b", "c@example.com", None, "2024-01-01", "0.00",
                   None, None, "true", "2024-01-02T03:04:05.000006Z",
                   "2024-01-02T03:04:05.000006Z", 1)  # fmt: skip


def test_parse_row_takes_one_quote_off_each_text_field():
    out = io.StringIO()
    csv.writer(out).writerow(
        csv_row(stored_row('=HYPERLINK("http://x","y")', "'quoted",
                           "-cmd@example.com", "@SUM(A1)"))
    )  # fmt: skip
    record = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(record) == len(FIELDS)
    values, manager = parse_row(2, record)
    assert manager is None
    assert (
        values["first_name"],
        values["last_name"],
        values["email"],
        values["title"],
    ) == ('=HYPERLINK("http://x","y")', "'quoted", "-cmd@example.com", "@SUM(A1)")
