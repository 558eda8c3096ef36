"""What the graceful drain asks waitress: stop accepting; is anything unsent?

The runner hands ``create_server`` the socket map (its ``map`` argument)
and keeps it: waitress registers every listener and every open connection
there, so the drain reads the map it owns instead of the server's private
one. What it reads of the objects in it is public but undocumented (a
listener's ``accepting``, a connection's ``total_outbufs_len``, the task
dispatcher's ``active_count`` and ``queue``); a unit test fails if a waitress
upgrade changes any of it, and the lock file pins the version that passed.
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
    ``task_dispatcher``), or an answer is not yet sent.

    A worker thread counts as active from its start until it first waits
    for work, so a server that has only just started reads as busy for a
    moment; the drain polls this, so that only delays it."""
    unsent = any(
        isinstance(channel, HTTPChannel) and channel.total_outbufs_len
        for channel in list(sockets.values())
    )
    return bool(tasks.active_count or tasks.queue or unsent)
