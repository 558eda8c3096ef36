"""Keep-alive and HEAD as HTTP/1.1 wants them, which waitress 3 does not do.

Connections stay open after chunked, 204 and 304 answers, and a ``HEAD``
gets no body bytes. Only the listeners given to :func:`use_http11_framing`
use these classes; why: docs/DESIGN.md, "Reaching into waitress".
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
    _deciding_framing = False

    def build_response_header(self) -> bytes:
        self._deciding_framing = True
        try:
            header: bytes = super().build_response_header()
        finally:
            self._deciding_framing = False
        if self.request.command == "HEAD":
            # Chunked, as the GET's headers say, but no terminator.
            self.chunked_response = False
        return header

    def set_close_on_finish(self) -> None:
        """Refuse only the close waitress asks for while framing a response
        that needs no length on HTTP/1.1, unless the client asked for it."""
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
    """Serve the connections of every listener in ``sockets`` (the map given
    to ``create_server``) with :class:`Http11Channel`; call before ``run()``."""
    for listener in list(sockets.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = Http11Channel
