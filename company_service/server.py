"""The server runner: waitress, draining gracefully on SIGTERM.

Plain waitress dies at once on SIGTERM (Python's default), cutting off the
requests it is serving. Here SIGTERM starts a drain in three steps:

1. for ``drain_seconds`` the process keeps accepting and serving, but
   ``/readyz`` answers 503 (the app reads :data:`DRAINING_KEY` from the
   environ), so a load balancer health-checking it takes it out of rotation
   before its listener closes; a request sent meanwhile is still served;
2. then it stops accepting new connections and lets the requests in flight
   finish and their answers reach the clients (for at most
   ``shutdown_grace_seconds``);
3. then it stops the loop. A request still running past that is cut off
   with the process; its transaction was never committed, so nothing of it
   remains.

``drain_seconds`` (default 0: no balancer, stop accepting at once) must
exceed the balancer's ``fall`` x ``inter`` (docs/scaling.md, "Load balancer
and rolling restarts"). A second SIGTERM stops at once.

The listeners' connections are served as HTTP/1.1 wants (``waitress_framing``):
kept open after streamed, 204 and 304 answers, and a HEAD gets no body bytes.

A port another program holds is one line on stderr and exit status 2,
not waitress's traceback.

Used from the ini files as ``[server:main] use = egg:company_service#waitress``.
"""

import _thread
import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from waitress.adjustments import Adjustments
from waitress.server import create_server

from .views.health import DRAINING_KEY
from .waitress_drain import busy, stop_accepting
from .waitress_framing import use_http11_framing

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def announcing(app: WSGIApp, draining: threading.Event) -> WSGIApp:
    """``app`` with the drain's Event in every request's environ: the app
    learns of the drain without a global, and a test can set it itself."""

    def with_drain_flag(
        environ: dict[str, Any], start_response: Any
    ) -> Iterable[bytes]:
        environ[DRAINING_KEY] = draining
        return app(environ, start_response)

    return with_drain_flag


def exit_port_in_use(global_conf: dict[str, Any], settings: dict[str, Any]) -> NoReturn:
    """Say which port is taken and how to pick another, then exit with 2.

    ``os._exit``: pserve catches SystemExit from a server runner and exits
    with 0; nothing has been served, so there is nothing to tidy up.
    """
    ports = sorted({address[-1][1] for address in Adjustments(**settings).listen})
    named = " and ".join(str(port) for port in ports)
    config = os.path.relpath(global_conf.get("__file__", "development.ini"))
    if str(global_conf.get("http_port")) in map(str, ports):
        make = "" if config == "development.ini" else f"CONFIG={config} "
        how = f"`pserve {config} http_port=...` (or `make run {make}PORT=...`)"
    else:
        how = f"the listen setting of [server:main] in {config}"
    print(
        f"pserve: port {named} is already in use; choose another with {how}",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(2)


def serve(app: Any, global_conf: dict[str, Any] | None = None, **settings: Any) -> int:
    grace = float(settings.pop("shutdown_grace_seconds", 10))
    drain = float(settings.pop("drain_seconds", 0))
    draining = threading.Event()
    sockets: dict[int, Any] = {}  # waitress's listeners and connections
    try:
        server = create_server(announcing(app, draining), map=sockets, **settings)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        exit_port_in_use(global_conf or {}, settings)
    use_http11_framing(sockets)

    def drain_then_stop() -> None:
        time.sleep(drain)  # serving on; /readyz says 503 meanwhile
        stop_accepting(sockets)
        deadline = time.monotonic() + grace
        while busy(sockets, server.task_dispatcher) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Back into on_sigterm, in the main thread. (interrupt_main() without
        # a signal fakes SIGINT, which does nothing where SIGINT is ignored,
        # as it is for a process started with "&" by a script.)
        _thread.interrupt_main(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        if draining.is_set():  # the drain is over, or a second SIGTERM: stop now
            raise KeyboardInterrupt  # waitress closes down on KeyboardInterrupt
        draining.set()
        threading.Thread(target=drain_then_stop, name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    server.print_listen("Serving on http://{}:{}")
    server.run()  # returns once waitress has shut its threads down
    return 0
