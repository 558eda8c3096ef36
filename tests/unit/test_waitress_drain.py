"""What the graceful drain reads of waitress is still there and still means
what it did: if a waitress upgrade renames or changes any of it, this fails,
rather than a SIGTERM silently cutting requests off."""

import socket
import threading
import time
from collections.abc import Callable

import pytest
from waitress.server import BaseWSGIServer, create_server

from company_service.waitress_drain import busy, stop_accepting

LISTEN = ["127.0.0.1:0", "127.0.0.1:0 127.0.0.1:0"]  # one listener, then two
LARGE = 16 * 1024 * 1024  # far more than the sockets' buffers hold


def slow_app(environ, start_response):
    time.sleep(0.3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.mark.parametrize("listen", LISTEN)
def test_the_listeners_are_in_the_map_given_and_stop_accepting(listen):
    sockets: dict = {}
    server = create_server(slow_app, map=sockets, listen=listen)
    try:
        listeners = [c for c in sockets.values() if isinstance(c, BaseWSGIServer)]
        assert len(listeners) == len(listen.split())
        # The loop accepts on a listener only while it is readable.
        assert all(listener.readable() for listener in listeners)
        stop_accepting(sockets)
        assert not any(listener.accepting for listener in listeners)
        assert not any(listener.readable() for listener in listeners)
    finally:
        server.close()


def served(app, **adjustments):
    """A running server on a map of our own: (server, sockets, port)."""
    sockets: dict = {}
    server = create_server(
        app, map=sockets, listen="127.0.0.1:0", threads=1, **adjustments
    )
    threading.Thread(target=server.run, daemon=True).start()
    return server, sockets, int(server.effective_port)


def until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_busy_while_a_request_runs_and_idle_after():
    server, sockets, port = served(slow_app)
    try:
        # A worker thread counts as active until it first waits for work,
        # so a server that has just started looks busy for a moment.
        assert until(lambda: not busy(sockets, server.task_dispatcher))
        answers: list[bytes] = []

        def call() -> None:
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(
                    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                answers.append(client.recv(1024))

        caller = threading.Thread(target=call)
        caller.start()
        assert until(lambda: busy(sockets, server.task_dispatcher)), "not seen"
        caller.join(5)
        assert until(lambda: not busy(sockets, server.task_dispatcher))
        assert answers and answers[0].startswith(b"HTTP/1.1 200")
    finally:
        server.close()


def test_busy_while_an_answer_is_unsent_after_its_request_ran():
    """The request is done, its answer still in waitress's buffers: a client
    reading slowly must still get all of it."""
    called = threading.Event()

    def large_app(environ, start_response):
        called.set()
        start_response("200 OK", [("Content-Length", str(LARGE))])
        return [b"x" * LARGE]

    # A high watermark above the answer: the task hands it all over and ends.
    server, sockets, port = served(large_app, outbuf_high_watermark=4 * LARGE)
    tasks = server.task_dispatcher
    try:
        assert until(lambda: not busy(sockets, tasks))
        with socket.socket() as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.connect(("127.0.0.1", port))
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert called.wait(5)
            assert until(lambda: not tasks.active_count and not tasks.queue)
            assert busy(sockets, tasks), "an unsent answer was not seen"
            received = 0
            while chunk := client.recv(1 << 20):
                received += len(chunk)
        assert received > LARGE
        assert until(lambda: not busy(sockets, tasks))
    finally:
        server.close()
