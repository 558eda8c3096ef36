"""Keyset paging: every matching row exactly once, in the documented order.

The expected order is computed here in Python from the rows the test made:
text by code point (Python's str order), the id as the final tie-breaker in
the direction of the last named sort field. The data repeats every sort
value on purpose, so only the tie-breaker separates many rows.
"""

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from company_service.models import Employee
from company_service.testing import bearer
from tests.support.factories import DepartmentFactory, EmployeeFactory

EMPLOYEES = "/api/v1/employees"
DEPARTMENTS = "/api/v1/departments"
LIMIT = 7
LINK = re.compile(r'<(?P<url>[^<>]+)>; rel="next"')

EMPLOYEE_SORTS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "hire_date",
    "salary",
    "created_at",
)
DEPARTMENT_SORTS = ("id", "name", "created_at")

# Few distinct values, so that ties are the rule; several orders differ from
# what a case-insensitive, accent-aware or text-typed comparison would give.
FIRST_NAMES = ("Ada", "ada", "Émile", "Zoë", "Zoe", "Ωmega", "Bo%b")
LAST_NAMES = ("smith", "Smith", "Øster", "N_g", "Ñandú", "😀Happy")
HIRE_DATES = (date(2021, 3, 1), date(2019, 12, 31), date(2020, 1, 1))
# Text order differs from numeric order.
SALARIES = tuple(map(Decimal, ("9000.00", "100000.00", "50000.50", "9000.00")))
BASE_TIME = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
CREATED = (
    BASE_TIME + timedelta(microseconds=1),
    BASE_TIME,
    BASE_TIME + timedelta(seconds=1),
    BASE_TIME + timedelta(microseconds=999_999),
)
DEPARTMENT_NAMES = (
    "Zeta",
    "alpha",
    "Émigrés",
    "Ωmega",
    "Beta",
    "beta team",
    "Ärger",
    "zulu",
    "Apple",
    "Å",
    "😀 Fun",
    "Ñ",
    "Aa",
    "a",
)


@dataclass
class Data:
    employees: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    teams: list[int]  # the three departments that have employees
    managers: list[int]


def _employee_row(employee: Employee) -> dict[str, Any]:
    return {
        "id": employee.id,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "email": employee.email,
        "hire_date": employee.hire_date,
        "salary": employee.salary,
        "created_at": employee.created_at,
        "department_id": employee.department_id,
        "manager_id": employee.manager_id,
        "active": employee.active,
    }


@pytest.fixture
def data(dbsession) -> Data:
    """14 departments, 42 employees in three of them (and in none)."""
    departments = [
        DepartmentFactory(name=name, created_at=CREATED[i % 3])
        for i, name in enumerate(DEPARTMENT_NAMES)
    ]
    teams = [departments[5].id, departments[2].id, departments[9].id]

    employees: list[Employee] = []
    for i in range(42):
        first = FIRST_NAMES[i % 7]
        last = LAST_NAMES[(i // 2) % 6]
        manager = employees[i % 5] if i >= 5 and i % 6 != 0 else None
        employees.append(
            EmployeeFactory(
                first_name=first,
                last_name=last,
                email=f"{last}.{first}.{(i * 17) % 42}@example.com",
                hire_date=HIRE_DATES[(i // 3) % 3],
                salary=SALARIES[(i * 5) % 4],
                department_id=None if i % 10 == 9 else teams[i % 3],
                manager_id=manager.id if manager else None,
                active=i % 4 != 1,
                created_at=CREATED[(i * 7) % 4],
            )
        )
    return Data(
        employees=[_employee_row(e) for e in employees],
        departments=[
            {"id": d.id, "name": d.name, "created_at": d.created_at}
            for d in departments
        ],
        teams=teams,
        managers=[m.id for m in employees[:5]],
    )


def expected_ids(rows: list[dict[str, Any]], sort: str) -> list[int]:
    """The contract's order: the named keys, then the id in the last one's direction."""
    keys = [(part.removeprefix("-"), part.startswith("-")) for part in sort.split(",")]
    if keys[-1][0] != "id":
        keys.append(("id", keys[-1][1]))
    ordered = list(rows)
    for name, descending in reversed(keys):  # stable sorts, least significant first
        ordered.sort(key=lambda row, name=name: row[name], reverse=descending)
    return [row["id"] for row in ordered]


def follow(
    testapp, token: str, path: str, params: dict[str, str], limit: int = LIMIT
) -> list[dict[str, Any]]:
    """Every page from the first, by next_cursor; checks Link against the cursor.

    Returns the bodies. Pages before the last are full and carry a Link whose
    URL answers exactly what the cursor answers; the last has neither.
    """
    query = {**params, "limit": str(limit)}
    response = testapp.get(path, params=query, headers=bearer(token))
    bodies = []
    while True:
        body = response.json
        bodies.append(body)
        assert len(bodies) <= 100, "paging does not end"
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert len(body["items"]) == limit
        match = LINK.fullmatch(response.headers["Link"])
        assert match, response.headers["Link"]
        url = urlsplit(match["url"])
        assert (url.scheme, url.netloc, url.path) == ("http", "example.com", path)
        assert sorted(parse_qsl(url.query)) == sorted(
            {**query, "cursor": cursor}.items()
        )
        by_cursor = testapp.get(
            path, params={**query, "cursor": cursor}, headers=bearer(token)
        )
        by_link = testapp.get(match["url"], headers=bearer(token))
        assert by_link.json == by_cursor.json
        assert by_link.headers.get("Link") == by_cursor.headers.get("Link")
        response = by_cursor
    # No empty trailing page: only a first page of nothing may be empty.
    assert all(body["items"] for body in bodies) or len(bodies) == 1
    return bodies


def ids_of(bodies: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for body in bodies for item in body["items"]]


def assert_pages(bodies: list[dict[str, Any]], expected: list[int], limit: int):
    assert ids_of(bodies) == expected
    assert len(bodies) == max(1, math.ceil(len(expected) / limit))


def _matches(needle: str) -> Callable[[dict[str, Any]], bool]:
    needle = needle.casefold()
    return lambda e: any(
        needle in e[field].casefold() for field in ("first_name", "last_name", "email")
    )


def employee_filters(
    data: Data,
) -> list[tuple[dict[str, str], Callable[[dict[str, Any]], bool]]]:
    team, other = data.teams[0], data.teams[1]
    manager = data.managers[2]
    return [
        ({}, lambda e: True),
        ({"department_id": str(team)}, lambda e: e["department_id"] == team),
        ({"department_id": "null"}, lambda e: e["department_id"] is None),
        ({"active": "true"}, lambda e: e["active"]),
        (
            {"active": "false", "department_id": str(other)},
            lambda e: not e["active"] and e["department_id"] == other,
        ),
        ({"q": "ÉMI"}, _matches("émi")),
        ({"q": "SMI"}, _matches("smi")),
        ({"q": "_"}, _matches("_")),  # % and _ are plain characters
        ({"q": "O%"}, _matches("o%")),
        ({"manager_id": "null"}, lambda e: e["manager_id"] is None),
        ({"manager_id": str(manager)}, lambda e: e["manager_id"] == manager),
        (
            {"hired_after": "2020-01-01", "hired_before": "2021-03-01"},
            lambda e: date(2020, 1, 1) <= e["hire_date"] <= date(2021, 3, 1),
        ),
        ({"q": "nobody at all"}, lambda e: False),
    ]


def test_the_data_repeats_sort_values_and_fills_whole_pages(data):
    """The premises the paging tests rely on."""
    assert len(data.employees) % LIMIT == 0  # an exactly full last page
    assert len(data.departments) % LIMIT == 0
    for field in EMPLOYEE_SORTS[1:]:
        values = [e[field] for e in data.employees]
        assert len(set(values)) < len(values) or field == "email"
    for _params, keep in employee_filters(data)[1:-1]:
        matching = [e for e in data.employees if keep(e)]
        assert 0 < len(matching) < len(data.employees)


@pytest.mark.parametrize("field", EMPLOYEE_SORTS)
def test_employees_page_every_row_once_in_order_for_each_sort_and_filter(
    testapp, reader_token, data, field
):
    for sort in (field, f"-{field}"):
        for params, keep in employee_filters(data):
            expected = expected_ids([e for e in data.employees if keep(e)], sort)
            bodies = follow(testapp, reader_token, EMPLOYEES, {**params, "sort": sort})
            assert ids_of(bodies) == expected, (sort, params)
            assert len(bodies) == max(1, math.ceil(len(expected) / LIMIT))


@pytest.mark.parametrize("limit", [LIMIT, 5])
@pytest.mark.parametrize("field", DEPARTMENT_SORTS)
def test_departments_page_every_row_once_in_order_for_each_sort(
    testapp, reader_token, data, field, limit
):
    for sort in (field, f"-{field}"):
        expected = expected_ids(data.departments, sort)
        bodies = follow(testapp, reader_token, DEPARTMENTS, {"sort": sort}, limit)
        assert_pages(bodies, expected, limit)
        counts = {
            item["id"]: item["employee_count"]
            for body in bodies
            for item in body["items"]
        }
        for department in data.departments:
            assert counts[department["id"]] == sum(
                e["department_id"] == department["id"] for e in data.employees
            )


def test_default_sort_is_by_id(testapp, reader_token, data):
    bodies = follow(testapp, reader_token, EMPLOYEES, {})
    assert_pages(bodies, sorted(e["id"] for e in data.employees), LIMIT)


@pytest.mark.parametrize(
    "sort",
    [
        "-hire_date,last_name",
        "salary,-first_name",
        "last_name,first_name,-created_at",
        "-salary,hire_date,-email",
        "first_name,-id",
        "-created_at,salary,last_name,first_name",
    ],
)
def test_employees_multi_field_sorts_page_fully(testapp, reader_token, data, sort):
    for params, keep in employee_filters(data)[:4]:
        expected = expected_ids([e for e in data.employees if keep(e)], sort)
        bodies = follow(testapp, reader_token, EMPLOYEES, {**params, "sort": sort})
        assert_pages(bodies, expected, LIMIT)


@pytest.mark.parametrize("sort", ["-created_at,name", "created_at,-id"])
def test_departments_multi_field_sorts_page_fully(testapp, reader_token, data, sort):
    bodies = follow(testapp, reader_token, DEPARTMENTS, {"sort": sort}, 4)
    assert_pages(bodies, expected_ids(data.departments, sort), 4)


@pytest.mark.parametrize("limit", [1, 7, 10, 500])
def test_count_is_the_number_of_matching_rows_on_every_page(
    testapp, reader_token, data, limit
):
    for params, keep in employee_filters(data)[:6]:
        matching = [e for e in data.employees if keep(e)]
        query = {**params, "count": "true", "sort": "-salary"}
        bodies = follow(testapp, reader_token, EMPLOYEES, query, limit)
        assert_pages(bodies, expected_ids(matching, "-salary"), limit)
        assert [body["total"] for body in bodies] == [len(matching)] * len(bodies)
    bodies = follow(testapp, reader_token, DEPARTMENTS, {"count": "true"}, limit)
    assert {body["total"] for body in bodies} == {len(data.departments)}


def test_total_only_when_asked(testapp, reader_token, data):
    for count in ({}, {"count": "false"}):
        body = testapp.get(
            EMPLOYEES, params={**count, "limit": "3"}, headers=bearer(reader_token)
        ).json
        assert "total" not in body
        assert len(body["items"]) == 3


# --- what is refused -------------------------------------------------------


def first_cursor(testapp, token: str, path: str, **params: str) -> str:
    """The ``next_cursor`` of the first page ``params`` ask for: there is one."""
    cursor = testapp.get(path, params=params, headers=bearer(token)).json["next_cursor"]
    assert cursor
    return cursor


def assert_refused(testapp, token: str, path: str, *names: str, **params: str):
    """A GET with ``params`` is a 422 that names the query parameters
    ``names``, and leaks nothing of the code or the SQL behind it."""
    response = testapp.get(
        path, params=params, headers=bearer(token), expect_errors=True
    )
    assert response.status_int == 422
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == 422
    assert [e["loc"] for e in body["errors"]] == [["query", n] for n in names]
    for leak in ("Traceback", "sqlalchemy", "SELECT"):
        assert leak not in response.text


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


SIGNATURE = 32  # bytes of HMAC-SHA256 before the JSON payload


def _flip_first(cursor: str) -> str:
    return ("X" if cursor[0] != "X" else "Y") + cursor[1:]


def _relabel(cursor: str, change: Callable[[list], None]) -> str:
    """The same signature over a payload that says something else."""
    raw = _unb64(cursor)
    payload = json.loads(raw[SIGNATURE:])
    change(payload)
    return _b64(raw[:SIGNATURE] + json.dumps(payload).encode())


def _forge_value(cursor: str) -> str:
    # a plausible last_name, before every real one
    return _relabel(cursor, lambda payload: payload[2].__setitem__(0, "A"))


def _resort(cursor: str) -> str:
    """A payload re-labelled for sort=first_name, under the old signature."""
    return _relabel(cursor, lambda payload: payload.__setitem__(1, "first_name,id"))


BROKEN_CURSORS: dict[str, Callable[[str], str]] = {
    "payload-char-changed": lambda c: c[:-2] + ("A" if c[-2] != "A" else "B") + c[-1],
    "signature-char-changed": _flip_first,
    "payload-value-changed": _forge_value,
    "truncated-by-one": lambda c: c[:-1],
    "truncated-to-half": lambda c: c[: len(c) // 2],
    "signature-stripped": lambda c: _b64(_unb64(c)[SIGNATURE:]),
    "signature-zeroed": lambda c: _b64(bytes(SIGNATURE) + _unb64(c)[SIGNATURE:]),
    "signature-only": lambda c: _b64(_unb64(c)[:SIGNATURE]),
    "extra-part": lambda c: c + ".AAAA",
    "doubled": lambda c: c + c,
}


@pytest.mark.parametrize("how", BROKEN_CURSORS)
def test_a_damaged_cursor_is_a_422(testapp, reader_token, data, how):
    query = {"sort": "last_name", "limit": "3"}
    cursor = first_cursor(testapp, reader_token, EMPLOYEES, **query)
    broken = BROKEN_CURSORS[how](cursor)
    assert broken != cursor
    assert_refused(testapp, reader_token, EMPLOYEES, "cursor", **query, cursor=broken)


def test_a_cursor_relabelled_for_another_sort_is_a_422(testapp, reader_token, data):
    cursor = first_cursor(testapp, reader_token, EMPLOYEES, sort="last_name", limit="3")
    relabelled = {"sort": "first_name", "limit": "3", "cursor": _resort(cursor)}
    assert_refused(testapp, reader_token, EMPLOYEES, "cursor", **relabelled)


@pytest.mark.parametrize(
    ("path", "made_for", "used_with"),
    [
        (EMPLOYEES, "last_name", "first_name"),
        (EMPLOYEES, "last_name", "-last_name"),
        (EMPLOYEES, "-hire_date,last_name", "-hire_date"),
        (EMPLOYEES, "hire_date", "created_at"),
        (EMPLOYEES, "id", "-id"),
        (DEPARTMENTS, "name", "-name"),
        (DEPARTMENTS, "created_at", "name"),
    ],
)
def test_a_cursor_made_for_another_sort_is_a_422(
    testapp, reader_token, data, path, made_for, used_with
):
    cursor = first_cursor(testapp, reader_token, path, sort=made_for, limit="2")
    query = {"sort": used_with, "limit": "2", "cursor": cursor}
    assert_refused(testapp, reader_token, path, "cursor", **query)


@pytest.mark.parametrize(
    "cursor",
    ["", "abc", "!!!", ".", "..", "a.b", "null", "é", "\x00", "%", "x" * 8000],
    ids=lambda c: repr(c[:12]),
)
@pytest.mark.parametrize("path", [EMPLOYEES, DEPARTMENTS])
def test_a_garbage_cursor_is_a_422(testapp, reader_token, path, cursor):
    assert_refused(testapp, reader_token, path, "cursor", cursor=cursor)


@pytest.mark.parametrize(
    ("path", "sort"),
    [
        (EMPLOYEES, "nope"),
        (EMPLOYEES, "salary_cents"),
        (EMPLOYEES, "search_key"),
        (EMPLOYEES, "title"),
        (EMPLOYEES, "First_Name"),
        (EMPLOYEES, "-"),
        (EMPLOYEES, "--last_name"),
        (EMPLOYEES, "last_name,"),
        (EMPLOYEES, ",last_name"),
        (EMPLOYEES, "last_name,last_name"),
        (EMPLOYEES, "last_name,-last_name"),
        (EMPLOYEES, "-hire_date,first_name,hire_date"),
        (EMPLOYEES, "first_name,nope"),
        (DEPARTMENTS, "employee_count"),
        (DEPARTMENTS, "description"),
        (DEPARTMENTS, "name,name"),
        (DEPARTMENTS, "-name,name"),
        (EMPLOYEES, "id,nope"),
        (EMPLOYEES, "id,id"),
        (EMPLOYEES, "last_name,id,nope"),
        (DEPARTMENTS, "-id,bogus"),
    ],
)
def test_a_bad_sort_is_a_422(testapp, reader_token, path, sort):
    assert_refused(testapp, reader_token, path, "sort", sort=sort)


def test_a_bad_sort_is_reported_rather_than_the_cursor(testapp, reader_token, data):
    cursor = first_cursor(testapp, reader_token, EMPLOYEES, limit="2")
    query = {"sort": "nope", "cursor": cursor, "limit": "0"}
    assert_refused(testapp, reader_token, EMPLOYEES, "limit", "sort", **query)


@pytest.mark.parametrize(("limit", "size"), [("1", 1), ("500", 42), ("07", 7)])
def test_limit_bounds_are_accepted(testapp, reader_token, data, limit, size):
    body = testapp.get(
        EMPLOYEES, params={"limit": limit}, headers=bearer(reader_token)
    ).json
    assert len(body["items"]) == size
    assert (body["next_cursor"] is None) == (size == len(data.employees))


def test_the_default_limit_is_50(testapp, reader_token, data, dbsession):
    EmployeeFactory.create_batch(10)
    body = testapp.get(EMPLOYEES, headers=bearer(reader_token)).json
    assert len(body["items"]) == 50
    assert body["next_cursor"]


@pytest.mark.parametrize(
    "limit", ["0", "501", "x", "-1", "", "1.5", " 7", "٧", "1e2", "9" * 30]
)
@pytest.mark.parametrize("path", [EMPLOYEES, DEPARTMENTS])
def test_a_limit_out_of_bounds_is_a_422(testapp, reader_token, path, limit):
    assert_refused(testapp, reader_token, path, "limit", limit=limit)


# --- a department's employees ------------------------------------------------


@pytest.mark.parametrize(
    "sort", ["last_name", "-salary", "-hire_date,first_name", "created_at", "-id"]
)
def test_a_departments_employees_page_with_cursors(testapp, reader_token, data, sort):
    for team in data.teams:
        path = f"{DEPARTMENTS}/{team}/employees"
        staff = [e for e in data.employees if e["department_id"] == team]
        for params, keep in (
            ({}, lambda e: True),
            ({"active": "true"}, lambda e: e["active"]),
            (
                {"manager_id": "null", "count": "true"},
                lambda e: e["manager_id"] is None,
            ),
        ):
            matching = [e for e in staff if keep(e)]
            query = {**params, "sort": sort}
            bodies = follow(testapp, reader_token, path, query, 3)
            assert_pages(bodies, expected_ids(matching, sort), 3)
            if "count" in params:
                assert {body["total"] for body in bodies} == {len(matching)}


def test_a_departments_employees_refuse_a_damaged_cursor(testapp, reader_token, data):
    path = f"{DEPARTMENTS}/{data.teams[0]}/employees"
    cursor = first_cursor(testapp, reader_token, path, limit="2", sort="last_name")
    for broken, sort in ((_flip_first(cursor), "last_name"), (cursor, "first_name")):
        query = {"limit": "2", "sort": sort, "cursor": broken}
        assert_refused(testapp, reader_token, path, "cursor", **query)


def test_a_cursor_from_another_collection_is_a_422(testapp, reader_token, data):
    cursor = first_cursor(testapp, reader_token, DEPARTMENTS, limit="3")
    assert_refused(testapp, reader_token, EMPLOYEES, "cursor", limit="3", cursor=cursor)


def test_an_empty_sort_is_a_422(testapp, reader_token, data):
    assert_refused(testapp, reader_token, EMPLOYEES, "sort", sort="")
