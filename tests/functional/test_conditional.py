"""Conditional requests on the item routes, as RFC 9110 §13 orders them.

Every method of ``/api/v1/employees/{id}`` and ``/api/v1/departments/{id}``
(GET, HEAD, PUT, PATCH, DELETE) against every combination docs/usage.md's
"Conditional requests" table lists: If-Match is compared strongly and
evaluated first (false: 412); If-None-Match is compared weakly and evaluated
next (true: 304 for GET and HEAD, 412 for a write); Last-Modified dates are
ignored. A 412 must leave the stored row exactly as it was, which is read
back from the database, not only through the API.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Table, select

from company_service.models import Department, Employee
from tests.support.api import EMPLOYEE, SUCCESS, problem

API = "/api/v1"
NO_SUCH_ID = 2**31 - 1
METHODS = ["GET", "HEAD", "PUT", "PATCH", "DELETE"]
OK = "ok"  # 200 for GET, HEAD, PUT and PATCH; 204 for DELETE


@dataclass(frozen=True)
class Route:
    """One item route and the bodies that make each write succeed."""

    collection: str
    table: Table
    create: dict[str, Any]
    put: dict[str, Any]
    patch: dict[str, Any]
    changed: tuple[str, str]  # the field a successful PUT or PATCH sets, and to what


ROUTES = {
    "employees": Route(
        collection=f"{API}/employees",
        table=Employee.__table__,
        create=EMPLOYEE,
        put={**EMPLOYEE, "last_name": "Byron"},
        patch={"last_name": "Byron"},
        changed=("last_name", "Byron"),
    ),
    "departments": Route(
        collection=f"{API}/departments",
        table=Department.__table__,
        create={"name": "Legal", "description": "Contracts"},
        put={"name": "Renamed"},
        patch={"name": "Renamed"},
        changed=("name", "Renamed"),
    ),
}


# Each case: the headers (``{tag}`` is the current ETag's opaque-tag, ``{old}``
# one of the same item that is not current), then the status of GET/HEAD and
# of PUT/PATCH/DELETE. docs/usage.md's table is this list.
CASES = {
    "no precondition": ({}, OK, OK),
    "If-Match current": ({"If-Match": '"{tag}"'}, OK, OK),
    "If-Match stale": ({"If-Match": '"{old}"'}, 412, 412),
    "If-Match other item": ({"If-Match": '"999"'}, 412, 412),
    "If-Match *": ({"If-Match": "*"}, OK, OK),
    "If-Match list with current": ({"If-Match": '"{old}", "{tag}"'}, OK, OK),
    "If-Match list without current": ({"If-Match": '"{old}", "999"'}, 412, 412),
    "If-Match weak current": ({"If-Match": 'W/"{tag}"'}, 412, 412),
    "If-Match empty": ({"If-Match": ""}, 412, 412),
    "If-None-Match current": ({"If-None-Match": '"{tag}"'}, 304, 412),
    "If-None-Match stale": ({"If-None-Match": '"{old}"'}, OK, OK),
    "If-None-Match *": ({"If-None-Match": "*"}, 304, 412),
    "If-None-Match list with current": (
        {"If-None-Match": '"{old}", "{tag}"'},
        304,
        412,
    ),
    "If-None-Match list without current": (
        {"If-None-Match": '"{old}", "999"'},
        OK,
        OK,
    ),
    "If-None-Match weak current": ({"If-None-Match": 'W/"{tag}"'}, 304, 412),
    "If-None-Match weak stale": ({"If-None-Match": 'W/"{old}"'}, OK, OK),
    "If-None-Match empty": ({"If-None-Match": ""}, OK, OK),
    "both match": ({"If-Match": '"{tag}"', "If-None-Match": '"{tag}"'}, 304, 412),
    "both *": ({"If-Match": "*", "If-None-Match": "*"}, 304, 412),
    "If-Match matches, If-None-Match does not": (
        {"If-Match": '"{tag}"', "If-None-Match": '"{old}"'},
        OK,
        OK,
    ),
    # Step 1 comes first: its 412 wins over If-None-Match's 304.
    "If-Match fails, If-None-Match matches": (
        {"If-Match": '"{old}"', "If-None-Match": '"{tag}"'},
        412,
        412,
    ),
    "neither matches": ({"If-Match": '"{old}"', "If-None-Match": '"{old}"'}, 412, 412),
    # No Last-Modified validator: the date preconditions are ignored, so these
    # would-be 412 and 304 answers are plain successes.
    "If-Unmodified-Since in the past": (
        {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        OK,
        OK,
    ),
    "If-Modified-Since in the future": (
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        OK,
        OK,
    ),
}


def stored(dbsession, route: Route, item_id: int) -> dict | None:
    """The row as the database holds it (None once deleted). A plain SELECT
    through the request's session: it would flush, and so show, any change a
    refused request had left pending."""
    row = dbsession.execute(
        select(route.table).where(route.table.c.id == item_id)
    ).first()
    return None if row is None else row._asdict()


def stale(tag: str) -> str:
    """A tag of the same item in a state it is not in: another version."""
    item_id, _version, *rest = tag.split("-")
    return "-".join([item_id, "99", *rest])


def send(testapp, route: Route, method: str, path: str, headers: dict, status):
    if method in ("GET", "HEAD", "DELETE"):
        call = getattr(testapp, method.lower())
        return call(path, headers=headers, status=status)
    body = route.put if method == "PUT" else route.patch
    call = testapp.put_json if method == "PUT" else testapp.patch_json
    return call(path, body, headers=headers, status=status)


@pytest.mark.parametrize(
    ("headers", "read_status", "write_status"), CASES.values(), ids=CASES.keys()
)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ROUTES)
def test_precondition_matrix(
    testapp, dbsession, editor, name, method, headers, read_status, write_status
):
    route = ROUTES[name]
    created = testapp.post_json(
        route.collection, route.create, headers=editor, status=201
    )
    path = created.headers["Location"]
    tag = created.headers["ETag"].strip('"')
    item_id = created.json["id"]
    before = stored(dbsession, route, item_id)
    sent = {
        key: value.format(tag=tag, old=stale(tag)) for key, value in headers.items()
    }

    expected = read_status if method in ("GET", "HEAD") else write_status
    if expected == OK:
        expected = SUCCESS.get(method, 200)
    response = send(testapp, route, method, path, {**editor, **sent}, expected)

    after = stored(dbsession, route, item_id)
    if expected == 412:
        if method != "HEAD":
            problem(response, 412)
        assert after == before  # nothing changed, nothing deleted
    elif expected == 304:
        assert response.headers["ETag"] == f'"{tag}"'
        assert response.body == b""
        assert after == before
    elif method in ("GET", "HEAD"):
        assert response.headers["ETag"] == f'"{tag}"'
        if method == "GET":
            assert response.json == created.json
        else:
            assert response.body == b""
        assert after == before
    elif method == "DELETE":
        assert after is None
    else:
        field, value = route.changed
        assert response.json[field] == value
        assert response.json["version"] == 2
        assert after is not None and after["version"] == 2
        assert response.headers["ETag"] != f'"{tag}"'


@pytest.mark.parametrize(
    "headers",
    [{"If-Match": "*"}, {"If-None-Match": "*"}, {"If-None-Match": '"1"'}, {}],
    ids=["If-Match *", "If-None-Match *", "If-None-Match tag", "none"],
)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ROUTES)
def test_an_unknown_item_is_404_whatever_the_preconditions(
    testapp, editor, name, method, headers
):
    """The item must exist before any precondition is evaluated: ``*`` in
    If-Match names a current representation, and there is none."""
    route = ROUTES[name]
    path = f"{route.collection}/{NO_SUCH_ID}"
    response = send(testapp, route, method, path, {**editor, **headers}, 404)
    if method != "HEAD":
        problem(response, 404)


@pytest.mark.parametrize("name", ROUTES)
def test_a_412_on_a_write_says_which_header_refused_it(testapp, editor, name):
    route = ROUTES[name]
    created = testapp.post_json(route.collection, route.create, headers=editor)
    path = created.headers["Location"]
    tag = created.headers["ETag"]
    star = testapp.delete(path, headers={**editor, "If-None-Match": "*"}, status=412)
    assert "If-None-Match is *" in problem(star, 412)["detail"]
    named = testapp.delete(path, headers={**editor, "If-None-Match": tag}, status=412)
    assert f"If-None-Match names the current state {tag}" in named.json["detail"]
    wrong = testapp.delete(path, headers={**editor, "If-Match": '"9"'}, status=412)
    assert f"the current state is {tag}" in problem(wrong, 412)["detail"]


def test_a_get_that_fails_if_match_is_a_412_problem_not_a_body(testapp, editor):
    """RFC 9110 §13.1.1: If-Match applies to GET too (the issue's example)."""
    route = ROUTES["employees"]
    created = testapp.post_json(route.collection, route.create, headers=editor)
    path = created.headers["Location"]
    response = testapp.get(path, headers={**editor, "If-Match": '"999"'}, status=412)
    assert "first_name" not in problem(response, 412)


def test_put_with_if_none_match_star_does_not_overwrite_an_existing_item(
    testapp, dbsession, editor
):
    """RFC 9110 §13.1.2: the create-only guard must not replace what is there."""
    route = ROUTES["employees"]
    created = testapp.post_json(route.collection, route.create, headers=editor)
    path = created.headers["Location"]
    before = stored(dbsession, route, created.json["id"])
    headers = {**editor, "If-None-Match": "*"}
    problem(testapp.put_json(path, route.put, headers=headers, status=412), 412)
    assert stored(dbsession, route, created.json["id"]) == before
    assert testapp.get(path, headers=editor).json == created.json
