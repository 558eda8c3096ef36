"""Idempotency-Key: a repeat gets the stored answer and changes nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from company_service.models import Department, Employee, IdempotencyKey
from company_service.services import idempotency
from company_service.testing import bearer, store_token
from tests.support.factories import DepartmentFactory, EmployeeFactory

DEPARTMENTS = "/api/v1/departments"


def keyed(token: str, key: str) -> dict[str, str]:
    return {**bearer(token), "Idempotency-Key": key}


def count(dbsession, model, *where) -> int:
    return dbsession.scalar(select(func.count()).select_from(model).where(*where))


def test_a_repeat_gets_the_same_answer_and_creates_nothing(
    testapp, editor_token, dbsession
):
    first = testapp.post_json(
        DEPARTMENTS, {"name": "Once"}, headers=keyed(editor_token, "k-1")
    )
    again = testapp.post_json(
        DEPARTMENTS, {"name": "Once"}, headers=keyed(editor_token, "k-1")
    )
    assert first.status_int == again.status_int == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(dbsession, Department, Department.name == "Once") == 1


def test_the_same_key_with_another_body_is_422(testapp, editor_token, dbsession):
    testapp.post_json(
        DEPARTMENTS, {"name": "First"}, headers=keyed(editor_token, "k-2")
    )
    answer = testapp.post_json(
        DEPARTMENTS, {"name": "Second"}, headers=keyed(editor_token, "k-2"), status=422
    )
    assert answer.json["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert count(dbsession, Department, Department.name == "Second") == 0


def test_the_same_key_on_another_route_is_422(testapp, editor_token):
    testapp.post_json(DEPARTMENTS, {"name": "Here"}, headers=keyed(editor_token, "k-3"))
    testapp.post_json(
        "/api/v1/employees",
        {"name": "Here"},
        headers=keyed(editor_token, "k-3"),
        status=422,
    )


def test_keys_belong_to_their_token(testapp, editor_token, connection, dbsession):
    other = store_token(connection, "editor")
    testapp.post_json(
        DEPARTMENTS, {"name": "Mine"}, headers=keyed(editor_token, "shared")
    )
    answer = testapp.post_json(
        DEPARTMENTS, {"name": "Yours"}, headers=keyed(other, "shared"), status=201
    )
    assert answer.json["name"] == "Yours"


def test_a_raise_repeated_with_its_key_is_applied_once(
    testapp, editor_token, dbsession
):
    department = DepartmentFactory(name="Raised once")
    employee = EmployeeFactory(salary=Decimal(100), department_id=department.id)
    path = f"/api/v1/departments/{department.id}/raise"
    for _ in range(3):
        answer = testapp.post_json(
            path, {"percent": 10}, headers=keyed(editor_token, "r-1")
        )
        assert answer.json == {"updated": 1}
    dbsession.expire_all()
    assert dbsession.get(Employee, employee.id).salary == Decimal(110)


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there"])
def test_a_malformed_key_is_422(testapp, editor_token, key):
    answer = testapp.post_json(
        DEPARTMENTS, {"name": "Keyed"}, headers=keyed(editor_token, key), status=422
    )
    assert answer.json["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def test_an_expired_key_may_be_used_again(testapp, editor_token, dbsession):
    testapp.post_json(
        DEPARTMENTS, {"name": "Old"}, headers=keyed(editor_token, "k-old")
    )
    dbsession.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == "k-old")
        .values(created_at=datetime.now(UTC) - timedelta(hours=25))
    )
    answer = testapp.post_json(
        DEPARTMENTS, {"name": "New"}, headers=keyed(editor_token, "k-old")
    )
    assert answer.json["name"] == "New"


def test_expired_keys_are_purged_without_a_daemon(
    testapp, editor_token, dbsession, monkeypatch
):
    testapp.post_json(
        DEPARTMENTS, {"name": "Stale"}, headers=keyed(editor_token, "k-stale")
    )
    dbsession.execute(
        update(IdempotencyKey).values(created_at=datetime.now(UTC) - timedelta(days=2))
    )
    monkeypatch.setattr(idempotency, "PURGE_EVERY", 1)  # purge on this very claim
    testapp.post_json(
        DEPARTMENTS, {"name": "Fresh"}, headers=keyed(editor_token, "k-fresh")
    )
    keys = set(dbsession.scalars(select(IdempotencyKey.key)))
    assert keys == {"k-fresh"}


def test_without_a_key_nothing_is_stored(testapp, editor_token, dbsession):
    testapp.post_json(DEPARTMENTS, {"name": "Unkeyed"}, headers=bearer(editor_token))
    assert count(dbsession, IdempotencyKey) == 0
