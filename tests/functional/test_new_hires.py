"""import-csv --new's rows: stored as the API would store them, or none.

The import runs in the test's session with batches of two rows, so a
manager can be on a line of the same batch or of an earlier one.
"""

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from company_service.models import Employee, email_key, search_key
from company_service.schemas.employee import today
from company_service.services.employee_csv import BadLine
from company_service.services.new_hires import LEVELS, BadRows, NewHireImport
from company_service.testing import bearer
from tests.support.factories import DepartmentFactory, EmployeeFactory

EMPLOYEES = "/api/v1/employees"
HEADER = "first_name,last_name,email,department,manager,salary,hire_date,title"


def run_import(dbsession, *rows: str, header: str = HEADER) -> int:
    text = "\n".join([header, *rows]) + "\n"
    return NewHireImport(dbsession, batch_size=2).run(io.StringIO(text, newline=""))


def bad_rows(dbsession, *rows: str, header: str = HEADER) -> list[str]:
    with pytest.raises(BadRows) as raised:
        run_import(dbsession, *rows, header=header)
    return [str(error) for error in raised.value.errors]


def count(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(Employee))


@pytest.fixture
def company(dbsession):
    engineering = DepartmentFactory(name="Engineering")
    boss = EmployeeFactory(email="boss@example.com")
    return engineering, boss


def test_rows_are_stored_with_the_derived_values_the_api_gives(
    testapp, editor_token, dbsession, company
):
    engineering, boss = company
    stored = run_import(
        dbsession,
        "Zoë,Ødegaard,Zoe@Example.COM,engineering,BOSS@example.com,1234.5,2025-01-06,",
        f"Grace,Hopper,grace@example.com,,{boss.id},0,,Rear Admiral",
        "Linus,Torvalds,linus@example.com,Engineering,zoe@example.com,99000,,",
        "Ken,Thompson,ken@example.com,,grace@example.com,70000.10,2024-02-29,",
    )

    assert stored == 4
    found = testapp.get(
        EMPLOYEES, params={"sort": "id", "limit": 10}, headers=bearer(editor_token)
    ).json["items"][1:]
    by_email = {item["email"]: item for item in found}
    zoe = by_email["zoe@example.com"]
    assert (zoe["first_name"], zoe["salary"], zoe["hire_date"]) == (
        "Zoë",
        "1234.50",
        "2025-01-06",
    )
    assert (zoe["department_id"], zoe["manager_id"]) == (engineering.id, boss.id)
    assert zoe["title"] is None and zoe["active"] is True and zoe["version"] == 1
    assert zoe["created_at"] == zoe["updated_at"]
    grace = by_email["grace@example.com"]
    assert (grace["manager_id"], grace["department_id"]) == (boss.id, None)
    assert grace["hire_date"] == today().isoformat()
    assert grace["title"] == "Rear Admiral"
    # A manager on a line of the same batch, and of the batch before.
    assert by_email["linus@example.com"]["manager_id"] == zoe["id"]
    assert by_email["ken@example.com"]["manager_id"] == grace["id"]
    assert (
        by_email["ken@example.com"]["created_at"]
        == (by_email["ken@example.com"]["updated_at"])
    )
    row = dbsession.scalars(select(Employee).where(Employee.id == zoe["id"])).one()
    assert row.email == email_key("Zoe@Example.COM")
    assert row.search_key == search_key("Zoë", "Ødegaard", row.email)
    assert row.salary_cents == 123450
    searched = testapp.get(
        EMPLOYEES, params={"q": "ØDEGAARD"}, headers=bearer(editor_token)
    ).json["items"]
    assert [item["id"] for item in searched] == [zoe["id"]]


def test_every_bad_row_is_named_and_nothing_is_stored(dbsession, company):
    before = count(dbsession)
    errors = bad_rows(
        dbsession,
        "Ada,Lovelace,not-an-email,,,1,,",
        "Good,Row,good@example.com,,,1,,",
        "Grace,Hopper,grace@example.com,Nowhere,,1,,",
        "Alan,Turing,alan@example.com,,nobody@example.com,1,,",
        "Bob,Bits,bob@example.com,,,12.345,2025-02-30,",
        "Carl,Copy,BOSS@example.com,,99999,1,,",
        "Dan,Dup,good@example.com,,,1,,",
        "Eve,Extra,eve@example.com,,,1,,,",
        "Fay,Self,fay@example.com,,fay@example.com,1,,",
        "Gus,Early,gus@example.com,,hal@example.com,1,,",
        "Hal,Later,hal@example.com,,,1,,",
        "Ida,Id,ida@example.com,,Ida,-1,,",
        "Jo,Broken,jo@example.com,,jo@,1,,",
    )

    assert errors == [
        "line 2: email: value is not a valid email address:"
        " An email address must have an @-sign.",
        "line 4: department: no department named 'Nowhere'",
        "line 5: manager: no employee with email nobody@example.com"
        " in the database or on a line above",
        "line 6: hire_date: day is out of range for month",
        "line 6: salary: Decimal input should have no more than 2 decimal places",
        "line 7: email: boss@example.com already exists",
        "line 7: manager: no employee with id 99999",
        "line 8: email: good@example.com is also on line 3",
        "line 9: expected 8 fields, found 9",
        "line 10: manager: no employee with email fay@example.com"
        " in the database or on a line above",
        "line 11: manager: no employee with email hal@example.com"
        " in the database or on a line above",
        "line 13: salary: Input should be greater than or equal to 0",
        "line 13: manager: must be an employee's email or id",
        "line 14: manager: value is not a valid email address:"
        " There must be something after the @-sign.",
    ]
    assert count(dbsession) == before


def test_a_manager_may_be_anyone_stored_by_email_or_id(dbsession, company):
    """Someone from an earlier import too; a file cannot know its own ids."""
    _, boss = company
    run_import(dbsession, "New,One,one@example.com,,,1,,")
    one = dbsession.scalar(
        select(Employee.id).where(Employee.email == "one@example.com")
    )
    run_import(
        dbsession,
        f"Two,Two,two@example.com,,{one},1,,",
        "Three,Three,three@example.com,,One@Example.com,1,,",
        f"Four,Four,four@example.com,,{boss.id},1,,",
    )
    managers = dict(
        dbsession.execute(
            select(Employee.email, Employee.manager_id).where(
                Employee.email.in_(
                    ["two@example.com", "three@example.com", "four@example.com"]
                )
            )
        ).all()
    )
    assert managers == {
        "two@example.com": one,
        "three@example.com": one,
        "four@example.com": boss.id,
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("first_name,last_name,email", "header: missing column salary"),
        (
            "first_name,last_name,email,salary,id",
            "header: unknown column 'id'; the columns are first_name, last_name,"
            " email, salary and optionally title, hire_date, department, manager",
        ),
        (
            "first_name,last_name,email,salary,email",
            "header: the column email appears twice",
        ),
        ("", "header: missing column first_name, last_name, email, salary"),
    ],
)
def test_a_bad_header_is_line_one(dbsession, header, message):
    with pytest.raises(BadLine) as raised:
        run_import(dbsession, "Ada,Lovelace,ada@example.com,1", header=header)
    assert str(raised.value) == f"line 1: {message}"


def test_columns_in_any_order_and_only_the_required_ones(dbsession):
    stored = run_import(
        dbsession,
        "12.50,ada@example.com,Lovelace,Ada",
        "",  # a blank line is no row
        header="salary,email,last_name,first_name",
    )
    assert stored == 1
    row = dbsession.scalars(select(Employee)).one()
    assert (row.first_name, row.salary_cents, row.department_id) == ("Ada", 1250, None)
    assert row.hire_date == today() and isinstance(row.hire_date, date)


def test_a_chain_deeper_than_the_inserts_by_depth_gets_every_manager(dbsession):
    """Past LEVELS deep in one batch the managers are set by an UPDATE,
    which leaves updated_at at created_at and version at 1."""
    rows = [
        f"Link,{n},link{n}@example.com,,{f'link{n - 1}@example.com' if n else ''},1,,"
        for n in range(LEVELS * 2)
    ]
    NewHireImport(dbsession).run(
        io.StringIO("\n".join([HEADER, *rows]) + "\n", newline="")
    )
    stored = {e.email: e for e in dbsession.scalars(select(Employee))}
    for n in range(1, LEVELS * 2):
        link = stored[f"link{n}@example.com"]
        assert link.manager_id == stored[f"link{n - 1}@example.com"].id
        assert (link.updated_at, link.version) == (link.created_at, 1)
