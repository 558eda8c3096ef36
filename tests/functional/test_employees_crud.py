"""Employees over HTTP: create, read, replace, patch, delete and the list's
filters, as API.md's Resources, Collections and Items sections describe them."""

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from company_service.models import Department, Employee
from company_service.testing import bearer
from tests.support.api import (
    EMPLOYEE,
    SUCCESS,
    WRITES,
    assert_utc,
    created,
    error_locs,
    problem,
)
from tests.support.company import HEADER
from tests.support.factories import DepartmentFactory, EmployeeFactory

EMPLOYEES = "/api/v1/employees"
FIELDS = set(HEADER)  # API.md's employee representation
NO_SUCH_ID = 2**31 - 1


# --- helpers -------------------------------------------------------------------


def item(employee_id: int) -> str:
    return f"{EMPLOYEES}/{employee_id}"


def payload(*omit: str, **fields) -> dict:
    """A valid employee body; ``omit`` drops fields, keywords replace them."""
    body = {**EMPLOYEE, **fields}
    return {key: value for key, value in body.items() if key not in omit}


def create(testapp, headers: dict, **fields) -> dict:
    return testapp.post_json(
        EMPLOYEES, payload(**fields), headers=headers, status=201
    ).json


def current(testapp, employee_id: int, headers: dict) -> dict:
    return testapp.get(item(employee_id), headers=headers).json


def write(testapp, method: str, path: str, headers: dict, status: int, body=None):
    """A PUT, PATCH or DELETE that would succeed but for what the test varies."""
    if method == "DELETE":
        return testapp.delete(path, headers=headers, status=status)
    if body is None:
        body = payload(last_name="Byron") if method == "PUT" else {"last_name": "Byron"}
    send = testapp.put_json if method == "PUT" else testapp.patch_json
    return send(path, body, headers=headers, status=status)


@pytest.fixture
def department(dbsession) -> Department:
    return DepartmentFactory(name="Engineering")


@pytest.fixture
def ada(testapp, editor) -> dict:
    return create(testapp, editor)


# --- POST ----------------------------------------------------------------------


def test_post_creates_with_location_etag_and_body(testapp, editor, department):
    boss = create(testapp, editor, email="boss@example.com")
    response = testapp.post_json(
        EMPLOYEES,
        payload(department_id=department.id, manager_id=boss["id"]),
        headers=editor,
        status=201,
    )

    body = created(response, EMPLOYEES, FIELDS)
    assert response.headers["ETag"] == f'"{body["id"]}-1"'
    assert {key: body[key] for key in payload()} == payload()
    assert body["department_id"] == department.id
    assert body["manager_id"] == boss["id"]
    assert body["active"] is True
    assert current(testapp, body["id"], editor) == body


def test_post_stores_the_email_lower_cased(testapp, editor):
    body = create(testapp, editor, email="Ada.Lovelace@Example.COM")
    assert body["email"] == "ada.lovelace@example.com"
    assert current(testapp, body["id"], editor)["email"] == "ada.lovelace@example.com"


def test_post_trims_the_names(testapp, editor):
    body = create(testapp, editor, first_name="  Ada ", last_name="\tLovelace ")
    assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")


@pytest.mark.parametrize(
    ("raw", "returned"),
    [
        ("98000", "98000.00"),
        ("98000.5", "98000.50"),
        ("98000.10", "98000.10"),
        ('"98000.50"', "98000.50"),
        ('"98000"', "98000.00"),
        ("0", "0.00"),
        ("9999999999.99", "9999999999.99"),
        ('"9999999999.99"', "9999999999.99"),
    ],
)
def test_salary_as_number_or_string_comes_back_with_two_decimals(
    testapp, editor, raw, returned
):
    # Raw JSON text, so that the number is exactly what the client wrote.
    body = json.dumps(payload("salary"))[:-1] + f', "salary": {raw}}}'
    response = testapp.post(
        EMPLOYEES, body, headers=editor, content_type="application/json", status=201
    )
    assert response.json["salary"] == returned
    assert current(testapp, response.json["id"], editor)["salary"] == returned


@pytest.mark.parametrize(
    "salary",
    [1.234, "98000.505", -1, "-0.01", 10**10, "10000000000", True, "abc", "", None],
    ids=repr,
)
def test_a_bad_salary_is_422(testapp, editor, salary):
    response = testapp.post_json(
        EMPLOYEES, payload(salary=salary), headers=editor, status=422
    )
    assert error_locs(response) == [["body", "salary"]]


def test_salary_is_required(testapp, editor):
    response = testapp.post_json(
        EMPLOYEES, payload("salary"), headers=editor, status=422
    )
    assert error_locs(response) == [["body", "salary"]]


def test_an_omitted_hire_date_is_todays_utc_date(testapp, editor):
    before = datetime.now(UTC).date()
    body = testapp.post_json(EMPLOYEES, payload("hire_date"), headers=editor).json
    after = datetime.now(UTC).date()
    assert body["hire_date"] in {before.isoformat(), after.isoformat()}


@pytest.mark.parametrize(
    "hire_date", ["2024-02-30", "01/02/2024", "2024-2-3", "20240301", 20240301, ""]
)
def test_a_bad_hire_date_is_422(testapp, editor, hire_date):
    response = testapp.post_json(
        EMPLOYEES, payload(hire_date=hire_date), headers=editor, status=422
    )
    assert error_locs(response) == [["body", "hire_date"]]


@pytest.mark.parametrize(
    "email", ["not-an-email", "ada@", "@example.com", "ada at example.com", "", 7]
)
def test_a_bad_email_is_422(testapp, editor, email):
    response = testapp.post_json(
        EMPLOYEES, payload(email=email), headers=editor, status=422
    )
    assert error_locs(response) == [["body", "email"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "x" * 100),
        ("first_name", "é" * 100),
        ("last_name", "\N{GRINNING FACE}" * 100),
        ("last_name", "Łukasiewicz-Ó'Brien 李"),
        ("title", "t" * 200),
        ("title", None),
    ],
)
def test_values_at_the_limits_are_accepted(testapp, editor, field, value):
    body = create(testapp, editor, **{field: value})
    assert body[field] == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "x" * 101),
        ("first_name", "   "),
        ("first_name", ""),
        ("first_name", None),
        ("last_name", "x" * 101),
        ("last_name", " \t "),
        ("last_name", 5),
        ("title", "t" * 201),
        ("title", 5),
        ("active", "yes"),
        ("active", 1),
    ],
)
def test_a_bad_value_is_422_naming_its_field(testapp, editor, field, value):
    response = testapp.post_json(
        EMPLOYEES, payload(**{field: value}), headers=editor, status=422
    )
    assert error_locs(response) == [["body", field]]


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_a_missing_required_field_is_422(testapp, editor, field):
    response = testapp.post_json(EMPLOYEES, payload(field), headers=editor, status=422)
    assert error_locs(response) == [["body", field]]


def test_every_bad_field_of_a_body_is_reported_at_once(testapp, editor):
    response = testapp.post_json(
        EMPLOYEES,
        payload(first_name="", email="nope", salary="abc"),
        headers=editor,
        status=422,
    )
    assert problem(response, 422)["detail"] == "3 fields are invalid"
    assert sorted(error_locs(response)) == [
        ["body", "email"],
        ["body", "first_name"],
        ["body", "salary"],
    ]


def test_an_unknown_field_is_422(testapp, editor):
    response = testapp.post_json(
        EMPLOYEES, payload(nickname="Ada"), headers=editor, status=422
    )
    assert error_locs(response) == [["body", "nickname"]]


def test_read_only_fields_are_ignored(testapp, editor):
    sent = payload(
        id=NO_SUCH_ID,
        version=9,
        created_at="2000-01-01T00:00:00Z",
        updated_at="2000-01-01T00:00:00Z",
    )
    body = testapp.post_json(EMPLOYEES, sent, headers=editor, status=201).json
    assert body["id"] != NO_SUCH_ID
    assert body["version"] == 1
    assert assert_utc(body["created_at"]).year > 2000


@pytest.mark.parametrize("field", ["department_id", "manager_id"])
@pytest.mark.parametrize("value", [NO_SUCH_ID, 2**31])
def test_a_reference_to_nothing_is_422_naming_the_field(testapp, editor, field, value):
    response = testapp.post_json(
        EMPLOYEES, payload(**{field: value}), headers=editor, status=422
    )
    assert error_locs(response) == [["body", field]]


def test_two_references_to_nothing_are_both_named(testapp, editor):
    response = testapp.post_json(
        EMPLOYEES,
        payload(department_id=NO_SUCH_ID, manager_id=NO_SUCH_ID),
        headers=editor,
        status=422,
    )
    assert error_locs(response) == [["body", "department_id"], ["body", "manager_id"]]


def stored_employees(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Employee)) or 0


@pytest.mark.parametrize("field", ["department_id", "manager_id"])
def test_of_two_references_only_the_one_to_nothing_is_named(
    real_app, committed_editor_token, engine, field
):
    """SQLite's foreign key error does not say which failed: the service
    asks (after the rollback a failed flush needs, so through the real commit
    path), names only the missing one, and stores nothing."""
    headers = bearer(committed_editor_token)
    department = real_app.post_json(
        "/api/v1/departments", {"name": "Referred"}, headers=headers
    ).json["id"]
    manager = real_app.post_json(
        EMPLOYEES, payload(email="boss@example.com"), headers=headers
    ).json["id"]
    references = {"department_id": department, "manager_id": manager}
    references[field] = NO_SUCH_ID
    response = real_app.post_json(
        EMPLOYEES,
        payload(email="both@example.com", **references),
        headers=headers,
        status=422,
    )
    assert error_locs(response) == [["body", field]]
    assert stored_employees(engine) == 1


@pytest.mark.parametrize("field", ["department_id", "manager_id"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_change_onto_a_reference_to_nothing_is_422_and_changes_nothing(
    real_app, committed_editor_token, method, field
):
    """Through the real commit path: in the rolled-back harness the rollback
    a failed flush needs would take the test's own rows with it."""
    headers = bearer(committed_editor_token)
    ada = real_app.post_json(EMPLOYEES, payload(), headers=headers).json
    body = {field: NO_SUCH_ID}
    if method == "PUT":
        body = payload(**body)
    response = write(real_app, method, item(ada["id"]), headers, 422, body)
    assert error_locs(response) == [["body", field]]
    assert current(real_app, ada["id"], headers) == ada


def test_a_reference_to_nothing_through_the_commit_path_stores_nothing(
    real_app, committed_editor_token, engine
):
    response = real_app.post_json(
        EMPLOYEES,
        payload(manager_id=NO_SUCH_ID),
        headers=bearer(committed_editor_token),
        status=422,
    )
    assert error_locs(response) == [["body", "manager_id"]]
    assert stored_employees(engine) == 0


@pytest.mark.parametrize("field", ["department_id", "manager_id"])
@pytest.mark.parametrize("value", ["1", True, 1.5, 0, -1])
def test_a_reference_that_is_not_an_id_is_422(
    testapp, editor, department, ada, field, value
):
    response = testapp.post_json(
        EMPLOYEES,
        payload(email="new@example.com", **{field: value}),
        headers=editor,
        status=422,
    )
    assert error_locs(response) == [["body", field]]


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [("Ada@X.com", "ada@x.com"), ("ada@example.com", "ADA@EXAMPLE.COM")],
)
def test_post_of_a_duplicate_email_is_409(testapp, editor, existing, duplicate):
    create(testapp, editor, email=existing)
    # Last request: a failed flush leaves this harness's session unusable.
    response = testapp.post_json(
        EMPLOYEES, payload(email=duplicate), headers=editor, status=409
    )
    assert error_locs(response, 409) == [["body", "email"]]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_changing_the_email_onto_another_employees_is_409(
    real_app, committed_editor_token, method
):
    """With real commits, where each request has a session of its own."""
    headers = bearer(committed_editor_token)
    real_app.post_json(EMPLOYEES, payload(), headers=headers)
    other = real_app.post_json(
        EMPLOYEES, payload(email="other@example.com"), headers=headers
    ).json
    body = payload(email="ADA@example.com")
    if method == "PATCH":
        body = {"email": body["email"]}

    response = write(real_app, method, item(other["id"]), headers, 409, body)

    assert error_locs(response, 409) == [["body", "email"]]
    assert current(real_app, other["id"], headers) == other


def test_a_409_on_post_stores_nothing(real_app, committed_editor_token):
    """With real commits: the refused request leaves exactly one employee."""
    headers = bearer(committed_editor_token)
    real_app.post_json(EMPLOYEES, payload(email="Ada@X.com"), headers=headers)
    real_app.post_json(
        EMPLOYEES, payload(email="ada@x.com"), headers=headers, status=409
    )
    listing = real_app.get(EMPLOYEES, {"count": "true"}, headers=headers).json
    assert listing["total"] == 1
    assert [e["email"] for e in listing["items"]] == ["ada@x.com"]


def test_a_first_name_of_any_100_unicode_characters_is_accepted(testapp, editor):
    name = "\N{ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM}" * 100
    response = testapp.post_json(
        EMPLOYEES, payload(first_name=name), headers=editor, expect_errors=True
    )
    assert response.status_int == 201
    assert response.json["first_name"] == name


def test_a_name_with_a_nul_character_is_stored_or_refused_never_a_500(testapp, editor):
    response = testapp.post_json(
        EMPLOYEES, payload(first_name="Ada\u0000"), headers=editor, expect_errors=True
    )
    if response.status_int == 201:
        assert response.json["first_name"] == "Ada\u0000"
    else:
        assert error_locs(response) == [["body", "first_name"]]


# --- GET and HEAD of one employee ----------------------------------------------


def test_get_has_an_etag_and_head_has_no_body(testapp, reader, ada):
    response = testapp.get(item(ada["id"]), headers=reader, status=200)
    assert response.headers["ETag"] == f'"{ada["id"]}-1"'
    assert response.json == ada
    head = testapp.head(item(ada["id"]), headers=reader, status=200)
    assert head.headers["ETag"] == f'"{ada["id"]}-1"'
    assert head.body == b""


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [('"{id}-1"', 304), ('W/"{id}-1"', 304), ('"{id}-2"', 200), ('"1"', 200)],
)
def test_if_none_match(testapp, reader, ada, if_none_match, status):
    headers = {**reader, "If-None-Match": if_none_match.format(id=ada["id"])}
    response = testapp.get(item(ada["id"]), headers=headers)
    assert response.status_int == status
    assert response.headers["ETag"] == f'"{ada["id"]}-1"'
    assert (response.body == b"") is (status == 304)


@pytest.mark.parametrize("method", ["GET", *WRITES])
@pytest.mark.parametrize("employee_id", [NO_SUCH_ID, 10**20])
def test_unknown_id_is_404(testapp, editor, method, employee_id):
    if method == "GET":
        response = testapp.get(item(employee_id), headers=editor, status=404)
    else:
        response = write(testapp, method, item(employee_id), editor, 404)
    problem(response, 404)


# --- PUT -----------------------------------------------------------------------


def test_put_replaces_everything_resetting_omitted_optional_fields(
    testapp, editor, department
):
    boss = create(testapp, editor, email="boss@example.com")
    ada = create(
        testapp,
        editor,
        title="Engineer",
        active=False,
        department_id=department.id,
        manager_id=boss["id"],
    )
    replacement = payload("title", "hire_date", first_name="Augusta", salary=120000)

    response = testapp.put_json(
        item(ada["id"]), replacement, headers=editor, status=200
    )

    body = response.json
    assert response.headers["ETag"] == f'"{ada["id"]}-2"'
    assert body["first_name"] == "Augusta"
    assert body["salary"] == "120000.00"
    assert body["title"] is None
    assert body["active"] is True
    assert body["department_id"] is None
    assert body["manager_id"] is None
    assert body["hire_date"] == datetime.now(UTC).date().isoformat()
    assert (body["id"], body["version"]) == (ada["id"], 2)
    assert body["created_at"] == ada["created_at"]
    assert current(testapp, ada["id"], editor) == body


@pytest.mark.parametrize("field", ["first_name", "email", "salary"])
def test_put_without_a_required_field_is_422_and_changes_nothing(
    testapp, editor, ada, field
):
    response = testapp.put_json(
        item(ada["id"]), payload(field, title="Boss"), headers=editor, status=422
    )
    assert error_locs(response) == [["body", field]]
    assert current(testapp, ada["id"], editor) == ada


# --- PATCH ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/merge-patch+json"]
)
@pytest.mark.parametrize(
    ("patch", "changed"),
    [
        ({"last_name": "Byron"}, {"last_name": "Byron"}),
        ({"title": None}, {"title": None}),
        ({"salary": 120000.5}, {"salary": "120000.50"}),
        (
            {"active": False, "hire_date": "2020-01-31"},
            {"active": False, "hire_date": "2020-01-31"},
        ),
        ({"email": "Lady.Ada@Example.com"}, {"email": "lady.ada@example.com"}),
    ],
    ids=["one-field", "null-clears", "salary", "two-fields", "email"],
)
def test_patch_changes_only_the_fields_present(
    testapp, editor, ada, content_type, patch, changed
):
    response = testapp.patch(
        item(ada["id"]),
        json.dumps(patch),
        headers=editor,
        content_type=content_type,
        status=200,
    )

    body = response.json
    assert response.headers["ETag"] == f'"{ada["id"]}-2"'
    assert {key: body[key] for key in changed} == changed
    unchanged = FIELDS - set(changed) - {"version", "updated_at"}
    assert {key: body[key] for key in unchanged} == {key: ada[key] for key in unchanged}
    assert body["version"] == 2
    assert current(testapp, ada["id"], editor) == body


def test_patch_sets_and_clears_references(testapp, editor, department, ada):
    boss = create(testapp, editor, email="boss@example.com")
    set_ = {"department_id": department.id, "manager_id": boss["id"]}
    body = testapp.patch_json(item(ada["id"]), set_, headers=editor).json
    assert {key: body[key] for key in set_} == set_
    cleared = {"department_id": None, "manager_id": None}
    body = testapp.patch_json(item(ada["id"]), cleared, headers=editor).json
    assert {key: body[key] for key in cleared} == cleared
    assert body["version"] == 3


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"first_name": None}, ["body", "first_name"]),
        ({"email": None}, ["body", "email"]),
        ({"salary": None}, ["body", "salary"]),
        ({"active": None}, ["body", "active"]),
        ({"salary": "1.001"}, ["body", "salary"]),
        ({"nickname": "Ada"}, ["body", "nickname"]),
        (["first_name"], ["body"]),
    ],
)
def test_a_bad_patch_is_422_and_changes_nothing(testapp, editor, ada, patch, loc):
    response = testapp.patch_json(item(ada["id"]), patch, headers=editor, status=422)
    assert error_locs(response) == [loc]
    assert current(testapp, ada["id"], editor) == ada


def test_patch_ignores_read_only_fields(testapp, editor, ada):
    body = testapp.patch_json(
        item(ada["id"]),
        {"title": "Countess", "id": NO_SUCH_ID, "version": 9},
        headers=editor,
    ).json
    assert (body["id"], body["version"], body["title"]) == (ada["id"], 2, "Countess")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_body_that_is_not_json_is_415(testapp, editor, ada, method):
    response = getattr(testapp, method.lower())(
        item(ada["id"]),
        json.dumps(payload(last_name="Byron")),
        headers=editor,
        content_type="text/plain",
        status=415,
    )
    problem(response, 415)
    assert current(testapp, ada["id"], editor) == ada


# --- managers ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_an_employee_cannot_manage_themselves(testapp, editor, ada, method):
    body = (
        payload(manager_id=ada["id"]) if method == "PUT" else {"manager_id": ada["id"]}
    )
    response = write(testapp, method, item(ada["id"]), editor, 422, body)
    assert error_locs(response) == [["body", "manager_id"]]
    assert current(testapp, ada["id"], editor) == ada


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_a_manager_that_would_close_a_cycle_is_422(testapp, editor, depth):
    chain = [create(testapp, editor, email="top@example.com")]
    for level in range(1, depth):
        chain.append(
            create(
                testapp,
                editor,
                email=f"e{level}@example.com",
                manager_id=chain[-1]["id"],
            )
        )
    top, bottom = chain[0], chain[-1]

    response = testapp.patch_json(
        item(top["id"]), {"manager_id": bottom["id"]}, headers=editor, status=422
    )

    assert error_locs(response) == [["body", "manager_id"]]
    assert current(testapp, top["id"], editor) == top


def test_moving_an_employee_to_another_branch_is_fine(testapp, editor):
    top = create(testapp, editor, email="top@example.com")
    left = create(testapp, editor, email="left@example.com", manager_id=top["id"])
    right = create(testapp, editor, email="right@example.com", manager_id=top["id"])
    body = testapp.patch_json(
        item(left["id"]), {"manager_id": right["id"]}, headers=editor, status=200
    ).json
    assert (body["manager_id"], body["version"]) == (right["id"], 2)


# --- versions and If-Match -----------------------------------------------------


def test_each_change_adds_exactly_one_to_the_version(testapp, editor, ada):
    changes = [
        ("PATCH", {"title": "Countess"}),
        ("PUT", payload(last_name="King")),
        ("PATCH", {"salary": "1.00"}),
    ]
    for expected, (method, body) in enumerate(changes, start=2):
        response = write(testapp, method, item(ada["id"]), editor, 200, body)
        assert response.json["version"] == expected
        assert response.headers["ETag"] == f'"{ada["id"]}-{expected}"'
    assert current(testapp, ada["id"], editor)["version"] == 4


@pytest.mark.parametrize("if_match", ['"{id}-2"', 'W/"{id}-1"', '"1"', "garbage"])
@pytest.mark.parametrize("method", WRITES)
def test_if_match_that_does_not_match_is_412_and_changes_nothing(
    testapp, editor, ada, method, if_match
):
    headers = {**editor, "If-Match": if_match.format(id=ada["id"])}
    response = write(testapp, method, item(ada["id"]), headers, 412)
    problem(response, 412)
    assert current(testapp, ada["id"], editor) == ada


@pytest.mark.parametrize("if_match", ['"{id}-1"', '"9", "{id}-1"', "*"])
@pytest.mark.parametrize("method", WRITES)
def test_if_match_that_matches_applies_the_change(
    testapp, editor, ada, method, if_match
):
    headers = {**editor, "If-Match": if_match.format(id=ada["id"])}
    write(testapp, method, item(ada["id"]), headers, SUCCESS[method])
    if method == "DELETE":
        testapp.get(item(ada["id"]), headers=editor, status=404)
    else:
        after = current(testapp, ada["id"], editor)
        assert (after["last_name"], after["version"]) == ("Byron", 2)


# --- DELETE --------------------------------------------------------------------


def test_delete_is_204_and_the_employee_is_gone(testapp, editor, ada):
    response = testapp.delete(item(ada["id"]), headers=editor, status=204)
    assert response.body == b""
    problem(testapp.get(item(ada["id"]), headers=editor, status=404), 404)


def test_delete_of_a_manager_is_409_until_nobody_reports_to_them(testapp, editor):
    boss = create(testapp, editor, email="boss@example.com")
    report = create(testapp, editor, email="report@example.com", manager_id=boss["id"])

    problem(testapp.delete(item(boss["id"]), headers=editor, status=409), 409)
    assert current(testapp, boss["id"], editor) == boss

    testapp.delete(item(report["id"]), headers=editor, status=204)
    testapp.delete(item(boss["id"]), headers=editor, status=204)


# --- roles ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", *WRITES])
def test_a_reader_may_not_write(testapp, reader, ada, method):
    if method == "POST":
        response = testapp.post_json(
            EMPLOYEES, payload(email="new@example.com"), headers=reader, status=403
        )
    else:
        response = write(testapp, method, item(ada["id"]), reader, 403)
    problem(response, 403)
    listing = testapp.get(EMPLOYEES, {"count": "true"}, headers=reader).json
    assert listing["total"] == 1
    assert listing["items"] == [ada]


# --- the list's filters --------------------------------------------------------


@pytest.fixture
def staff(dbsession) -> dict[str, int]:
    """Six employees in two departments; the names are what ``q`` looks for."""
    eng, ops = DepartmentFactory(name="Eng"), DepartmentFactory(name="Ops")
    ids = {"eng": eng.id, "ops": ops.id}

    def hire(key, first, last, hired, department=None, manager=None, active=True):
        ids[key] = EmployeeFactory(
            first_name=first,
            last_name=last,
            email=f"{key}@example.com",
            hire_date=hired,
            department_id=department,
            manager_id=ids.get(manager),
            active=active,
        ).id

    hire("grace", "Grace", "Hopper", date(2020, 1, 1), eng.id)
    hire("ada", "Ada", "Lovelace", date(2021, 6, 15), eng.id, "grace")
    hire("linus", "Linus", "Torvalds", date(2022, 3, 1), None, "grace", active=False)
    hire("percent", "100%", "Sure", date(2023, 12, 31), ops.id)
    hire("snake", "Snake_Case", "Python", date(2024, 1, 1), ops.id, "percent")
    hire("jorg", "Jörg", "Müller", date(2024, 1, 2), ops.id)
    return ids


EVERYONE = {"grace", "ada", "linus", "percent", "snake", "jorg"}


def query_id(query: dict) -> str:
    return "&".join(f"{name}={value}" for name, value in query.items()) or "none"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, EVERYONE),
        ({"department_id": "{eng}"}, {"grace", "ada"}),
        ({"department_id": "null"}, {"linus"}),
        ({"manager_id": "{grace}"}, {"ada", "linus"}),
        ({"manager_id": "null"}, {"grace", "percent", "jorg"}),
        ({"department_id": "{ops}", "manager_id": "null"}, {"percent", "jorg"}),
        ({"active": "false"}, {"linus"}),
        ({"active": "true"}, EVERYONE - {"linus"}),
        ({"hired_after": "2022-03-01"}, {"linus", "percent", "snake", "jorg"}),
        ({"hired_before": "2021-06-15"}, {"grace", "ada"}),
        (
            {"hired_after": "2021-06-15", "hired_before": "2022-03-01"},
            {"ada", "linus"},
        ),
        ({"hired_after": "2024-01-03"}, set()),
        ({"q": "LOVE"}, {"ada"}),
        ({"q": "GRACE@EXAMPLE"}, {"grace"}),
        ({"q": "example.com"}, EVERYONE),
        ({"q": "%"}, {"percent"}),
        ({"q": "_"}, {"snake"}),
        ({"q": "0%"}, {"percent"}),
        ({"q": "a%e"}, set()),
        ({"q": "e_c"}, {"snake"}),
        ({"q": "MÜLL"}, {"jorg"}),
        ({"q": "ÖR"}, {"jorg"}),
    ],
    ids=lambda value: query_id(value) if isinstance(value, dict) else None,
)
def test_filters(testapp, reader, staff, query, expected):
    params = {name: value.format(**staff) for name, value in query.items()}
    body = testapp.get(
        EMPLOYEES, {**params, "count": "true", "limit": "500"}, headers=reader
    ).json
    by_id = {staff[key]: key for key in EVERYONE}
    assert {by_id[e["id"]] for e in body["items"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("active", "maybe"),
        ("active", "1"),
        ("hired_after", "2024-13-01"),
        ("hired_before", "2024-02-30"),
        ("hired_after", "01/02/2024"),
        ("department_id", "abc"),
        ("department_id", "0"),
        ("manager_id", "-1"),
        ("manager_id", str(2**31)),
        ("limit", "0"),
        ("limit", "501"),
        ("limit", "ten"),
        ("count", "yes"),
        ("q", ""),
        ("q", "x" * 201),
        ("colour", "red"),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(testapp, reader, name, value):
    response = testapp.get(EMPLOYEES, {name: value}, headers=reader, status=422)
    assert error_locs(response) == [["query", name]]


def test_every_bad_query_parameter_is_reported_at_once(testapp, reader):
    response = testapp.get(
        EMPLOYEES,
        {"active": "maybe", "limit": "0", "colour": "red"},
        headers=reader,
        status=422,
    )
    assert sorted(error_locs(response)) == [
        ["query", "active"],
        ["query", "colour"],
        ["query", "limit"],
    ]


def test_a_q_with_a_nul_character_is_never_a_500(testapp, reader, staff):
    response = testapp.get(
        EMPLOYEES, {"q": "Ada\u0000"}, headers=reader, expect_errors=True
    )
    if response.status_int == 200:
        assert response.json["items"] == []
    else:
        assert error_locs(response) == [["query", "q"]]
