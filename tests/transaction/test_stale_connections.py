"""A pooled connection the database has dropped costs the client nothing.

The pool does not ping a connection before lending it (a round trip on every
request); the statement that meets a dead connection fails instead, and the
request is replayed on a fresh one. Here the database kills the app's one
pooled connection between two requests, as a restart or an idle timeout
would; the second request must still succeed, on its first answer.
"""

import logging

import pytest
import webtest
from sqlalchemy import Engine, select

from company_service.db import dispose_engines
from company_service.models import Department
from company_service.testing import bearer, committed, make_app, store_token

KILLERS = {
    "postgresql": ("SELECT pg_backend_pid()", "SELECT pg_terminate_backend({})"),
    "mysql": ("SELECT CONNECTION_ID()", "KILL {}"),
    "mariadb": ("SELECT CONNECTION_ID()", "KILL {}"),
}


@pytest.fixture
def killer(engine: Engine) -> tuple[str, str]:
    if engine.dialect.name not in KILLERS:
        pytest.skip("SQLite has no server to drop a connection")
    return KILLERS[engine.dialect.name]


def test_a_request_on_a_dropped_connection_is_replayed_and_succeeds(
    app_settings, clean_database, killer, caplog
):
    app = make_app(app_settings)
    app_engine: Engine = app.registry["db.writer_engine"]
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    with committed(clean_database) as connection:
        token = store_token(connection, "editor")
    try:
        client.post_json(  # pools one writer's connection
            "/api/v1/departments", {"name": "Before the drop"}, headers=bearer(token)
        )
        assert app_engine.pool.checkedin() == 1
        which, kill = killer
        with app_engine.connect() as pooled:  # that same connection
            backend = pooled.exec_driver_sql(which).scalar()
        with clean_database.connect() as other:
            other.exec_driver_sql(kill.format(int(backend)))
            other.commit()

        with caplog.at_level(logging.WARNING, logger="company_service"):
            response = client.post_json(
                "/api/v1/departments", {"name": "After the drop"}, headers=bearer(token)
            )
        assert response.status_int == 201
        assert "transient database error on attempt 1" in caplog.text
        with clean_database.connect() as connection:
            names = connection.scalars(select(Department.name)).all()
        assert sorted(names) == ["After the drop", "Before the drop"]
    finally:
        dispose_engines(app.registry)


def test_readyz_after_the_server_dropped_its_pooled_connections(
    app_settings, clean_database, killer
):
    """A probe after a database restart must not report the restart's stale
    connections as an outage: the check replaces them and answers 200."""
    app = make_app(app_settings)
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    try:
        assert client.get("/readyz").status_int == 200  # pools one connection each
        which, kill = killer
        for name in ("db.engine", "db.writer_engine"):
            with app.registry[name].connect() as pooled:
                backend = pooled.exec_driver_sql(which).scalar()
            with clean_database.connect() as other:
                other.exec_driver_sql(kill.format(int(backend)))
                other.commit()
        assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
    finally:
        dispose_engines(app.registry)
