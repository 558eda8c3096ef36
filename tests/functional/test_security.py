"""Bearer tokens: who gets in, who is turned away, and how tokens are kept."""

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from company_service.models import ApiToken
from company_service.testing import bearer, store_token
from company_service.tokens import hash_token, new_token

WHOAMI = "/api/v1/_probe/whoami"
CREATE = "/api/v1/_probe/departments"
UNDECLARED = "/api/v1/_probe/undeclared"


def assert_unauthorized(response):
    assert response.status_int == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 401


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Bearer not a token",
        "Bearer ../../etc/passwd",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "A" * 43,  # well formed, unknown
    ],
    ids=["none", "scheme-only", "empty", "spaces", "garbage", "basic", "unknown"],
)
def test_requests_without_a_valid_token_get_401(testapp, header):
    headers = {"Authorization": header} if header else {}
    assert_unauthorized(testapp.get(WHOAMI, headers=headers, status=401))


def test_a_revoked_token_gets_401(testapp, connection):
    token = store_token(connection, "reader", name="soon-revoked")
    testapp.get(WHOAMI, headers=bearer(token), status=200)
    connection.execute(
        update(ApiToken)
        .where(ApiToken.name == "soon-revoked")
        .values(revoked_at=datetime.now(UTC))
    )
    assert_unauthorized(testapp.get(WHOAMI, headers=bearer(token), status=401))


def test_a_reader_may_read(testapp, reader_token):
    assert testapp.get(WHOAMI, headers=bearer(reader_token)).json["role"] == "reader"


def test_a_reader_writing_gets_403(testapp, reader_token):
    response = testapp.post_json(
        CREATE, {"name": "X"}, headers=bearer(reader_token), status=403
    )
    assert response.content_type == "application/problem+json"
    assert "WWW-Authenticate" not in response.headers


def test_an_editor_may_write(testapp, editor_token):
    testapp.post_json(CREATE, {"name": "Y"}, headers=bearer(editor_token), status=201)


def test_the_scheme_is_case_insensitive(testapp, reader_token):
    testapp.get(WHOAMI, headers={"Authorization": f"bearer {reader_token}"}, status=200)


def test_tokens_carry_at_least_128_random_bits_and_only_a_hash_is_stored(
    dbsession, connection
):
    token = new_token()
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert len({new_token() for _ in range(100)}) == 100
    stored_token = store_token(connection, "reader", name="hashed")
    stored = dbsession.scalars(select(ApiToken).where(ApiToken.name == "hashed")).one()
    assert stored.token_hash == hash_token(stored_token)
    assert stored_token not in stored.token_hash


def test_a_view_that_names_no_permission_needs_a_readers_token(testapp, reader_token):
    """Pyramid's default permission: an omission is never an open route."""
    assert_unauthorized(testapp.get(UNDECLARED, status=401))
    assert (
        testapp.get(UNDECLARED, headers=bearer(reader_token)).json["role"] == "reader"
    )
