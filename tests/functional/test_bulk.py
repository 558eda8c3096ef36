"""POST /api/v1/employees/bulk: every item stored, or none."""

from company_service.models import Employee
from company_service.testing import bearer
from tests.support.api import problem
from tests.support.factories import DepartmentFactory

BULK = "/api/v1/employees/bulk"


def items(count: int, prefix: str = "bulk") -> list[dict]:
    return [
        {
            "first_name": "Item",
            "last_name": str(i),
            "email": f"{prefix}{i}@bulk.example",
            "salary": f"{1000 + i}.50",
        }
        for i in range(count)
    ]


def stored(dbsession) -> int:
    return (
        dbsession.query(Employee).filter(Employee.email.like("%@bulk.example")).count()
    )


def test_a_thousand_items_are_stored_and_returned_in_order(
    testapp, editor_token, dbsession
):
    answer = testapp.post_json(
        BULK, {"items": items(1000)}, headers=bearer(editor_token)
    )
    assert answer.status_int == 200
    returned = answer.json["items"]
    assert [e["last_name"] for e in returned] == [str(i) for i in range(1000)]
    assert returned[7]["salary"] == "1007.50"
    assert returned[7]["version"] == 1
    assert len({e["id"] for e in returned}) == 1000
    assert stored(dbsession) == 1000


def test_one_bad_item_among_a_thousand_stores_nothing_and_every_bad_index_is_named(
    testapp, editor_token, dbsession
):
    batch = items(1000)
    batch[3]["email"] = "not an email"
    batch[500]["salary"] = "-1"
    batch[999]["first_name"] = ""
    batch[42]["colour"] = "red"
    answer = testapp.post_json(
        BULK, {"items": batch}, headers=bearer(editor_token), status=422
    )
    locs = sorted((e["loc"][2], e["loc"][3]) for e in problem(answer, 422)["errors"])
    assert locs == [(3, "email"), (42, "colour"), (500, "salary"), (999, "first_name")]
    assert all(e["loc"][:2] == ["body", "items"] for e in answer.json["errors"])
    assert stored(dbsession) == 0


def test_references_that_do_not_exist_are_named_by_index(
    testapp, editor_token, dbsession
):
    department = DepartmentFactory(name="Bulk dept")
    batch = items(3)
    batch[0]["department_id"] = department.id
    batch[1]["department_id"] = 999999
    batch[2]["manager_id"] = 999999
    answer = testapp.post_json(
        BULK, {"items": batch}, headers=bearer(editor_token), status=422
    )
    assert [e["loc"] for e in answer.json["errors"]] == [
        ["body", "items", 1, "department_id"],
        ["body", "items", 2, "manager_id"],
    ]
    assert stored(dbsession) == 0


def test_duplicates_inside_the_batch_and_against_stored_rows_are_409_by_index(
    testapp, editor_token, dbsession
):
    testapp.post_json(
        BULK, {"items": items(1, prefix="taken")}, headers=bearer(editor_token)
    )
    batch = items(4)
    batch[1]["email"] = "TAKEN0@bulk.example"  # stored already (case ignored)
    batch[3]["email"] = batch[2]["email"].upper()  # same as item 2
    answer = testapp.post_json(
        BULK, {"items": batch}, headers=bearer(editor_token), status=409
    )
    assert [e["loc"] for e in problem(answer, 409)["errors"]] == [
        ["body", "items", 1, "email"],
        ["body", "items", 3, "email"],
    ]
    assert stored(dbsession) == 1  # only the earlier, separate request's row


def test_item_count_is_bounded(testapp, editor_token):
    for batch in ([], items(1001)):
        answer = testapp.post_json(
            BULK, {"items": batch}, headers=bearer(editor_token), status=422
        )
        assert answer.json["errors"][0]["loc"] == ["body", "items"]


def test_read_only_fields_in_items_are_ignored(testapp, editor_token):
    batch = items(1)
    batch[0].update(id=5, version=9, created_at="2020-01-01T00:00:00Z")
    answer = testapp.post_json(BULK, {"items": batch}, headers=bearer(editor_token))
    assert answer.json["items"][0]["version"] == 1


def test_one_statement_stores_the_whole_batch(testapp, editor_token, engine):
    from sqlalchemy import event

    inserts: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO EMPLOYEES"):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        testapp.post_json(BULK, {"items": items(500)}, headers=bearer(editor_token))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert 1 <= len(inserts) <= 2, "a round trip per row would be 500"


def test_a_reader_may_not(testapp, reader_token):
    testapp.post_json(
        BULK, {"items": items(1)}, headers=bearer(reader_token), status=403
    )
