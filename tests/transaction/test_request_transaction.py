"""The request transaction on pyramid_tm's real commit path.

Each test looks at the database through a connection of its own afterwards,
as another client would: what it finds is what the request really committed.
"""

import pytest
from sqlalchemy import select

from company_service.models import Department
from company_service.testing import bearer, count_rows

PROBE = "/api/v1/_probe"


def test_a_view_that_writes_and_succeeds_is_committed(
    real_app, committed_editor_token, engine
):
    response = real_app.post_json(
        f"{PROBE}/departments",
        {"name": "Research"},
        headers=bearer(committed_editor_token),
    )
    assert response.status_int == 201
    with engine.connect() as connection:
        stored = connection.scalar(
            select(Department.name).where(Department.id == response.json["id"])
        )
    assert stored == "Research"


def test_a_raw_sql_write_on_the_request_session_is_committed(
    real_app, committed_editor_token, engine
):
    """No ORM object, no flush, no mark_changed: it still commits."""
    real_app.post_json(
        f"{PROBE}/raw-sql",
        {"name": "Written by text()"},
        headers=bearer(committed_editor_token),
    )
    assert count_rows(engine, Department, Department.name == "Written by text()") == 1


def test_a_unique_violation_at_flush_is_not_committed_partially(
    real_app, committed_editor_token, engine
):
    headers = bearer(committed_editor_token)
    real_app.post_json(f"{PROBE}/departments", {"name": "Legal"}, headers=headers)
    response = real_app.post_json(
        f"{PROBE}/departments", {"name": "LEGAL"}, headers=headers, status=500
    )
    assert "IntegrityError" not in response.text
    assert count_rows(engine, Department) == 1


@pytest.mark.parametrize(
    ("probe", "body", "status"),
    [
        pytest.param("write-then-raise", {"name": "Doomed"}, 500, id="raises"),
        # pyramid_tm would commit a *returned* error response; the commit
        # veto stops it.
        pytest.param(
            "write-then-return-error", {"name": "Vetoed"}, 422, id="returns-a-4xx"
        ),
        pytest.param(
            "departments", {"name": "", "colour": "red"}, 422, id="rejected-body"
        ),
        # Only the transaction manager commits: a view's own session.commit()
        # fails the request, and the half of it written so far is rolled back.
        pytest.param(
            "commit-in-view", {"name": "Half a request"}, 500, id="commits-itself"
        ),
    ],
)
def test_a_request_that_fails_leaves_nothing(
    real_app, committed_editor_token, engine, probe, body, status
):
    response = real_app.post_json(
        f"{PROBE}/{probe}",
        body,
        headers=bearer(committed_editor_token),
        status=status,
    )
    assert response.content_type == "application/problem+json"
    assert count_rows(engine, Department) == 0
