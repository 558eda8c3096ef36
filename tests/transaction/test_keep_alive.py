"""Keep-alive and HEAD over a real socket (issue 13, "HTTP to the letter").

waitress 3 closes an HTTP/1.1 connection after every answer without a
Content-Length (the streamed CSV, every 204 and 304), and sends the chunked
terminator after the headers of a HEAD without one.
``company_service/waitress_framing.py``, installed by the runner, fixes it.

The client here is a raw socket that reads each answer exactly as its framing
says (RFC 9112 section 6.3): Content-Length, chunked, or nothing for HEAD,
204 and 304. It never reconnects, so a closed connection fails the test, and
a stray byte after a HEAD is seen, not swallowed by a read-ahead buffer as an
``http.client`` response's may be.

The first test goes through pserve, the runner and the app; the rest drive
``create_server`` with tiny WSGI apps, and fail if a waitress upgrade changes
what the framing module relies on.
"""

import http.client
import io
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from company_service.testing import bearer, committed, store_token
from company_service.waitress_framing import Http11Channel, use_http11_framing

QUIET_SECONDS = 0.3  # how long "nothing more arrives" is waited for


class ServerClosed(AssertionError):
    """The server closed the connection where the test expected more."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def closes(self) -> bool:
        return "close" in self.headers.get("Connection", "").lower()


class RawClient:
    """One TCP connection, requests written and answers read by hand."""

    def __init__(self, host: str, port: int) -> None:
        self.host = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buffer = b""
        self.sent: list[str] = []  # the request lines, for failure messages

    def close(self) -> None:
        self.sock.close()

    def _closed(self) -> ServerClosed:
        return ServerClosed(f"closed after {self.sent}; unread: {self.buffer!r}")

    def _fill(self) -> None:
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise self._closed()
        self.buffer += data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def read_through(self, end: bytes) -> bytes:
        while end not in self.buffer:
            self._fill()
        taken, self.buffer = self.buffer.split(end, 1)
        return taken + end

    def _chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self.read_through(b"\r\n").split(b";")[0], 16)
            if size == 0:
                while self.read_through(b"\r\n") != b"\r\n":  # trailers
                    pass
                return body
            body += self._take(size)
            assert self._take(2) == b"\r\n"

    def read_until_closed(self) -> bytes:
        try:
            while True:
                self._fill()
        except ServerClosed:
            body, self.buffer = self.buffer, b""
            return body

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        version: str = "HTTP/1.1",
    ) -> None:
        lines = [f"{method} {path} {version}", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sent.append(lines[0])
        try:
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        except (BrokenPipeError, ConnectionResetError):
            raise self._closed() from None

    def reply(self, method: str) -> Reply:
        """The next answer, its body read by RFC 9112 section 6.3's rules."""
        head = self.read_through(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split()[1])
        headers = http.client.parse_headers(io.BytesIO(header_block))
        if method == "HEAD" or status in (204, 304) or status < 200:
            body = b""
        elif "chunked" in headers.get("Transfer-Encoding", ""):
            body = self._chunked()
        elif "Content-Length" in headers:
            body = self._take(int(headers["Content-Length"]))
        else:
            body = self.read_until_closed()
        return Reply(status, headers, body)

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> Reply:
        self.send(method, path, headers)
        return self.reply(method)

    def unasked(self) -> bytes:
        """What arrives with no request outstanding (b"" when all is well);
        ServerClosed if the server closes instead."""
        self.sock.settimeout(QUIET_SECONDS)
        try:
            self._fill()
        except TimeoutError:
            pass
        finally:
            self.sock.settimeout(10)
        stray, self.buffer = self.buffer, b""
        return stray

    def closed_by_server(self) -> bool:
        try:
            self.unasked()
        except ServerClosed:
            return True
        return False


@contextmanager
def raw_client(host: str, port: int) -> Iterator[RawClient]:
    client = RawClient(host, port)
    try:
        yield client
    finally:
        client.close()


# --- the service, through pserve and the runner --------------------------------


def test_one_connection_carries_every_kind_of_answer(server, clean_database):
    with committed(clean_database) as connection:
        auth = bearer(store_token(connection, "editor"))
    kept, gone = (
        server.request("POST", "/api/v1/departments", {"name": name}, auth).json
        for name in ("Kept", "Gone")
    )
    kept_path = f"/api/v1/departments/{kept['id']}"
    with raw_client(server.host, server.port) as client:
        item = client.request("GET", kept_path, auth)
        deleted = client.request("DELETE", f"/api/v1/departments/{gone['id']}", auth)
        unchanged = client.request(
            "GET", kept_path, {**auth, "If-None-Match": item.headers["ETag"]}
        )
        export = client.request("GET", "/api/v1/employees.csv", auth)
        head = client.request("HEAD", "/api/v1/employees.csv", auth)
        after_head = client.unasked()
        health = client.request("GET", "/healthz")
        still_open = not client.closed_by_server()

    assert [r.status for r in (item, deleted, unchanged, export, head, health)] == [
        200,
        204,
        304,
        200,
        200,
        200,
    ]
    assert not any(
        r.closes for r in (item, deleted, unchanged, export, head, health)
    ), "an answer announced Connection: close"
    assert still_open
    assert export.headers["Transfer-Encoding"] == "chunked"  # streamed, not buffered
    assert export.body.startswith(b"id,first_name,")
    assert after_head == b"", "HEAD sent body bytes (the chunked terminator?)"
    # The HEAD's headers are the GET's, framing included (RFC 9112 section 6.1).
    for name in ("Content-Type", "Content-Disposition", "Transfer-Encoding"):
        assert head.headers[name] == export.headers[name]
    assert "Content-Length" not in deleted.headers
    assert "Content-Type" not in deleted.headers
    assert "Content-Length" not in unchanged.headers
    assert unchanged.headers["ETag"] == item.headers["ETag"]
    assert health.json == {"status": "ok"}


# --- waitress with the framing module, and without it --------------------------

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def wsgi_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """/stream: three chunks, no length (none for HEAD, as WebOb does);
    /fail: one chunk, then an error; /204, /304; else 5 bytes with their
    length, HEAD or not (so waitress must drop them)."""
    path = environ["PATH_INFO"]
    if path in ("/204", "/304"):
        start_response(f"{path[1:]} Whatever", [])
        return []
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ["REQUEST_METHOD"] == "HEAD":
            return []
        return (part for part in (b"one,", b"two,", b"three"))
    if path == "/fail":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return failing_stream()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def failing_stream() -> Iterator[bytes]:
    yield b"first,"
    raise RuntimeError("the database went away mid-export")


@contextmanager
def waitress(framing: bool = True) -> Iterator[Any]:
    sockets: dict = {}
    server = create_server(wsgi_app, map=sockets, listen="127.0.0.1:0", threads=1)
    if framing:
        use_http11_framing(sockets)
    stopping = threading.Event()

    def loop() -> None:
        """server.run() in short turns: it stops before the sockets close
        (closing them under a running select() fails in the loop's thread)."""
        while not stopping.is_set():
            wasyncore.loop(timeout=0.05, map=sockets, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stopping.set()
        thread.join(5)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(sockets)


@contextmanager
def connected(framing: bool = True) -> Iterator[RawClient]:
    """A connection to :func:`waitress`, with or without the framing module."""
    with (
        waitress(framing) as server,
        raw_client("127.0.0.1", server.effective_port) as client,
    ):
        yield client


@pytest.mark.parametrize("path", ["/stream", "/204", "/304"])
def test_plain_waitress_closes_after_an_answer_without_a_length(path):
    """The cause. If this fails, waitress keeps these connections by itself
    and company_service/waitress_framing.py's keep-alive part can go."""
    with connected(framing=False) as client:
        assert client.request("GET", path).closes
        assert client.closed_by_server()


def test_plain_waitress_sends_the_chunked_terminator_after_a_head():
    """The other cause; if this fails, the HEAD part can go."""
    with connected(framing=False) as client:
        client.request("HEAD", "/stream")
        assert client.read_until_closed() == b"0\r\n\r\n"


def test_one_connection_carries_streams_204_304_and_heads():
    with connected() as c:
        streamed = c.request("GET", "/stream")
        assert (streamed.status, streamed.body) == (200, b"one,two,three")
        assert streamed.headers["Transfer-Encoding"] == "chunked"
        assert c.request("GET", "/204").status == 204
        assert c.request("GET", "/304").status == 304
        for path in ("/stream", "/plain"):  # no length, then a length
            head = c.request("HEAD", path)
            assert head.status == 200
            assert c.unasked() == b""
        assert c.request("GET", "/plain").body == b"hello"
        assert not c.closed_by_server()


@pytest.mark.parametrize("path", ["/stream", "/204"])
def test_a_client_asking_to_close_gets_it(path):
    with connected() as c:
        c.send("GET", path, {"Connection": "keep-alive, close"})
        assert c.reply("GET").closes
        assert c.closed_by_server()


@pytest.mark.parametrize("connection", [{}, {"Connection": "keep-alive"}])
def test_http_1_0_without_a_length_still_ends_by_closing(connection):
    """HTTP/1.0 has no chunked encoding: closing is the body's only end."""
    with connected() as c:
        c.send("GET", "/stream", connection, version="HTTP/1.0")
        answer = c.reply("GET")
        assert answer.body == b"one,two,three"
        assert "Transfer-Encoding" not in answer.headers


def test_a_stream_that_fails_midway_is_cut_off_unterminated():
    """The client must see the answer is incomplete: no terminator, closed."""
    with connected() as c:
        c.send("GET", "/fail")
        head = c.read_through(b"\r\n\r\n")
        assert b"Transfer-Encoding: chunked" in head
        assert b"0\r\n\r\n" not in c.read_until_closed()


def test_waitress_own_error_answer_to_a_head_has_no_body():
    with connected() as c:
        c.send("HEAD", "/plain", {"Content-Length": "abc"})
        answer = c.reply("HEAD")
        assert (answer.status, answer.closes) == (400, True)
        assert c.read_until_closed() == b""


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "127.0.0.1:0 127.0.0.1:0"])
def test_every_listener_gets_the_channel(listen):
    sockets: dict = {}
    server = create_server(wsgi_app, map=sockets, listen=listen, threads=1)
    try:
        use_http11_framing(sockets)
        listeners = [s for s in sockets.values() if isinstance(s, BaseWSGIServer)]
        assert len(listeners) == len(listen.split())
        assert all(s.channel_class is Http11Channel for s in listeners)
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(sockets)
