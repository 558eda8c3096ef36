"""Departments over HTTP: every route and status of API.md's Resources,
Collections and Items sections, checked on the values the client gets."""

import json

import pytest
from sqlalchemy import func, select

from company_service.models import Department, Employee
from company_service.testing import bearer
from tests.support.api import SUCCESS, WRITES, assert_utc, created, error_locs, problem
from tests.support.factories import DepartmentFactory, EmployeeFactory

DEPARTMENTS = "/api/v1/departments"
FIELDS = {
    "id",
    "name",
    "description",
    "employee_count",
    "created_at",
    "updated_at",
    "version",
}
NO_SUCH_IDS = [2**31 - 1, 2**31, 10**20]  # the last two are past the id column


# --- helpers -------------------------------------------------------------------


def item(department_id: int) -> str:
    return f"{DEPARTMENTS}/{department_id}"


def write(testapp, method: str, path: str, headers: dict, status: int, body=None):
    """A PUT, PATCH or DELETE that would succeed but for what the test varies."""
    if method == "DELETE":
        return testapp.delete(path, headers=headers, status=status)
    body = {"name": "Renamed"} if body is None else body
    send = testapp.put_json if method == "PUT" else testapp.patch_json
    return send(path, body, headers=headers, status=status)


def current(testapp, department_id: int, headers: dict) -> dict:
    return testapp.get(item(department_id), headers=headers).json


@pytest.fixture
def legal(dbsession) -> Department:
    return DepartmentFactory(name="Legal", description="Contracts and compliance")


# --- GET and HEAD of one department --------------------------------------------


def test_get_returns_the_contract_fields_with_an_etag(testapp, dbsession, reader):
    department = DepartmentFactory(name="Engineering", description="Builds things")
    other = DepartmentFactory(name="Sales")
    EmployeeFactory(email="a@example.com", department_id=department.id)
    EmployeeFactory(email="b@example.com", department_id=department.id)
    EmployeeFactory(email="c@example.com", department_id=other.id)
    EmployeeFactory(email="d@example.com")

    response = testapp.get(item(department.id), headers=reader, status=200)

    assert response.headers["ETag"] == f'"{department.id}-1-2"'
    body = response.json
    assert set(body) == FIELDS
    assert body["id"] == department.id
    assert body["name"] == "Engineering"
    assert body["description"] == "Builds things"
    assert body["employee_count"] == 2
    assert body["version"] == 1
    assert assert_utc(body["created_at"]) == assert_utc(body["updated_at"])


def test_a_department_without_employees_counts_zero(testapp, legal, reader):
    assert current(testapp, legal.id, reader)["employee_count"] == 0


def test_head_answers_like_get_without_a_body(testapp, legal, reader):
    response = testapp.head(item(legal.id), headers=reader, status=200)
    assert response.headers["ETag"] == f'"{legal.id}-1-0"'
    assert response.body == b""


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [
        ('"{id}-1-0"', 304),
        ('"7", "{id}-1-0"', 304),
        ('W/"{id}-1-0"', 304),
        ("*", 304),
        ('"{id}-2-0"', 200),
        ('"{id}-1-1"', 200),
        ('"1"', 200),
    ],
)
def test_if_none_match(testapp, legal, reader, if_none_match, status):
    response = testapp.get(
        item(legal.id),
        headers={**reader, "If-None-Match": if_none_match.format(id=legal.id)},
        status=status,
    )
    assert response.headers["ETag"] == f'"{legal.id}-1-0"'
    if status == 304:
        assert response.body == b""
    else:
        assert response.json["name"] == "Legal"


@pytest.mark.parametrize("method", ["GET", "HEAD", *WRITES])
@pytest.mark.parametrize("department_id", NO_SUCH_IDS)
def test_unknown_id_is_404(testapp, editor, method, department_id):
    path = item(department_id)
    if method in ("GET", "HEAD"):
        response = getattr(testapp, method.lower())(path, headers=editor, status=404)
        if method == "HEAD":
            assert response.body == b""
            return
    else:
        response = write(testapp, method, path, editor, 404)
    problem(response, 404)


# --- POST on the collection ----------------------------------------------------


def test_post_creates_with_location_etag_and_body(testapp, editor):
    response = testapp.post_json(
        DEPARTMENTS,
        {"name": "Research", "description": "Finds things out"},
        headers=editor,
        status=201,
    )

    body = created(response, DEPARTMENTS, FIELDS)
    assert response.headers["ETag"] == f'"{body["id"]}-1-0"'
    assert body["name"] == "Research"
    assert body["description"] == "Finds things out"
    assert body["employee_count"] == 0
    assert current(testapp, body["id"], editor) == body


def test_post_without_description_stores_null(testapp, editor):
    body = testapp.post_json(DEPARTMENTS, {"name": "Ops"}, headers=editor).json
    assert body["description"] is None


def test_post_trims_the_name(testapp, editor):
    body = testapp.post_json(DEPARTMENTS, {"name": "  Research \t"}, headers=editor)
    assert body.json["name"] == "Research"
    assert current(testapp, body.json["id"], editor)["name"] == "Research"


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x" * 100},
        {"name": "é" * 100},
        {"name": "\N{GRINNING FACE}" * 100},
        {"name": "Ops", "description": "d" * 2000},
        {"name": "Ops", "description": None},
    ],
    ids=["name-100", "name-100-accented", "name-100-emoji", "description-2000", "null"],
)
def test_post_accepts_values_at_the_limits(testapp, editor, fields):
    body = testapp.post_json(DEPARTMENTS, fields, headers=editor, status=201).json
    assert {key: body[key] for key in fields} == fields


def test_post_accepts_any_unicode_name_of_100_characters(testapp, editor):
    name = "\N{ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM}" * 100
    response = testapp.post_json(
        DEPARTMENTS, {"name": name}, headers=editor, expect_errors=True
    )
    assert response.status_int == 201
    assert response.json["name"] == name


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {},
        {"name": None},
        {"name": 7},
        {"description": "no name"},
    ],
    ids=["empty", "blank", "101", "missing", "null", "number", "only-description"],
)
def test_post_with_a_bad_name_is_422(testapp, editor, fields):
    response = testapp.post_json(DEPARTMENTS, fields, headers=editor, status=422)
    assert error_locs(response) == [["body", "name"]]


@pytest.mark.parametrize("description", ["d" * 2001, 42, ["a"]])
def test_post_with_a_bad_description_is_422(testapp, editor, description):
    response = testapp.post_json(
        DEPARTMENTS,
        {"name": "Ops", "description": description},
        headers=editor,
        status=422,
    )
    assert error_locs(response) == [["body", "description"]]


def test_post_with_an_unknown_field_is_422(testapp, editor):
    response = testapp.post_json(
        DEPARTMENTS, {"name": "Ops", "budget": 10}, headers=editor, status=422
    )
    assert error_locs(response) == [["body", "budget"]]


def test_post_ignores_read_only_fields(testapp, editor):
    sent = {
        "name": "Ops",
        "id": 2**31 - 1,
        "version": 7,
        "employee_count": 42,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
    }
    body = testapp.post_json(DEPARTMENTS, sent, headers=editor, status=201).json
    assert body["id"] != sent["id"]
    assert body["version"] == 1
    assert body["employee_count"] == 0
    assert assert_utc(body["created_at"]).year > 2000
    assert assert_utc(body["updated_at"]).year > 2000


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [("Legal", "LEGAL"), ("Legal", "  legal  "), ("Straße", "STRASSE")],
)
def test_post_of_a_name_differing_only_in_case_is_409(
    testapp, dbsession, editor, existing, duplicate
):
    DepartmentFactory(name=existing)
    # Last request: a failed flush leaves this harness's session unusable.
    response = testapp.post_json(
        DEPARTMENTS, {"name": duplicate}, headers=editor, status=409
    )
    assert error_locs(response, 409) == [["body", "name"]]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_renaming_onto_another_departments_name_is_409(
    real_app, committed_editor_token, method
):
    """With real commits, where each request has a session of its own."""
    headers = bearer(committed_editor_token)
    real_app.post_json(DEPARTMENTS, {"name": "Legal"}, headers=headers)
    sales = real_app.post_json(DEPARTMENTS, {"name": "Sales"}, headers=headers).json

    response = write(
        real_app, method, item(sales["id"]), headers, 409, {"name": "LEGAL"}
    )

    assert error_locs(response, 409) == [["body", "name"]]
    assert current(real_app, sales["id"], headers) == sales


def test_a_409_on_post_stores_nothing(real_app, committed_editor_token):
    """With real commits: the refused request leaves exactly one department."""
    headers = bearer(committed_editor_token)
    real_app.post_json(DEPARTMENTS, {"name": "Legal"}, headers=headers, status=201)
    real_app.post_json(DEPARTMENTS, {"name": "LEGAL"}, headers=headers, status=409)
    listing = real_app.get(DEPARTMENTS, {"count": "true"}, headers=headers).json
    assert listing["total"] == 1
    assert [d["name"] for d in listing["items"]] == ["Legal"]


# --- PUT and PATCH -------------------------------------------------------------


def test_put_replaces_everything_and_resets_an_omitted_description(
    testapp, legal, editor
):
    before = current(testapp, legal.id, editor)

    response = testapp.put_json(
        item(legal.id), {"name": " Law "}, headers=editor, status=200
    )

    body = response.json
    assert response.headers["ETag"] == f'"{legal.id}-2-0"'
    assert body["name"] == "Law"
    assert body["description"] is None
    assert body["version"] == 2
    assert body["id"] == legal.id
    assert body["created_at"] == before["created_at"]
    assert assert_utc(body["updated_at"]) > assert_utc(before["updated_at"])
    assert current(testapp, legal.id, editor) == body


def test_put_reports_the_employee_count(testapp, dbsession, legal, editor):
    EmployeeFactory(email="a@example.com", department_id=legal.id)
    body = testapp.put_json(item(legal.id), {"name": "Law"}, headers=editor).json
    assert body["employee_count"] == 1


def test_put_without_the_required_name_is_422_and_changes_nothing(
    testapp, legal, editor
):
    response = testapp.put_json(
        item(legal.id), {"description": "x"}, headers=editor, status=422
    )
    assert error_locs(response) == [["body", "name"]]
    assert current(testapp, legal.id, editor)["description"] == (
        "Contracts and compliance"
    )


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/merge-patch+json"]
)
def test_patch_sets_only_the_fields_present(testapp, legal, editor, content_type):
    response = testapp.patch(
        item(legal.id),
        json.dumps({"description": "Keeps us out of trouble"}),
        headers=editor,
        content_type=content_type,
        status=200,
    )

    body = response.json
    assert response.headers["ETag"] == f'"{legal.id}-2-0"'
    assert body["name"] == "Legal"
    assert body["description"] == "Keeps us out of trouble"
    assert body["version"] == 2
    assert current(testapp, legal.id, editor) == body


def test_patch_null_clears_the_description(testapp, legal, editor):
    body = testapp.patch_json(
        item(legal.id), {"description": None}, headers=editor, status=200
    ).json
    assert body["description"] is None
    assert body["name"] == "Legal"


def test_patch_ignores_read_only_fields(testapp, legal, editor):
    body = testapp.patch_json(
        item(legal.id),
        {"name": "Law", "id": 2**31 - 1, "version": 9, "employee_count": 5},
        headers=editor,
    ).json
    assert (body["id"], body["version"], body["employee_count"]) == (legal.id, 2, 0)


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"name": None}, ["body", "name"]),
        ({"name": "  "}, ["body", "name"]),
        ({"description": "d" * 2001}, ["body", "description"]),
        ({"budget": 1}, ["body", "budget"]),
        ([], ["body"]),
        ("Law", ["body"]),
        (None, ["body"]),
    ],
    ids=[
        "null-name",
        "blank-name",
        "long-description",
        "unknown",
        "array",
        "string",
        "null",
    ],
)
def test_a_bad_patch_is_422_and_changes_nothing(testapp, legal, editor, patch, loc):
    before = current(testapp, legal.id, editor)
    response = testapp.patch_json(item(legal.id), patch, headers=editor, status=422)
    assert error_locs(response) == [loc]
    assert current(testapp, legal.id, editor) == before


@pytest.mark.parametrize(
    ("method", "media_type"),
    [
        ("PUT", "text/plain"),
        ("PATCH", "text/plain"),
        ("PUT", "application/merge-patch+json"),  # PATCH's own, not PUT's
    ],
)
def test_a_body_in_a_media_type_the_method_does_not_take_is_415(
    testapp, legal, editor, method, media_type
):
    before = current(testapp, legal.id, editor)
    response = getattr(testapp, method.lower())(
        item(legal.id),
        json.dumps({"name": "Law"}),
        headers=editor,
        content_type=media_type,
        status=415,
    )
    problem(response, 415)
    assert current(testapp, legal.id, editor) == before


def test_each_change_adds_exactly_one_to_the_version(testapp, legal, editor):
    for expected, name in enumerate(["A", "B", "C"], start=2):
        response = testapp.patch_json(item(legal.id), {"name": name}, headers=editor)
        assert response.json["version"] == expected
        assert response.headers["ETag"] == f'"{legal.id}-{expected}-0"'
    not_modified = {**editor, "If-None-Match": f'"{legal.id}-4-0"'}
    testapp.get(item(legal.id), headers=not_modified, status=304)


# --- If-Match ------------------------------------------------------------------


@pytest.mark.parametrize(
    "if_match",
    ['"{id}-2-0"', '"{id}-1-1"', 'W/"{id}-1-0"', '"1"', "garbage"],
)
@pytest.mark.parametrize("method", WRITES)
def test_if_match_that_does_not_match_is_412_and_changes_nothing(
    testapp, legal, editor, method, if_match
):
    before = current(testapp, legal.id, editor)
    headers = {**editor, "If-Match": if_match.format(id=legal.id)}
    response = write(testapp, method, item(legal.id), headers, 412)
    problem(response, 412)
    assert current(testapp, legal.id, editor) == before


@pytest.mark.parametrize("if_match", ['"{id}-1-0"', '"5", "{id}-1-0"', "*"])
@pytest.mark.parametrize("method", WRITES)
def test_if_match_that_matches_applies_the_change(
    testapp, legal, editor, method, if_match
):
    headers = {**editor, "If-Match": if_match.format(id=legal.id)}
    write(testapp, method, item(legal.id), headers, SUCCESS[method])
    if method == "DELETE":
        testapp.get(item(legal.id), headers=editor, status=404)
    else:
        after = current(testapp, legal.id, editor)
        assert (after["name"], after["version"]) == ("Renamed", 2)


def test_if_match_star_on_a_missing_department_is_404(testapp, editor):
    response = testapp.delete(
        item(2**31 - 1), headers={**editor, "If-Match": "*"}, status=404
    )
    problem(response, 404)


# --- DELETE --------------------------------------------------------------------


def test_delete_is_204_and_the_department_is_gone(testapp, legal, editor):
    response = testapp.delete(item(legal.id), headers=editor, status=204)
    assert response.body == b""
    problem(testapp.get(item(legal.id), headers=editor, status=404), 404)
    listing = testapp.get(DEPARTMENTS, headers=editor).json
    assert legal.id not in [d["id"] for d in listing["items"]]


def test_delete_of_a_department_with_employees_is_409_and_deletes_nothing(
    testapp, dbsession, legal, editor
):
    EmployeeFactory(email="a@example.com", department_id=legal.id)
    response = testapp.delete(item(legal.id), headers=editor, status=409)
    problem(response, 409)
    after = current(testapp, legal.id, editor)
    assert (after["name"], after["employee_count"], after["version"]) == (
        "Legal",
        1,
        1,
    )


# --- roles ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", *WRITES])
def test_a_reader_may_not_write(testapp, dbsession, legal, reader, method):
    if method == "POST":
        response = testapp.post_json(
            DEPARTMENTS, {"name": "Ops"}, headers=reader, status=403
        )
    else:
        response = write(testapp, method, item(legal.id), reader, 403)
    problem(response, 403)
    assert dbsession.scalar(select(func.count()).select_from(Department)) == 1
    after = current(testapp, legal.id, reader)
    assert (after["name"], after["version"]) == ("Legal", 1)


def test_a_reader_may_read(testapp, legal, reader):
    assert current(testapp, legal.id, reader)["name"] == "Legal"
    testapp.get(DEPARTMENTS, headers=reader, status=200)


# --- the collections -----------------------------------------------------------


@pytest.fixture
def three_departments(dbsession) -> dict[str, Department]:
    departments = {
        name: DepartmentFactory(name=name) for name in ("Eng", "Ops", "Sales")
    }
    for n in range(2):
        EmployeeFactory(
            email=f"eng{n}@example.com", department_id=departments["Eng"].id
        )
    EmployeeFactory(email="ops@example.com", department_id=departments["Ops"].id)
    EmployeeFactory(email="nobody@example.com")
    return departments


def test_collection_items_carry_their_employee_count(
    testapp, three_departments, reader
):
    body = testapp.get(DEPARTMENTS, headers=reader, status=200).json
    assert {d["name"]: d["employee_count"] for d in body["items"]} == {
        "Eng": 2,
        "Ops": 1,
        "Sales": 0,
    }
    assert all(set(d) == FIELDS for d in body["items"])
    assert body["next_cursor"] is None
    assert "total" not in body


@pytest.mark.parametrize("limit", ["1", "50"])
def test_count_true_gives_the_total_whatever_the_page(
    testapp, three_departments, reader, limit
):
    body = testapp.get(
        DEPARTMENTS, {"count": "true", "limit": limit}, headers=reader
    ).json
    assert body["total"] == 3
    assert len(body["items"]) == min(3, int(limit))


def test_head_on_the_collection(testapp, three_departments, reader):
    assert testapp.head(DEPARTMENTS, headers=reader, status=200).body == b""


def test_a_departments_employees_are_only_its_own(
    testapp, dbsession, three_departments, reader
):
    eng = three_departments["Eng"]
    expected = dbsession.scalars(
        select(Employee.id).where(Employee.department_id == eng.id)
    ).all()

    body = testapp.get(
        f"{item(eng.id)}/employees", {"count": "true"}, headers=reader, status=200
    ).json

    assert len(expected) == 2
    assert sorted(e["id"] for e in body["items"]) == sorted(expected)
    assert {e["department_id"] for e in body["items"]} == {eng.id}
    assert body["total"] == 2


def test_a_department_without_employees_lists_none(testapp, three_departments, reader):
    sales = three_departments["Sales"]
    body = testapp.get(f"{item(sales.id)}/employees", headers=reader).json
    assert body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("department_id", NO_SUCH_IDS)
def test_employees_of_an_unknown_department_is_404(testapp, reader, department_id):
    response = testapp.get(
        f"{item(department_id)}/employees", headers=reader, status=404
    )
    problem(response, 404)


def test_the_department_employee_list_takes_no_department_filter(
    testapp, three_departments, reader
):
    eng = three_departments["Eng"]
    response = testapp.get(
        f"{item(eng.id)}/employees",
        {"department_id": str(three_departments["Ops"].id)},
        headers=reader,
        status=422,
    )
    assert error_locs(response) == [["query", "department_id"]]
