"""A page costs the same few statements whatever its size and depth.

Statements are counted on the test connection's engine: in the rolled-back
harness the app's session runs on that connection. The session is emptied
before each request, as a real request's fresh session would be, so a lazy
load per row would show up as one more statement per row.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from company_service.models import Employee
from company_service.testing import bearer
from tests.support.factories import DepartmentFactory, EmployeeFactory

EMPLOYEES = "/api/v1/employees"
DEPARTMENTS = "/api/v1/departments"
MANY = 520  # more than the largest page
BASE_TIME = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def statements(engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL of every statement run on the engine while the test lasts.

    Keyset paging never skips rows with OFFSET. SQLite's dialect writes
    ``LIMIT ? OFFSET ?`` for any limit, so there the offset must be 0.
    """
    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def employees(count: int, department_id: int | None, tag: str) -> list[Employee]:
    """``count`` employees whose sort values repeat, to be flushed at once
    (the unit of work then batches the INSERTs)."""
    return [
        EmployeeFactory.build(
            first_name=f"Name{i % 13}",
            last_name=f"Person{i % 7}",
            email=f"{tag}{i}@example.com",
            hire_date=date(2020, 1, 1) + timedelta(days=i % 30),
            salary=Decimal(1000 * (i % 9)),
            department_id=department_id,
            active=i % 5 != 0,
            created_at=BASE_TIME + timedelta(microseconds=i % 17),
        )
        for i in range(count)
    ]


@pytest.fixture
def crowded_department(dbsession) -> int:
    """MANY employees in one department, a few in another."""
    big, small = DepartmentFactory(name="Big"), DepartmentFactory(name="Small")
    dbsession.add_all(employees(MANY, big.id, "big") + employees(10, small.id, "small"))
    dbsession.flush()
    big_id = big.id
    dbsession.expunge_all()
    return big_id


@pytest.fixture
def many_departments(dbsession) -> dict[int, int]:
    """MANY departments with 1 to 3 employees each; returns id -> headcount."""
    teams = [
        DepartmentFactory.build(
            name=f"Team {i:04d}",
            created_at=BASE_TIME + timedelta(microseconds=i % 11),
        )
        for i in range(MANY)
    ]
    dbsession.add_all(teams)
    dbsession.flush()
    headcount = {}
    for n, team in enumerate(teams):
        headcount[team.id] = n % 3 + 1
        dbsession.add_all(employees(n % 3 + 1, team.id, f"d{team.id}x"))
    dbsession.flush()
    dbsession.expunge_all()
    return headcount


def measured(testapp, statements, token, path, params) -> tuple[dict[str, Any], int]:
    statements.clear()
    body = testapp.get(path, params=params, headers=bearer(token)).json
    for statement, parameters in statements:
        if "OFFSET" in statement.upper():
            assert isinstance(parameters, tuple | list), statement
            assert parameters[-1] == 0, (statement, parameters)
    return body, len(statements)


def three_pages(testapp, statements, token, path, params):
    """A small first page, the largest page, and a small page deep inside."""
    small, small_cost = measured(
        testapp, statements, token, path, {**params, "limit": "5"}
    )
    large, large_cost = measured(
        testapp, statements, token, path, {**params, "limit": "500"}
    )
    deep, deep_cost = measured(
        testapp,
        statements,
        token,
        path,
        {**params, "limit": "5", "cursor": large["next_cursor"]},
    )
    return (small, large, deep), (small_cost, large_cost, deep_cost)


@pytest.mark.parametrize(
    "params",
    [{}, {"count": "true"}, {"sort": "-hire_date,last_name"}, {"sort": "-salary"}],
    ids=["default", "count", "two-field-sort", "salary"],
)
def test_employee_pages_cost_the_same_whatever_their_size(
    testapp, reader_token, statements, crowded_department, params
):
    pages, costs = three_pages(testapp, statements, reader_token, EMPLOYEES, params)
    _small, large, deep = pages
    assert [len(p["items"]) for p in pages] == [5, 500, 5]
    assert all(p["next_cursor"] for p in pages)
    assert {i["id"] for i in large["items"]}.isdisjoint(i["id"] for i in deep["items"])
    if "count" in params:
        assert {p["total"] for p in pages} == {MANY + 10}
    # The token lookup, the page, and the total when asked: nothing per row.
    assert costs[0] == costs[1] == costs[2] <= 2 + ("count" in params), costs


@pytest.mark.parametrize(
    "params",
    [{}, {"count": "true"}, {"sort": "name"}, {"sort": "-created_at", "count": "true"}],
    ids=["default", "count", "name", "created-at-count"],
)
def test_department_pages_with_employee_counts_cost_the_same_whatever_their_size(
    testapp, reader_token, statements, many_departments, params
):
    pages, costs = three_pages(testapp, statements, reader_token, DEPARTMENTS, params)
    assert [len(p["items"]) for p in pages] == [5, 500, 5]
    for page in pages:
        for item in page["items"]:
            assert item["employee_count"] == many_departments[item["id"]]
        if "count" in params:
            assert page["total"] == MANY
    assert costs[0] == costs[1] == costs[2] <= 2 + ("count" in params), costs


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"count": "true"},
        {
            "sort": "last_name,-created_at",
            "q": "@EXAMPLE.",
            "hired_before": "2020-12-31",
        },
    ],
    ids=["default", "count", "sorted-filtered"],
)
def test_a_departments_employee_pages_cost_the_same_whatever_their_size(
    testapp, reader_token, statements, crowded_department, params
):
    path = f"{DEPARTMENTS}/{crowded_department}/employees"
    pages, costs = three_pages(testapp, statements, reader_token, path, params)
    assert [len(p["items"]) for p in pages] == [5, 500, 5]
    for page in pages:
        assert {i["department_id"] for i in page["items"]} == {crowded_department}
        if "count" in params:
            assert page["total"] == MANY
    # Plus one to tell a missing department (404) from an empty one.
    assert costs[0] == costs[1] == costs[2] <= 3 + ("count" in params), costs


def test_the_counter_sees_the_apps_statements(
    testapp, reader_token, statements, crowded_department
):
    """Guards the guard: a request that reads rows is counted."""
    body, cost = measured(testapp, statements, reader_token, EMPLOYEES, {"limit": "1"})
    assert len(body["items"]) == 1
    assert cost >= 2
    assert any("FROM employees" in s for s, _ in statements)
    assert any("FROM api_tokens" in s for s, _ in statements)


def test_a_new_employee_is_one_insert_its_foreign_keys_checking_its_references(
    testapp, editor_token, statements
):
    """No SELECT before the INSERT checks the department or the manager, and
    none after it reads the row back: the INSERT's RETURNING and the values
    the session sent make the representation."""
    department = testapp.post_json(
        DEPARTMENTS, {"name": "Counted"}, headers=bearer(editor_token)
    ).json["id"]
    manager = testapp.post_json(
        EMPLOYEES,
        {"first_name": "M", "last_name": "Anager", "email": "m@example.com",
         "salary": "1.00"},
        headers=bearer(editor_token),
    ).json["id"]  # fmt: skip
    statements.clear()
    testapp.post_json(
        EMPLOYEES,
        {"first_name": "N", "last_name": "Ew", "email": "n@example.com",
         "salary": "1.00", "department_id": department, "manager_id": manager},
        headers=bearer(editor_token),
        status=201,
    )  # fmt: skip
    sent = [
        sql.split()[0].upper()
        for sql, _ in statements
        if "api_tokens" not in sql  # the harness reads its token every time
    ]
    assert [s for s in sent if s not in ("SAVEPOINT", "RELEASE")] == ["INSERT"]
