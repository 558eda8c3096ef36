"""haproxy in front of service processes: health checks on /readyz, retries
that never send a write twice, and a drain that loses no request.

:func:`haproxy` starts Debian's haproxy in front of given backends and stops
it again; :func:`render` writes its configuration, the one docs/haproxy.cfg
is made from (``python -m dev.clusters.balancer example``), so
operators and tests run the same one. Why each line is there:

- ``option httpchk`` + ``http-check send ... uri /readyz``: a process is in
  rotation only while its /readyz answers 200; it says 503 as soon as it
  drains after SIGTERM (``server.py``), ``fall`` checks later it is out.
  ``rise`` checks bring a restarted one back.
- ``retries`` / ``option redispatch``: haproxy retries a request whose
  connection could not be made (``conn-failure``: the request was never
  sent, so this is safe for every method, a POST included), each time on
  another process (``redispatch 1``: on every retry). Beyond that
  (``empty-response``, ``junk-response``: the process died with the
  request) only GET and HEAD are retried, since a
  POST, PATCH or DELETE may have committed before the answer was lost;
  their clients retry with an ``Idempotency-Key`` (POST) or ``If-Match``
  (PATCH, PUT, DELETE), which the service makes safe, and haproxy cannot.
- ``option http-server-close``: keep-alive with the clients, one connection
  per request to the processes. A draining process then has no idle
  connection from haproxy that it could close while haproxy reuses it (a
  lost request); the cost is a local TCP connect per request.
- ``option forwardfor``: production.ini trusts X-Forwarded-For from 127.0.0.1.
- ``http-error``: haproxy's own 502, 503 (no process ready) and 504 are
  problem+json, as every error of the service is.

Also a command: ``python -m dev.clusters.balancer up --dir D``
(D new or empty, marked as ours) serves N processes of an ini behind
haproxy until ``down --dir D``, which stops them and removes D, and leaves
alone a D that ``up`` did not mark.
"""

import argparse
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from company_service.testing import free_port, live_server
from dev.clusters import NotOurs, claim, claimed, identity, release

KIND = "balancer"
HEADER = """\
# haproxy in front of company_service processes. Made by
#   python -m dev.clusters.balancer example
# from the template the tests run (dev/clusters/balancer.py says
# why each line is there; docs/scaling.md, "Load balancer and rolling
# restarts", the drain it works with). Keep drain_seconds in production.ini
# above fall x inter.
"""

TEMPLATE = """\
global
    maxconn 2000
{global_lines}
defaults
    mode http
    timeout connect 2s
    timeout client 65s
    timeout server 65s
    timeout http-request 10s
    timeout queue 5s
    option http-server-close
    option forwardfor
    # A request whose connection failed was never sent: retried, each time
    # on another process. After an empty answer only GET and HEAD.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response
    # haproxy's own answers, problem+json like every other error.
{errors}

frontend api
    bind {bind}
    default_backend service

backend service
    balance leastconn
    http-request disable-l7-retry unless METH_GET
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter {inter}ms fall {fall} rise {rise}
{servers}
"""

FALL = 2
RISE = 2

# haproxy answers these itself: 503 when no process is in rotation, 502 when
# one failed to answer, 504 when it did not answer in time.
OWN_ANSWERS = {
    502: ("Bad Gateway", "a service process failed to answer"),
    503: ("Service Unavailable", "no service process is ready"),
    504: ("Gateway Timeout", "a service process did not answer in time"),
}


def http_errors() -> str:
    """``http-error`` lines with a problem+json body for each of OWN_ANSWERS."""
    lines = []
    for status, (title, detail) in OWN_ANSWERS.items():
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail},
            separators=(",", ":"),
        ).replace('"', '\\"')
        retry = " hdr Retry-After 1" if status == 503 else ""
        lines.append(
            f"    http-error status {status} content-type application/problem+json"
            f' string "{body}" hdr Cache-Control no-store{retry}'
        )
    return "\n".join(lines)


def render(
    backends: Sequence[tuple[str, int]],
    bind: str,
    check_interval_ms: int = 1000,
    stats_socket: str | None = None,
) -> str:
    """The configuration, servers named ``s1``, ``s2``, ... in order.

    ``METH_GET`` is haproxy's predefined ACL for GET and HEAD."""
    global_lines = (
        f"    stats socket {stats_socket} mode 600 level admin\n"
        if stats_socket
        else ""
    )
    servers = "\n".join(
        f"    server s{n} {host}:{port} check"
        for n, (host, port) in enumerate(backends, 1)
    )
    return TEMPLATE.format(
        global_lines=global_lines,
        errors=http_errors(),
        bind=bind,
        inter=check_interval_ms,
        fall=FALL,
        rise=RISE,
        servers=servers,
    )


def example() -> str:
    """docs/haproxy.cfg: two processes on 6543 and 6544, haproxy on :80."""
    return HEADER + render(
        [("127.0.0.1", 6543), ("127.0.0.1", 6544)],
        bind="*:80",
        stats_socket="/run/haproxy/company_service.sock",
    )


def ensure_haproxy() -> str:
    """The haproxy executable, installed from Debian's packages if missing
    (the CI runs as root). RuntimeError, saying what to do, if it cannot be."""
    found = shutil.which("haproxy")
    if found:
        return found
    apt_get = shutil.which("apt-get")
    if os.geteuid() == 0 and apt_get:
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        output = ""
        for arguments in (["update", "-qq"], ["install", "-y", "-qq", "haproxy"]):
            ran = subprocess.run(  # noqa: S603 (apt-get, fixed arguments)
                [apt_get, *arguments], env=environment, capture_output=True, text=True
            )
            output += ran.stdout + ran.stderr
        found = shutil.which("haproxy")
        if found:
            return found
        raise RuntimeError("apt-get install haproxy failed:\n" + output)
    raise RuntimeError("haproxy is not installed: apt-get install haproxy (as root)")


@dataclass
class Balancer:
    """A running haproxy: clients connect to ``host``:``port``."""

    host: str
    port: int
    stats_socket: Path
    process: "subprocess.Popen[bytes]"

    def command(self, line: str) -> str:
        """One command on haproxy's runtime API (``show stat``, ``disable
        server service/s1``)."""
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(5)
            connection.connect(str(self.stats_socket))
            connection.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> dict[str, dict[str, str]]:
        """``show stat`` of the backend, by server name (and ``BACKEND``):
        ``status`` (UP, DOWN, ...), ``wretr`` (retried connections),
        ``wredis`` (redispatched), ``hrsp_5xx``, ``stot`` (sessions)."""
        table = self.command("show stat").lstrip("# ")
        return {
            row["svname"]: row
            for row in csv.DictReader(io.StringIO(table))
            if row.get("pxname") == "service"
        }

    def states(self) -> dict[str, str]:
        return {
            name: row["status"]
            for name, row in self.stats().items()
            if name != "BACKEND"
        }

    def wait_for(self, server: str, state: str, timeout: float = 15) -> None:
        """Until ``server``'s check status starts with ``state`` (``UP``,
        ``DOWN``); RuntimeError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.states().get(server, "").startswith(state):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server} not {state}: {self.states()}")
            time.sleep(0.05)


@contextmanager
def haproxy(
    backends: list[tuple[str, int]],
    workdir: Path,
    check_interval_ms: int = 500,
    wait_for_backends: bool = True,
) -> Iterator[Balancer]:
    """haproxy on a free port in front of ``backends``, its configuration,
    socket and log in ``workdir``; yielded once every backend is UP (unless
    not ``wait_for_backends``), stopped afterwards whatever happened."""
    executable = ensure_haproxy()
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    stats_socket = workdir / "haproxy.sock"
    config = workdir / "haproxy.cfg"
    config.write_text(
        render(backends, f"127.0.0.1:{port}", check_interval_ms, str(stats_socket))
    )
    log = (workdir / "haproxy.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 (haproxy, our own configuration)
        [executable, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    balancer = Balancer("127.0.0.1", port, stats_socket, process)
    try:
        deadline = time.monotonic() + 15
        while not stats_socket.exists() or not accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "haproxy did not start: " + (workdir / "haproxy.log").read_text()
                )
            time.sleep(0.05)
        if wait_for_backends:
            for n in range(1, len(backends) + 1):
                balancer.wait_for(f"s{n}", "UP")
        yield balancer
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        stats_socket.unlink(missing_ok=True)


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# --- the command -------------------------------------------------------------


def up(directory: Path, ini: Path, processes: int) -> None:
    """Serve ``processes`` processes of ``ini`` on ``DATABASE_URL`` behind
    haproxy until SIGTERM (``down``) or Ctrl-C."""
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("set DATABASE_URL to the database the processes serve")
    directory = claim(directory, KIND)
    options = {}
    if os.environ.get("CURSOR_SECRET"):
        options["api.cursor_secret"] = os.environ["CURSOR_SECRET"]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ExitStack() as stack:
        servers = [
            stack.enter_context(live_server(ini, database_url, directory, options))
            for _ in range(processes)
        ]
        backends = [(s.host, s.port) for s in servers]
        balancer = stack.enter_context(haproxy(backends, directory / "haproxy"))
        (directory / "balancer.pid").write_text(f"{identity(os.getpid())}\n")
        print(f"http://127.0.0.1:{balancer.port} -> {backends}", flush=True)
        try:
            while balancer.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            (directory / "balancer.pid").unlink(missing_ok=True)


def down(directory: Path) -> bool:
    """Stop what ``up`` started in ``directory``, and remove the directory;
    only one ``up`` marked. The pid file holds the process's pid and start
    time: a pid alone may have been reused by another process since. Whether
    the directory was ours."""
    if not claimed(directory, KIND):
        return False
    try:
        recorded = (directory / "balancer.pid").read_text().strip()
    except OSError:
        recorded = ""
    pid = int(recorded.split()[0]) if recorded else 0
    if pid and identity(pid) == recorded:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60  # the processes drain first
        while identity(pid) == recorded and time.monotonic() < deadline:
            time.sleep(0.1)
    return release(directory, KIND)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m dev.clusters.balancer", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="serve N processes behind haproxy")
    start.add_argument("--dir", type=Path, required=True)
    start.add_argument("--ini", type=Path, default=Path("production.ini"))
    start.add_argument("--processes", type=int, default=2)
    stop = commands.add_parser("down", help="stop what up started")
    stop.add_argument("--dir", type=Path, required=True)
    commands.add_parser("example", help="print docs/haproxy.cfg")
    arguments = parser.parse_args(argv)
    if arguments.command == "up":
        try:
            up(arguments.dir, arguments.ini.resolve(), arguments.processes)
        except NotOurs as refused:
            raise SystemExit(str(refused)) from None
    elif arguments.command == "down":
        if not down(arguments.dir):
            raise SystemExit(f"{arguments.dir} is not one that up made: left alone")
    else:
        sys.stdout.write(example())


if __name__ == "__main__":
    main()
