"""The server runner: waitress, stopping gracefully on SIGTERM.

Plain waitress dies at once on SIGTERM (Python's default), cutting off the
requests it is serving. Here SIGTERM stops new connections from being
accepted, lets the requests in flight finish and their answers reach the
clients (for at most ``shutdown_grace_seconds``), and only then stops the
loop. A request still running past that is cut off with the process; its
transaction was never committed, so nothing of it remains.

The listeners' connections are served as HTTP/1.1 wants (``waitress_framing``):
kept open after streamed, 204 and 304 answers, and a HEAD gets no body bytes.

Used from the ini files as ``[server:main] use = egg:company_service#waitress``.
"""

import _thread
import signal
import threading
import time
from typing import Any

from waitress.server import create_server

from .waitress_drain import busy, stop_accepting
from .waitress_framing import use_http11_framing


def serve(app: Any, global_conf: dict[str, Any] | None = None, **settings: Any) -> int:
    grace = float(settings.pop("shutdown_grace_seconds", 10))
    server = create_server(app, **settings)
    use_http11_framing(server)
    stopping = threading.Event()

    def drain_then_stop() -> None:
        deadline = time.monotonic() + grace
        while busy(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Back into on_sigterm, in the main thread. (interrupt_main() without
        # a signal fakes SIGINT, which does nothing where SIGINT is ignored,
        # as it is for a process started with "&" by a script.)
        _thread.interrupt_main(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        if stopping.is_set():  # the drain is over, or a second SIGTERM: stop now
            raise KeyboardInterrupt  # waitress closes down on KeyboardInterrupt
        stopping.set()
        stop_accepting(server)
        threading.Thread(target=drain_then_stop, name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    server.print_listen("Serving on http://{}:{}")
    server.run()  # returns once waitress has shut its threads down
    return 0
