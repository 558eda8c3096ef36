"""The server runner (``egg:company_service#waitress``): waitress, draining on SIGTERM.

SIGTERM makes ``/readyz`` answer 503 for ``drain_seconds``, then stops
accepting and lets the requests in flight finish for at most
``shutdown_grace_seconds``; a second SIGTERM stops at once. See
docs/scaling.md, "Load balancer and rolling restarts".
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
    """``app`` with the drain's Event in every request's environ."""

    def with_drain_flag(
        environ: dict[str, Any], start_response: Any
    ) -> Iterable[bytes]:
        environ[DRAINING_KEY] = draining
        return app(environ, start_response)

    return with_drain_flag


def exit_port_in_use(global_conf: dict[str, Any], settings: dict[str, Any]) -> NoReturn:
    """Say which port is taken and how to pick another, then exit with 2
    (``os._exit``: pserve turns a SystemExit into status 0)."""
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
        # Back into on_sigterm: a faked SIGINT is ignored under "&".
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
