"""What only the real commit path shows: errors at commit, the manager, savepoints."""

import logging

import transaction
from sqlalchemy import select

from company_service.db import open_session
from company_service.models import Department
from company_service.testing import bearer

PROBE = "/api/v1/_probe"


def department_names(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(Department.name)))


def commit_fails(real_app, token, mode: str, status: int):
    return real_app.post_json(
        f"{PROBE}/commit-fails",
        {"name": "commit"},
        headers={**bearer(token), "X-Probe-Mode": mode},
        status=status,
    )


def test_a_transient_error_at_commit_is_retried(
    real_app, committed_editor_token, engine
):
    answer = commit_fails(real_app, committed_editor_token, "once", 200)
    assert answer.json == {"attempt": 1}
    assert department_names(engine) == {"commit-once-attempt-1"}


def test_a_transient_error_at_every_commit_ends_in_503(
    real_app, committed_editor_token, engine
):
    answer = commit_fails(real_app, committed_editor_token, "always", 503)
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"] == "1"
    assert department_names(engine) == set()


def test_a_bug_at_commit_is_a_500_problem_and_leaves_nothing(
    real_app, committed_editor_token, engine, caplog
):
    with caplog.at_level(logging.ERROR, logger="company_service"):
        answer = commit_fails(real_app, committed_editor_token, "bug", 500)
    assert answer.content_type == "application/problem+json"
    assert answer.json["request_id"] == answer.headers["X-Request-ID"]
    assert "boom" not in answer.text
    assert any(r.exc_info for r in caplog.records)
    assert department_names(engine) == set()


def test_a_request_uses_its_threads_manager_in_explicit_mode(
    real_app, committed_editor_token
):
    facts = real_app.get(
        f"{PROBE}/transaction", headers=bearer(committed_editor_token)
    ).json
    assert facts == {"explicit": True, "is_global_manager": True}


def test_a_failed_commit_does_not_reach_the_next_request_on_its_thread(
    real_app, committed_editor_token, engine
):
    """The failed commit's transaction stays on the thread's manager; the
    next request (webtest runs every one on this thread) still begins its
    own and commits only its own write."""
    commit_fails(real_app, committed_editor_token, "bug", 500)
    real_app.post_json(
        f"{PROBE}/departments",
        {"name": "the next request"},
        headers=bearer(committed_editor_token),
        status=201,
    )
    assert department_names(engine) == {"the next request"}


def test_a_transaction_left_open_on_the_thread_is_aborted_not_committed(
    app, real_app, committed_editor_token, engine
):
    """Something began a transaction on this thread and wrote, and never
    ended it: the next request aborts it before beginning its own."""
    manager = transaction.manager
    manager.begin()
    leftover = open_session(app.registry, writes=True)
    leftover.add(Department(name="left open"))
    leftover.flush()
    try:
        real_app.post_json(
            f"{PROBE}/departments",
            {"name": "after it"},
            headers=bearer(committed_editor_token),
            status=201,
        )
    finally:
        leftover.close()
    assert department_names(engine) == {"after it"}


def test_a_savepoint_rolls_back_only_its_part(real_app, committed_editor_token, engine):
    real_app.post(f"{PROBE}/savepoint", headers=bearer(committed_editor_token))
    assert department_names(engine) == {"kept after the savepoint"}
