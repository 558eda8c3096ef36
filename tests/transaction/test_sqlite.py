"""SQLite's connection setup: foreign keys, WAL, and who takes the write lock."""

import pytest
from sqlalchemy import event

from company_service.testing import bearer

PROBE = "/api/v1/_probe"


@pytest.fixture(autouse=True)
def sqlite_only(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")


def test_every_connection_enforces_foreign_keys_and_uses_wal(app):
    with app.registry["db.engine"].connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.fixture
def begins(app):
    """The BEGINs SQLite itself ran (its trace callback), however sent."""
    seen: list[str] = []

    def record(statement):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    def checkout(dbapi_connection, *args):
        dbapi_connection.set_trace_callback(record)

    def checkin(dbapi_connection, *args):
        if dbapi_connection is not None:
            dbapi_connection.set_trace_callback(None)

    pool = app.registry["db.engine"].pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    yield seen
    event.remove(pool, "checkout", checkout)
    event.remove(pool, "checkin", checkin)


def test_a_writer_takes_the_write_lock_up_front(
    real_app, committed_editor_token, begins
):
    real_app.get(f"{PROBE}/whoami", headers=bearer(committed_editor_token))
    begins.clear()  # the token's identity is now kept (security.TokenCache)
    real_app.post_json(
        f"{PROBE}/departments",
        {"name": "Up front"},
        headers=bearer(committed_editor_token),
    )
    assert begins == ["BEGIN IMMEDIATE"]


def test_a_reader_does_not(real_app, committed_editor_token, begins):
    real_app.get(f"{PROBE}/whoami", headers=bearer(committed_editor_token))
    begins.clear()
    real_app.get("/api/v1/departments", headers=bearer(committed_editor_token))
    assert begins == ["BEGIN"]


def test_the_token_lookup_reads_outside_the_requests_transaction(
    real_app, committed_editor_token, begins
):
    """A token not yet kept costs one short read of its own, before the
    view opens the request's session on the pool its view declared."""
    real_app.post_json(
        f"{PROBE}/departments",
        {"name": "First use"},
        headers=bearer(committed_editor_token),
    )
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]
