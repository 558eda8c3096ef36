"""What the graceful drain asks waitress: stop accepting; is anything unsent?

It reads the socket map the runner gave ``create_server``, not the server's
private one (docs/DESIGN.md, "Reaching into waitress").
"""

from collections.abc import Mapping
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

SocketMap = Mapping[int, Any]


def stop_accepting(sockets: SocketMap) -> None:
    """Refuse new connections; the open ones go on being served."""
    for channel in list(sockets.values()):
        if isinstance(channel, BaseWSGIServer):
            channel.accepting = False


def busy(sockets: SocketMap, tasks: Any) -> bool:
    """A request is running or queued (``tasks``: the server's
    ``task_dispatcher``), or an answer is not yet sent."""
    unsent = any(
        isinstance(channel, HTTPChannel) and channel.total_outbufs_len
        for channel in list(sockets.values())
    )
    return bool(tasks.active_count or tasks.queue or unsent)
