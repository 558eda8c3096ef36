"""GET /api/v1/employees.csv: the list's rows, filters and sort, as CSV.

The export reads on a connection of its own (see views/export.py), which
cannot see the rolled-back harness's uncommitted rows: its content is
tested through ``real_app`` on committed rows. Refusals happen before any
row is read, so they use the fast harness.
"""

import csv
import io

import pytest

from company_service.testing import bearer, store_token
from tests.support.api import error_locs, problem
from tests.support.company import (
    CSV,
    EMPLOYEES,
    FORMULA_PEOPLE,
    HEADER,
    TEXT_FIELDS,
    add_formula_people,
)

# OWASP's "CSV injection" list, and the quote that neutralises them.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def as_csv(value: object) -> str:
    """How the export spells a JSON value: null empty, booleans in lower case,
    and text a spreadsheet would run (or that starts with a quote) behind a
    quote. Only text can start that way: numbers here are never negative."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_rows(answer) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer.text, newline="")))


def assert_export_matches_list(app, headers, query: dict) -> int:
    """The export equals every page of the list for ``query``, field by field."""
    listed = app.get(EMPLOYEES, params={**query, "limit": "500"}, headers=headers)
    assert listed.json["next_cursor"] is None
    items = listed.json["items"]
    rows = csv_rows(app.get(CSV, params=query, headers=headers))
    assert rows[0] == HEADER
    assert len(rows) - 1 == len(items)
    for row, item in zip(rows[1:], items, strict=True):
        assert list(item) == HEADER
        for name, value in zip(HEADER, row, strict=True):
            assert value == as_csv(item[name]), (item["id"], name)
    return len(items)


def test_the_answer_is_a_csv_attachment_with_the_representations_header(
    real_app, company
):
    headers, _ = company
    answer = real_app.get(CSV, headers=headers, status=200)
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="employees.csv"'
    )
    assert answer.body.startswith((",".join(HEADER) + "\r\n").encode())
    assert len(csv_rows(answer)) == 1 + 8


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, 8),
        ({"department_id": "eng"}, 3),
        ({"department_id": "null"}, 1),
        ({"manager_id": "null"}, 2),
        ({"manager_id": "ada"}, 2),
        ({"active": "false"}, 2),
        ({"hired_after": "2022-02-02", "hired_before": "2024-04-04"}, 4),
        ({"q": "ø"}, 2),
        ({"q": "EXAMPLE.COM"}, 8),
        ({"sort": "-salary"}, 8),
        ({"sort": "last_name,-hire_date", "department_id": "sales"}, 4),
        ({"active": "true", "sort": "-hire_date"}, 6),
    ],
)
def test_the_export_has_exactly_the_lists_rows_for_the_same_query(
    real_app, company, query, expected
):
    headers, ids = company
    query = {k: str(ids.get(v, v)) for k, v in query.items()}
    assert assert_export_matches_list(real_app, headers, query) == expected


def test_values_are_spelled_as_in_the_json_representation(real_app, company):
    headers, ids = company
    rows = csv_rows(real_app.get(CSV, params={"q": "grace"}, headers=headers))
    grace = dict(zip(HEADER, rows[1], strict=True))
    assert grace["email"] == "grace@example.com"
    assert grace["salary"] == "0.00"
    assert grace["manager_id"] == str(ids["ada"])
    assert grace["active"] == "true"
    assert grace["version"] == "2"
    assert grace["created_at"].endswith("Z") and grace["updated_at"].endswith("Z")
    assert grace["updated_at"] > grace["created_at"]
    top = csv_rows(real_app.get(CSV, params={"q": "ada"}, headers=headers))[1]
    assert top[HEADER.index("title")] == 'Engineer, "chief"'
    assert top[HEADER.index("manager_id")] == ""


def test_cells_a_spreadsheet_would_run_are_behind_a_quote(real_app, company):
    """OWASP's CSV injection: =, +, -, @ (tab and CR cannot be in a stored
    name) and a leading quote get a quote in front; nothing else changes."""
    headers, _ = company
    ids = add_formula_people(real_app, headers)
    rows = csv_rows(real_app.get(CSV, headers=headers))[1:]
    by_id = {int(row[0]): row for row in rows}
    for employee_id, (_, cells) in zip(ids, FORMULA_PEOPLE, strict=True):
        row = by_id[employee_id]
        assert [row[HEADER.index(name)] for name in TEXT_FIELDS] == cells
    assert assert_export_matches_list(real_app, headers, {}) == 8 + 3


def test_a_reader_may_export(real_app, company, clean_database):
    with clean_database.begin() as connection:
        token = store_token(connection, "reader")
    rows = csv_rows(real_app.get(CSV, headers=bearer(token), status=200))
    assert len(rows) == 9


def test_nothing_matching_is_the_header_alone(real_app, company):
    headers, _ = company
    answer = real_app.get(CSV, params={"q": "nobody"}, headers=headers)
    assert answer.text == ",".join(HEADER) + "\r\n"


def test_without_a_token_it_is_401(testapp):
    answer = testapp.get(CSV, status=401)
    problem(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("department_id=abc", "department_id"),
        ("manager_id=-1", "manager_id"),
        ("active=yes", "active"),
        ("hired_after=2024-13-01", "hired_after"),
        ("hired_before=yesterday", "hired_before"),
        ("q=", "q"),
        ("sort=salary,nope", "sort"),
        ("sort=id,id", "sort"),
        ("limit=10", "limit"),
        ("cursor=abc", "cursor"),
        ("count=true", "count"),
        ("frobnicate=1", "frobnicate"),
        ("active=true&active=false", "active"),
    ],
)
def test_a_bad_query_is_422_naming_the_parameter(testapp, reader_token, query, loc):
    answer = testapp.get(f"{CSV}?{query}", headers=bearer(reader_token), status=422)
    assert error_locs(answer) == [["query", loc]]
