"""SIGTERM: first a drain (serving on, /readyz says 503), then requests in
flight finish; one that outlasts the grace leaves nothing."""

import http.client
import signal
import threading
import time
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from company_service.models import Department
from company_service.testing import (
    ROOT,
    LiveServer,
    Process,
    bearer,
    committed,
    live_server,
    store_token,
)

PROBES = {"pyramid.includes": "tests.support.probes"}


def names(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(Department.name)))


def slow_write(server: LiveServer, token: str, marker: str, seconds: float, into: list):
    def send() -> None:
        try:
            into.append(
                server.request(
                    "POST",
                    "/api/v1/_probe/slow-write",
                    headers={
                        **bearer(token),
                        "X-Probe-Marker": marker,
                        "X-Probe-Seconds": str(seconds),
                    },
                )
            )
        except (OSError, http.client.HTTPException) as error:  # cut off
            into.append(error)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@pytest.fixture
def token(clean_database) -> str:
    with committed(clean_database) as connection:
        return store_token(connection, "editor")


def test_a_request_in_flight_finishes_and_its_answer_arrives(
    database_url, clean_database, token, tmp_path
):
    process = Process()
    answers: list = []
    with live_server(
        ROOT / "production.ini", database_url, tmp_path, PROBES, {}, process
    ) as server:
        thread = slow_write(server, token, "graceful", 1.5, answers)
        time.sleep(0.5)  # the request is now sleeping between its two writes
        process.popen.send_signal(signal.SIGTERM)
        thread.join(timeout=15)
        assert process.popen.wait(timeout=15) == 0
    assert [a.status for a in answers] == [201]
    assert names(clean_database) == {"graceful-before", "graceful-after"}


def test_a_request_that_outlasts_the_grace_leaves_nothing_behind(
    database_url, clean_database, token, tmp_path
):
    process = Process()
    answers: list = []
    with live_server(
        ROOT / "production.ini",
        database_url,
        tmp_path,
        PROBES,
        {"shutdown_grace_seconds": "0.5", "drain_seconds": "0"},
        process,
    ) as server:
        thread = slow_write(server, token, "cut-off", 30, answers)
        time.sleep(0.5)
        started = time.monotonic()
        process.popen.send_signal(signal.SIGTERM)
        process.popen.wait(timeout=20)
        stopped_after = time.monotonic() - started
        thread.join(timeout=5)
    assert stopped_after < 8, "grace, then waitress's own 5 s for its threads"
    assert len(answers) == 1 and isinstance(answers[0], Exception), "no answer"
    assert names(clean_database) == set(), "the first write was never committed"


def test_sigterm_stops_a_server_started_with_sigint_ignored(
    database_url, clean_database, tmp_path
):
    """A shell script's "pserve production.ini &" starts it with SIGINT
    ignored; SIGTERM must still stop it (it once waited forever)."""
    process = Process()
    with ExitStack() as stack:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited
        try:
            stack.enter_context(
                live_server(
                    ROOT / "production.ini",
                    database_url,
                    tmp_path,
                    {},
                    {"drain_seconds": "0"},
                    process,
                )
            )
        finally:
            signal.signal(signal.SIGINT, previous)
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(timeout=15) == 0


def test_while_draining_readyz_says_503_and_every_other_request_is_served(
    database_url, clean_database, token, tmp_path
):
    """production.ini's drain: the balancer's check fails at once, while the
    requests it still sends (until its checks took the process out) are
    served and committed."""
    process = Process()
    with live_server(
        ROOT / "production.ini",
        database_url,
        tmp_path,
        {},
        {"drain_seconds": "3"},
        process,
    ) as server:
        assert server.request("GET", "/readyz").status == 200
        process.popen.send_signal(signal.SIGTERM)
        ready = server.request("GET", "/readyz")
        created = server.request(
            "POST", "/api/v1/departments", {"name": "while-draining"}, bearer(token)
        )
        alive = server.request("GET", "/healthz")
        assert process.popen.wait(timeout=20) == 0
    assert ready.status == 503
    assert ready.headers["Content-Type"] == "application/problem+json"
    assert ready.headers["Retry-After"]
    assert ready.json["detail"] == "this process is shutting down"
    assert (created.status, alive.status) == (201, 200)
    assert names(clean_database) == {"while-draining"}


def test_without_a_drain_readyz_answers_as_before(real_app, clean_database):
    """The app alone (no server.py around it, as under webtest) never drains."""
    assert real_app.get("/readyz").json == {"status": "ok", "database": "ok"}
