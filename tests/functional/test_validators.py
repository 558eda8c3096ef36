"""An ETag names one state of one resource: ids are never reused, and the tag
changes whenever the representation does (a department's employee_count
included). At 6198dcb SQLite handed a deleted employee's id to the next one,
the ETag was the version alone, and a department's ETag ignored its count."""

import pytest
from sqlalchemy import inspect, text

from tests.support.api import problem

API = "/api/v1"


def new_employee(testapp, editor, email: str, **fields):
    body = {"first_name": "A", "last_name": "B", "email": email, "salary": "1.00"}
    return testapp.post_json(
        f"{API}/employees", {**body, **fields}, headers=editor, status=201
    )


@pytest.mark.parametrize("resource", ["employees", "departments"])
def test_a_deleted_id_is_never_given_to_the_next_row(testapp, editor, resource):
    def make(n: int):
        if resource == "employees":
            return new_employee(testapp, editor, f"n{n}@example.com")
        return testapp.post_json(
            f"{API}/departments", {"name": f"D{n}"}, headers=editor, status=201
        )

    seen = []
    for n in range(3):
        created = make(n)
        seen.append(created.json["id"])
        testapp.delete(f"{API}/{resource}/{seen[-1]}", headers=editor, status=204)
    assert len(set(seen)) == 3, seen
    assert seen == sorted(seen)


def test_a_stale_validator_never_matches_the_next_employee(testapp, editor):
    first = new_employee(testapp, editor, "first@example.com")
    old_path, old_tag = first.headers["Location"], first.headers["ETag"]
    testapp.delete(old_path, headers={**editor, "If-Match": old_tag}, status=204)
    second = new_employee(testapp, editor, "second@example.com")
    path = f"{API}/employees/{second.json['id']}"

    assert second.headers["ETag"] != old_tag
    # The stale tag deletes nobody: the old URL is gone, the new one refuses it.
    problem(
        testapp.delete(old_path, headers={**editor, "If-Match": old_tag}, status=404),
        404,
    )
    problem(
        testapp.delete(path, headers={**editor, "If-Match": old_tag}, status=412), 412
    )
    # ...and revalidating with it never gets a 304 for someone else's data.
    answer = testapp.get(path, headers={**editor, "If-None-Match": old_tag}, status=200)
    assert answer.json["email"] == "second@example.com"


def test_two_employees_at_the_same_version_have_different_etags(testapp, editor):
    one = new_employee(testapp, editor, "one@example.com")
    two = new_employee(testapp, editor, "two@example.com")
    assert one.json["version"] == two.json["version"] == 1
    assert one.headers["ETag"] != two.headers["ETag"]


def test_a_department_etag_follows_its_employee_count(testapp, editor):
    created = testapp.post_json(
        f"{API}/departments", {"name": "Counted"}, headers=editor, status=201
    )
    path = f"{API}/departments/{created.json['id']}"
    before = testapp.get(path, headers=editor).headers["ETag"]
    assert before == created.headers["ETag"]

    member = new_employee(
        testapp, editor, "m@example.com", department_id=created.json["id"]
    )
    after = testapp.get(path, headers={**editor, "If-None-Match": before}, status=200)
    assert after.json["employee_count"] == 1
    assert after.json["version"] == created.json["version"]  # the row did not change
    assert after.headers["ETag"] != before
    # If-Match with the tag from before the count changed is stale too.
    stale = {**editor, "If-Match": before}
    problem(testapp.delete(path, headers=stale, status=412), 412)

    testapp.delete(member.headers["Location"], headers=editor, status=204)
    again = testapp.get(path, headers=editor)
    assert again.json["employee_count"] == 0
    assert again.headers["ETag"] == before  # the same representation again


def test_sqlite_tables_keep_their_largest_id(engine):
    """On SQLite the ids come from AUTOINCREMENT (sqlite_sequence)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sequences and InnoDB counters never go back")
    with engine.connect() as connection:
        for table in ("departments", "employees", "api_tokens", "idempotency_keys"):
            sql = connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = :name"),
                {"name": table},
            )
            assert "AUTOINCREMENT" in sql, table
    assert "employees" in inspect(engine).get_table_names()
