"""The waitress internals the graceful drain relies on are still there.

If a waitress upgrade renames or removes any of them, this fails, rather
than a SIGTERM silently cutting requests off (company_service/waitress_drain.py).
"""

import socket
import threading
import time

import pytest
from waitress.server import BaseWSGIServer, create_server

from company_service.waitress_drain import _channels, busy, stop_accepting

LISTEN = ["127.0.0.1:0", "127.0.0.1:0 127.0.0.1:0"]  # one listener, then two


def slow_app(environ, start_response):
    time.sleep(0.3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.mark.parametrize("listen", LISTEN)
def test_the_drain_finds_the_listeners_and_stops_them_accepting(listen):
    server = create_server(slow_app, listen=listen)
    try:
        listeners = [c for c in _channels(server) if isinstance(c, BaseWSGIServer)]
        assert len(listeners) == len(listen.split())
        assert all(listener.accepting for listener in listeners)
        stop_accepting(server)
        assert not any(listener.accepting for listener in listeners)
    finally:
        server.close()


def wait_until_idle(server) -> None:
    deadline = time.monotonic() + 5
    while busy(server) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not busy(server)


def test_busy_while_a_request_runs_and_idle_after():
    server = create_server(slow_app, listen="127.0.0.1:0", threads=1)
    port = server.effective_port
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        # A worker thread counts as active until it first waits for work,
        # so a server that has just started looks busy for a moment.
        wait_until_idle(server)
        answers: list[bytes] = []

        def call() -> None:
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(
                    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                answers.append(client.recv(1024))

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 5
        while not busy(server) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert busy(server), "a running request was not seen"
        caller.join(5)
        wait_until_idle(server)
        assert answers and answers[0].startswith(b"HTTP/1.1 200")
    finally:
        server.close()
