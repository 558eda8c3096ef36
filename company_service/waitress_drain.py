"""What the graceful drain needs from waitress that waitress does not publish.

waitress has no public way to stop accepting while the requests in flight
finish. Everything that reaches into its internals to do that is here, in
one small module; ``tests/unit/test_waitress_drain.py`` fails if a waitress
upgrade changes any of it (the lock file pins the version that passed).
"""

from collections.abc import Iterable
from typing import Any

from waitress.server import BaseWSGIServer


def _channels(server: Any) -> Iterable[Any]:
    """Every socket waitress serves: listeners and open connections. One
    listener keeps them in ``map``; several (a MultiSocketServer) in ``_map``."""
    sockets = getattr(server, "map", None) or server._map
    return list(sockets.values())


def stop_accepting(server: Any) -> None:
    """Refuse new connections; the open ones go on being served."""
    for channel in _channels(server):
        if isinstance(channel, BaseWSGIServer):
            channel.accepting = False


def busy(server: Any) -> bool:
    """A request is running or queued, or an answer is not yet sent.

    A worker thread counts as active from its start until it first waits
    for work, so a server that has only just started reads as busy for a
    moment; the drain polls this, so that only delays it."""
    tasks = server.task_dispatcher
    unsent = any(getattr(c, "total_outbufs_len", 0) for c in _channels(server))
    return bool(tasks.active_count or tasks.queue or unsent)
