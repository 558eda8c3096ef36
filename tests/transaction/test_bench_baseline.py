"""make bench compares the service with bench/baseline.py: the comparison is
fair only if both answer with the same representation of the same rows."""

import webtest

from bench.baseline import main as baseline_app
from tests.conftest import bearer

NEW = {
    "first_name": "Grace", "last_name": "Hopper", "title": "Rear Admiral",
    "hire_date": "2024-02-29", "salary": "12345.67", "active": True,
}  # fmt: skip


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
