"""company-service import-csv --new, run as a real process on committed data:
new hires stored in one transaction, or, with any bad row, none at all."""

from pathlib import Path

import pytest
from sqlalchemy import select

from company_service.models import Employee
from company_service.testing import TESTING_INI, count_rows
from tests.support.cli import run
from tests.support.company import EMPLOYEES

HEADER = "first_name,last_name,email,department,manager,salary,hire_date"


@pytest.fixture
def import_new(database_url, clean_database, tmp_path):
    def invoke(*rows: str):
        path = tmp_path / "new-hires.csv"
        path.write_text("\n".join([HEADER, *rows]) + "\n")
        return run(
            "company-service",
            "import-csv",
            "--new",
            TESTING_INI,
            str(path),
            database_url=database_url,
        )

    return invoke


def many_rows(count: int, bad_line: int | None = None) -> list[str]:
    """Each row managed by the one above it, across batches; the row on
    ``bad_line`` (the header is line 1) with a salary the API refuses."""
    rows = []
    for n in range(count):
        manager = f"hire{n - 1}@example.com" if n else "ada@example.com"
        salary = "-1" if n + 2 == bad_line else "1000"
        rows.append(f"New,Hire {n},hire{n}@example.com,Sales,{manager},{salary},")
    return rows


def test_new_hires_are_stored_and_read_back_through_the_api(
    real_app, company, import_new
):
    headers, ids = company
    result = import_new(
        "Margaret,Hamilton,Margaret@Example.com,Engineering,ada@example.com,"
        "150000.00,2025-07-01",
        f"Dennis,Ritchie,dennis@example.com,sales,{ids['ken']},90000.5,",
        "Niklaus,Wirth,niklaus@example.com,,margaret@example.com,1,",
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"imported 3 employees from {Path(result.args[-1])}"
    ]
    found = {
        item["email"]: item
        for item in real_app.get(
            EMPLOYEES, params={"q": "example.com", "limit": 100}, headers=headers
        ).json["items"]
    }
    margaret = found["margaret@example.com"]
    assert margaret["department_id"] == ids["eng"]
    assert margaret["manager_id"] == ids["ada"]
    assert margaret["salary"] == "150000.00"
    assert found["dennis@example.com"]["department_id"] == ids["sales"]
    assert found["dennis@example.com"]["manager_id"] == ids["ken"]
    assert found["niklaus@example.com"]["manager_id"] == margaret["id"]


def test_bad_rows_are_each_named_and_nothing_is_stored(
    company, import_new, clean_database
):
    result = import_new(
        "Ada,Again,ADA@example.com,,,1,",
        "Bad,Email,nope,,,1,",
        "Good,Row,good@example.com,,,1,",
        "No,Department,nodept@example.com,Research,,1,",
        "No,Manager,noboss@example.com,,ghost@example.com,1,",
        "Bad,Salary,salary@example.com,,,lots,",
    )

    assert result.returncode == 1
    path = Path(result.args[-1])
    assert result.stderr.splitlines() == [
        "line 2: email: ada@example.com already exists",
        "line 3: email: value is not a valid email address:"
        " An email address must have an @-sign.",
        "line 5: department: no department named 'Research'",
        "line 6: manager: no employee with email ghost@example.com"
        " in the database or on a line above",
        "line 7: salary: must be a number or a numeric string",
        f"company-service: error: 5 bad rows in {path}; nothing was imported",
    ]
    assert count_rows(clean_database, Employee) == 8


def test_a_bad_row_after_batches_were_inserted_leaves_nothing(
    company, import_new, clean_database
):
    result = import_new(*many_rows(2500, bad_line=2400))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "line 2400: salary: Input should be greater than or equal to 0"
    )
    assert count_rows(clean_database, Employee) == 8


def test_a_chain_of_managers_across_batches(company, import_new, clean_database):
    _, ids = company
    result = import_new(*many_rows(2500))
    assert result.returncode == 0, result.stderr
    with clean_database.connect() as connection:
        managers = dict(
            connection.execute(
                select(Employee.email, Employee.manager_id).where(
                    Employee.email.like("hire%")
                )
            ).all()
        )
        id_of = dict(connection.execute(select(Employee.email, Employee.id)).all())
    assert len(managers) == 2500
    assert managers["hire0@example.com"] == ids["ada"]
    assert all(
        managers[f"hire{n}@example.com"] == id_of[f"hire{n - 1}@example.com"]
        for n in range(1, 2500)
    )
