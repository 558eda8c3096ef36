"""The real thing: pserve runs waitress from development.ini; we use a socket."""

from company_service.testing import bearer, committed, store_token


def test_the_server_is_alive_and_ready(server):
    assert server.request("GET", "/healthz").json == {"status": "ok"}
    assert server.request("GET", "/readyz").json == {"status": "ok", "database": "ok"}


def test_the_server_answers_problems_and_request_ids(server):
    answer = server.request("GET", "/api/v1/nowhere", headers={"X-Request-ID": "e2e-1"})
    assert answer.status == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.headers["X-Request-ID"] == "e2e-1"
    assert answer.json["request_id"] == "e2e-1"


def test_the_server_answers_405_with_allow(server):
    answer = server.request("POST", "/healthz")
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, HEAD"


def test_a_token_made_in_the_database_opens_the_api_over_the_wire(
    server, clean_database
):
    with committed(clean_database) as connection:
        token = store_token(connection, "editor")
    created = server.request(
        "POST", "/api/v1/departments", {"name": "Wire"}, headers=bearer(token)
    )
    assert created.status == 201
    assert created.headers["Location"].endswith(
        f"/api/v1/departments/{created.json['id']}"
    )
    fetched = server.request(
        "GET", f"/api/v1/departments/{created.json['id']}", headers=bearer(token)
    )
    assert fetched.json["name"] == "Wire"
    assert server.request("GET", "/api/v1/departments").status == 401
