"""How the CSV export streams: one chunk per batch, a server-side cursor on a
connection of its own, and that connection always back in the pool.

The WSGI app is called by hand so the test holds the body's iterator, as
the server does, and can stop half-way as a client that goes away does.
"""

import math
from collections.abc import Iterator

import pytest
from pyramid.router import Router
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool
from webob import Request

from company_service.db import dispose_engines
from company_service.testing import bearer, make_app
from tests.support.company import CSV
from tests.support.factories import EmployeeFactory, committed_rows

BATCH = 3


@pytest.fixture
def small_batches(app_settings, clean_database) -> Iterator[Router]:
    app = make_app(app_settings, **{"api.csv_batch_size": str(BATCH)})
    yield app
    dispose_engines(app.registry)


def pool(app: Router) -> Pool:
    """The export's own pool (no statement time limit; see db.includeme)."""
    return app.registry["db.export_engine"].pool


def add_employees(engine: Engine, count: int) -> None:
    with committed_rows(engine):
        EmployeeFactory.create_batch(count)


def call(app: Router, token: str, method: str = "GET"):
    """Run the app as a WSGI server does; return (status, its body iterator)."""
    request = Request.blank(CSV, method=method, headers=bearer(token))
    started = []
    body = app(request.environ, lambda status, headers, *_: started.append(status))
    return started[0], body


@pytest.mark.parametrize("rows", [0, 1, 3, 7])
def test_the_body_is_the_header_then_one_chunk_per_batch(
    small_batches, clean_database, committed_editor_token, rows
):
    add_employees(clean_database, rows)
    status, body = call(small_batches, committed_editor_token)
    chunks = list(body)
    body.close()
    assert status == "200 OK"
    assert len(chunks) == 1 + math.ceil(rows / BATCH)
    assert chunks[0].startswith(b"id,first_name,") and chunks[0].count(b"\n") == 1
    sizes = [chunk.count(b"\n") for chunk in chunks[1:]]
    assert sizes == [min(BATCH, rows - i) for i in range(0, rows, BATCH)]


def test_the_rows_are_read_through_a_streaming_cursor(
    small_batches, clean_database, committed_editor_token
):
    add_employees(clean_database, 4)
    seen = []

    def record(connection, cursor, statement, *_):
        if "FROM employees" in statement:
            seen.append((connection.get_execution_options(), type(cursor).__name__))

    engine = small_batches.registry["db.export_engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        status, body = call(small_batches, committed_editor_token)
        list(body)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert status == "200 OK"
    [(options, cursor)] = seen
    assert options["stream_results"] is True
    assert options["yield_per"] == BATCH
    server_side = {"postgresql": "ServerCursor", "mysql": "SSCursor"}
    if engine.dialect.name in server_side:
        assert cursor == server_side[engine.dialect.name]


def test_the_request_transaction_is_over_before_the_body_is_read(
    small_batches, clean_database, committed_editor_token
):
    add_employees(clean_database, 7)
    before = pool(small_batches).checkedout()
    _, body = call(small_batches, committed_editor_token)
    # The view's session has gone back to the pool; nothing is read yet.
    assert pool(small_batches).checkedout() == before
    assert next(body).startswith(b"id,")
    assert pool(small_batches).checkedout() == before + 1
    list(body)
    assert pool(small_batches).checkedout() == before


def test_a_client_leaving_half_way_returns_the_connection(
    small_batches, clean_database, committed_editor_token
):
    add_employees(clean_database, 10)
    before = pool(small_batches).checkedout()
    _, body = call(small_batches, committed_editor_token)
    next(body)  # the header
    assert next(body).count(b"\n") == BATCH
    assert pool(small_batches).checkedout() == before + 1
    body.close()  # what the WSGI server does when the client disconnects
    assert pool(small_batches).checkedout() == before


def test_head_opens_no_connection_for_the_rows(
    small_batches, clean_database, committed_editor_token
):
    add_employees(clean_database, 4)
    before = pool(small_batches).checkedout()
    status, body = call(small_batches, committed_editor_token, method="HEAD")
    assert status == "200 OK"
    assert list(body) == []
    body.close()
    assert pool(small_batches).checkedout() == before
