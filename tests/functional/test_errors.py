"""Every error is problem+json with the contract's fields, and never a traceback."""

import logging

import pytest

from company_service.testing import bearer

PROBE = "/api/v1/_probe"
LEAKS = (
    "Traceback",
    'File "',
    "RuntimeError",
    "boom",
    "/etc/passwd",
    "SELECT",
    "sqlalchemy",
)


def assert_problem(response, status: int):
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    for leak in LEAKS:
        assert leak not in response.text
    return body


def test_400_malformed_json(testapp, editor_token):
    response = testapp.post(
        f"{PROBE}/departments",
        '{"name": ',
        headers=bearer(editor_token),
        content_type="application/json",
        status=400,
    )
    assert "not valid JSON" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "a", "name": "b"}',
        b'{"name": NaN}',
        b'{"name": Infinity}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"name": 1' + b"0" * 5000 + b"}",
    ],
    ids=["duplicate-key", "nan", "infinity", "not-utf8", "deep", "huge-number"],
)
def test_400_for_json_that_cannot_be_trusted(testapp, editor_token, raw):
    response = testapp.post(
        f"{PROBE}/departments",
        raw,
        headers=bearer(editor_token),
        content_type="application/json",
        status=400,
    )
    assert_problem(response, 400)


def test_401(testapp):
    assert_problem(testapp.get(f"{PROBE}/whoami", status=401), 401)


def test_403(testapp, reader_token):
    response = testapp.post_json(
        f"{PROBE}/departments", {"name": "x"}, headers=bearer(reader_token), status=403
    )
    assert_problem(response, 403)


def test_404_unknown_route(testapp):
    assert_problem(testapp.get("/api/v1/no-such-thing", status=404), 404)


def test_405_names_the_allowed_methods(testapp):
    response = testapp.delete("/healthz", status=405)
    assert_problem(response, 405)
    assert response.headers["Allow"] == "GET, HEAD"


def test_413_body_over_the_limit(testapp, editor_token, app):
    limit = int(app.registry.settings["api.max_body_bytes"])
    response = testapp.post(
        f"{PROBE}/departments",
        b'{"name": "' + b"x" * limit + b'"}',
        headers=bearer(editor_token),
        content_type="application/json",
        status=413,
    )
    assert_problem(response, 413)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ],
)
def test_415_wrong_content_type(testapp, editor_token, content_type):
    response = testapp.post(
        f"{PROBE}/departments",
        b'{"name": "x"}',
        headers={**bearer(editor_token), "Content-Type": content_type},
        status=415,
    )
    assert_problem(response, 415)


def test_422_reports_every_field_at_once(testapp, editor_token):
    response = testapp.post_json(
        f"{PROBE}/departments",
        {"name": "", "description": "d" * 2001, "colour": "red"},
        headers=bearer(editor_token),
        status=422,
    )
    body = assert_problem(response, 422)
    assert body["detail"] == "3 fields are invalid"
    assert sorted(tuple(e["loc"]) for e in body["errors"]) == [
        ("body", "colour"),
        ("body", "description"),
        ("body", "name"),
    ]
    assert all(e["msg"] and e["type"] for e in body["errors"])


def test_422_when_the_body_is_not_an_object(testapp, editor_token):
    response = testapp.post_json(
        f"{PROBE}/departments", ["a"], headers=bearer(editor_token), status=422
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body"]


def test_read_only_fields_are_ignored(testapp, editor_token):
    testapp.post_json(
        f"{PROBE}/departments",
        {"name": "Ops", "id": 999, "version": 7},
        headers=bearer(editor_token),
        status=201,
    )


def test_500_shows_nothing_and_logs_the_traceback_with_the_request_id(
    testapp, editor_token, caplog
):
    with caplog.at_level(logging.ERROR, logger="company_service"):
        response = testapp.post_json(
            f"{PROBE}/write-then-raise",
            {"name": "x"},
            headers={**bearer(editor_token), "X-Request-ID": "trace-me-42"},
            status=500,
        )
    assert_problem(response, 500)
    logged = [r for r in caplog.records if "trace-me-42" in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_503_carries_retry_after(testapp, editor_token):
    response = testapp.post(f"{PROBE}/busy", headers=bearer(editor_token), status=503)
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1"


def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(testapp):
    assert (
        testapp.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers[
            "X-Request-ID"
        ]
        == "abc-123"
    )
    replaced = testapp.get("/healthz", headers={"X-Request-ID": "evil\tvalue " * 20})
    assert replaced.headers["X-Request-ID"] != "evil"
    assert len(replaced.headers["X-Request-ID"]) == 32


def test_every_response_carries_the_standard_headers(testapp):
    for response in (testapp.get("/healthz"), testapp.get("/nowhere", status=404)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Request-ID"]


def test_a_url_that_is_not_utf8_is_a_400_problem(testapp):
    assert_problem(testapp.get("/api/v1/%ff", status=400), 400)


@pytest.mark.parametrize(
    "content_type",
    [
        "Application/JSON",
        "application/json; charset=UTF-8",
        "application/json;charset=utf-8;v=1",
    ],
)
def test_media_types_and_parameters_are_case_insensitive(
    testapp, editor_token, content_type
):
    testapp.post(
        f"{PROBE}/departments",
        b'{"name": "Typed"}',
        headers={**bearer(editor_token), "Content-Type": content_type},
        status=201,
    )


@pytest.mark.parametrize(
    ("status", "title"),
    [(413, "Content Too Large"), (422, "Unprocessable Content")],
)
def test_titles_use_rfc_9110_wording(testapp, editor_token, status, title):
    body = {"name": "x" * 2_000_000} if status == 413 else {"name": ""}
    answer = testapp.post_json(
        f"{PROBE}/departments", body, headers=bearer(editor_token), status=status
    )
    assert answer.json["title"] == title


def test_every_attempt_of_a_retried_request_logs_the_same_request_id(
    testapp, editor_token, caplog
):
    with caplog.at_level(logging.WARNING, logger="company_service"):
        answer = testapp.post(f"{PROBE}/busy", headers=bearer(editor_token), status=503)
    logged = [r.getMessage() for r in caplog.records if "transient" in r.getMessage()]
    assert len(logged) == 3
    assert all(answer.headers["X-Request-ID"] in message for message in logged)


@pytest.mark.parametrize("raw", ["q=%ff", "%ff=1", "q=%ED%A0%80", "sort=%C0%AF"])
def test_a_query_string_that_is_not_utf8_is_a_400_problem(testapp, reader_token, raw):
    answer = testapp.get(
        f"/api/v1/employees?{raw}", headers=bearer(reader_token), status=400
    )
    assert "UTF-8" in assert_problem(answer, 400)["detail"]


def test_fresh_request_ids_are_distinct_and_each_header_is_sent_once(testapp):
    responses = [testapp.get("/healthz") for _ in range(3)]
    ids = [r.headers.getall("X-Request-ID") for r in responses]
    assert all(len(one) == 1 and len(one[0]) == 32 for one in ids)
    assert len({one[0] for one in ids}) == 3
    for response in responses:
        assert len(response.headers.getall("X-Content-Type-Options")) == 1
        assert len(response.headers.getall("Cache-Control")) == 1
