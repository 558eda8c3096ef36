"""Keep-alive and HEAD as HTTP/1.1 wants them, which waitress 3 does not do.

waitress decides the connection's fate in ``Task.build_response_header``:
on HTTP/1.1, a response that carries no ``Content-Length`` closes the
connection, whatever frames it instead. That is every streamed answer (sent
chunked: the ``0\\r\\n\\r\\n`` terminator ends it, the connection could go on)
and every ``204`` and ``304`` (no body by their status; waitress even drops
a ``Content-Length`` the app gives them, so the app cannot avoid it). A
client then pays a new TCP connection after each. And a ``HEAD`` answered
without ``Content-Length`` (the CSV export's) is declared chunked and gets
the terminator after its headers in ``Task.finish``: five body bytes a
``HEAD`` response must not have, which a client keeping the connection reads
as the start of the next response (only the close above hides them). No
waitress setting changes any of this; the app's 204 and 304 already carry
no ``Content-Length`` or ``Content-Type``, and it cannot give a stream a
length without buffering it (nor a ``HEAD`` one without running the export).

So the runner (``server.py``) hands waitress a channel whose tasks:

- keep the connection open on HTTP/1.1 when the response is framed without a
  length (chunked, or a status without a body), unless the client asked to
  close; every other reason waitress has to close still closes (HTTP/1.0
  without a length, a short body, an error after the headers, which also
  leaves the chunked body unterminated so the client sees it cut off);
- never send body bytes for ``HEAD``: the headers are the ones the ``GET``
  would have (``Transfer-Encoding: chunked`` included, as RFC 9112 section
  6.1 allows), and nothing follows them, also when waitress answers an
  error itself.

Like ``waitress_drain``, it leans on waitress internals (the channel and
task classes, ``set_close_on_finish``, ``chunked_response``), all in this
one module; ``tests/transaction/test_keep_alive.py`` fails if a waitress
upgrade changes them, or fixes waitress so that this can go, and the lock
file pins the version that passed. Nothing is patched globally: only the
listeners in the socket map given to :func:`use_http11_framing` use them.
"""

from collections.abc import Mapping
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask, WSGITask


def _client_asked_to_close(task: Any) -> bool:
    tokens = task.request.headers.get("CONNECTION", "").lower().split(",")
    return "close" in (token.strip() for token in tokens)


def _head_body(task: Any, data: bytes) -> bytes:
    """Nothing for ``HEAD`` (RFC 9110 section 9.3.2), whatever was written."""
    return b"" if task.request.command == "HEAD" else data


class Http11Task(WSGITask):  # type: ignore[misc]  # waitress is untyped
    """waitress's WSGI task, keeping the connection after chunked, 204 and
    304 answers and writing no chunked terminator for ``HEAD``."""

    _deciding_framing = False

    def build_response_header(self) -> bytes:
        self._deciding_framing = True
        try:
            header: bytes = super().build_response_header()
        finally:
            self._deciding_framing = False
        if self.request.command == "HEAD":
            # The headers say chunked, as the GET's would; no body follows,
            # so no terminator either (finish() writes it when this is set).
            self.chunked_response = False
        return header

    def set_close_on_finish(self) -> None:
        """Refuse only the close waitress asks for while framing a response
        that needs no length on HTTP/1.1: on that version its one other
        reason is the client's ``Connection: close``, honoured here."""
        framed_without_length = self.chunked_response or not self.has_body
        if (
            self._deciding_framing
            and self.version == "1.1"
            and framed_without_length
            and not _client_asked_to_close(self)
        ):
            return
        super().set_close_on_finish()

    def write(self, data: bytes) -> None:
        super().write(_head_body(self, data))


class Http11ErrorTask(ErrorTask):  # type: ignore[misc]  # waitress is untyped
    """waitress's own error answers (400, 413, 431, its 500): they still
    close the connection, but a ``HEAD`` gets only their headers."""

    def write(self, data: bytes) -> None:
        super().write(_head_body(self, data))


class Http11Channel(HTTPChannel):  # type: ignore[misc]  # waitress is untyped
    task_class = Http11Task
    error_task_class = Http11ErrorTask


def use_http11_framing(sockets: Mapping[int, Any]) -> None:
    """Have every listener in ``sockets`` (the map given to ``create_server``,
    as in ``waitress_drain``) serve its connections with
    :class:`Http11Channel`; call it before ``run()``."""
    for listener in list(sockets.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = Http11Channel
