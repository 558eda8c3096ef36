"""/healthz and /readyz: open, problem+json when not ready, no database for liveness."""

from sqlalchemy import event

from company_service.testing import make_app


def test_healthz_answers_without_touching_the_database(app, testapp):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.registry["db.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = testapp.get("/healthz")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.json == {"status": "ok"}
    assert statements == []


def test_readyz_reports_the_database(testapp):
    assert testapp.get("/readyz").json == {"status": "ok", "database": "ok"}


def test_readyz_is_503_problem_when_the_database_cannot_be_reached(app_settings):
    import webtest

    unreachable = make_app(
        app_settings,
        **{"sqlalchemy.url": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
    )
    response = webtest.TestApp(unreachable).get("/readyz", status=503)
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 503
    assert response.headers["Retry-After"] == app_settings["api.retry_after_seconds"]
    assert "psycopg" not in response.text and "127.0.0.1" not in response.text


def test_head_works_where_get_does(testapp):
    response = testapp.head("/healthz")
    assert response.status_int == 200
    assert response.body == b""
