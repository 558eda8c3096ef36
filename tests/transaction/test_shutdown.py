"""SIGTERM: requests in flight finish; one that outlasts the grace leaves nothing."""

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
        {"shutdown_grace_seconds": "0.5"},
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
                    ROOT / "production.ini", database_url, tmp_path, {}, {}, process
                )
            )
        finally:
            signal.signal(signal.SIGINT, previous)
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(timeout=15) == 0
