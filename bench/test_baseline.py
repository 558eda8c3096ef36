"""make bench compares the service with bench/baseline.py: the comparison is
fair only if both answer with the same representation of the same rows.

Bench's own test, run by ``make test`` (pytest's testpaths include bench/),
on ``TEST_DATABASE_URL`` like the suite, else a SQLite file of its own."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest
from sqlalchemy import Engine, create_engine

from bench.baseline import main as baseline_app
from company_service.db import dispose_engines
from company_service.testing import (
    TESTING_INI,
    app_settings_from,
    bearer,
    chosen_database_url,
    committed,
    delete_all_rows,
    make_app,
    rebuild_schema,
    store_token,
)

NEW = {
    "first_name": "Grace", "last_name": "Hopper", "title": "Rear Admiral",
    "hire_date": "2024-02-29", "salary": "12345.67", "active": True,
}  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated database, emptied afterwards."""
    monkeypatch.delenv("DATABASE_URL", raising=False)  # it would win over the URL
    engine = create_engine(chosen_database_url(tmp_path))
    rebuild_schema(engine)
    yield engine
    delete_all_rows(engine)
    engine.dispose()


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def real_app(database_url: str) -> Iterator[webtest.TestApp]:
    """The service on the real commit path."""
    app = make_app(app_settings_from(TESTING_INI, database_url))
    yield webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    dispose_engines(app.registry)


@pytest.fixture
def committed_editor_token(engine: Engine) -> str:
    with committed(engine) as connection:
        return store_token(connection, "editor")


def test_the_baseline_answers_exactly_as_the_service_does(
    real_app, committed_editor_token, database_url
):
    headers = bearer(committed_editor_token)
    for n in range(3):
        real_app.post_json(
            "/api/v1/employees", {**NEW, "email": f"g{n}@example.com"}, headers=headers
        )
    app = baseline_app({}, **{"sqlalchemy.url": database_url})
    baseline = webtest.TestApp(app)
    try:
        ours = real_app.get("/api/v1/employees?limit=2", headers=headers).json
        theirs = baseline.get("/api/v1/employees?limit=2").json
        assert ours["items"] == theirs["items"]
        assert len(ours["items"]) == 2 and theirs["next_cursor"] is not None

        last = ours["items"][-1]["id"]
        after = baseline.get(f"/api/v1/employees?limit=2&cursor={last}").json
        assert [item["email"] for item in after["items"]] == ["g2@example.com"]

        one = real_app.get(f"/api/v1/employees/{last}", headers=headers).json
        assert baseline.get(f"/api/v1/employees/{last}").json == one

        created = baseline.post_json(
            "/api/v1/employees", {**NEW, "email": "baseline@example.com"}
        )
        assert created.status_int == 201
        stored = real_app.get(
            f"/api/v1/employees/{created.json['id']}", headers=headers
        ).json
        assert stored == created.json
    finally:
        app.registry["engine"].dispose()
