"""make bench: is performance held? Two servers measured side by side, in one run.

The reference is either another commit's service (``--base COMMIT``: the
question "did this change make it slower?") or, by default, the bare-Core
baseline (bench/baseline.py: "what does the request-bound session cost?").
Measuring both in the same run, on the same database, machine and minute,
is what makes their ratio mean something: separate runs drift by more than
the differences sought.

For each database (SQLite, PostgreSQL) and size: seed it once with this
tree's migrations (a base commit runs on the newer schema), start this tree's
service from production.ini and the reference, check that they answer alike,
then drive each endpoint with wrk: a warm-up each, then ``--rounds`` rounds
in which the two take turns (the order flips every round, so neither always
runs on a warmer database), and the median requests/s of each. At the
largest size the CSV export of every row and 1,000-item bulk creates are
measured the same way, first, on the fresh servers (for the export's peak
memory growth); the baseline has neither.

    .venv/bin/python bench/run.py [--base COMMIT] [--databases sqlite,postgresql]
        [--sizes 10000,100000] [--seconds 5] [--rounds 3] [--connections 8]

``--base`` serves COMMIT from a ``git worktree`` in a temporary directory
(removed afterwards) with this venv, the worktree first on the server's
PYTHONPATH. Sizes default to 10k and 100k with ``--base`` (about 2 minutes per
database and size) and add 1M without (1M takes long). Prints a Markdown
table per database, also written to test-artifacts/bench.md; a ratio below
0.90 is flagged.
"""

import argparse
import http.client
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for bench.*, run as a script

from bench.load import run_wrk  # noqa: E402
from bench.seed import drop_database, fresh_database, seed  # noqa: E402
from company_service.testing import (  # noqa: E402
    LiveServer,
    Process,
    live_server,
    rebuild_schema,
)

PRODUCTION_INI = ROOT / "production.ini"
BASELINE_APP = """\
[app:main]
use = call:bench.baseline:main
sqlalchemy.url = sqlite://
sqlalchemy.pool_size = 10
sqlalchemy.max_overflow = 5

"""
CURSOR_SECRET = "bench-cursor-secret"  # noqa: S105 (a throw-away benchmark server)
DATABASES = {
    "sqlite": "sqlite:///{workdir}/bench.db",
    "postgresql": os.environ.get(
        "BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1/company_bench"
    ),
}
ENDPOINTS = {
    "GET one": "get",
    "first page": "page",
    "deep page": "page",
    "POST": "post",
}
EMPLOYEE = {
    "first_name": "Bulk", "last_name": "Employee", "title": "Engineer",
    "hire_date": "2024-03-01", "salary": "5123.45", "department_id": 1,
}  # fmt: skip
FLAG_BELOW = 0.90
WHICH_PACKAGE = "import company_service; print(company_service.__file__)"


@dataclass(frozen=True)
class Side:
    """One of the two servers compared, and how to reach each endpoint on it."""

    name: str
    ini: Path
    paths: dict[str, str]  # endpoint -> path (for "GET one", a prefix of the id)
    pythonpath: tuple[str, ...] = ()  # a base commit's worktree goes first
    is_service: bool = True  # the baseline has no export, bulk or authentication


@dataclass(frozen=True)
class Running:
    side: Side
    server: LiveServer
    pid: int
    reference: bool


@dataclass
class Row:
    """One measure at one size: each side's rounds, in requests (rows) per second."""

    database: str
    size: int
    measure: str
    reference: list[float] = field(default_factory=list)
    current: list[float] = field(default_factory=list)
    failed: int = 0  # the baseline's non-2xx answers, reported, not hidden

    @property
    def ratio(self) -> float | None:
        if not self.reference or not self.current:
            return None
        return statistics.median(self.current) / statistics.median(self.reference)


# Run with a side's tree first on the path: each commit signs cursors its own
# way, and its sort fields may live elsewhere.
CURSOR_SCRIPT = """
import sys
from company_service.cursors import CursorCodec
from company_service.paging import parse_sort
try:
    from company_service.schemas.query import EMPLOYEE_SORTS as FIELDS
except ImportError:
    from company_service.services.employees import SORT_FIELDS as FIELDS
codec = CursorCodec(sys.argv[1].encode())
print(codec.encode("employees", parse_sort(None, FIELDS), [int(sys.argv[2])]))
"""


def service_paths(size: int, pythonpath: tuple[str, ...] = ()) -> dict[str, str]:
    """The deep page is 90% of the way in, by the served tree's own cursor."""
    cursor = subprocess.run(
        [sys.executable, "-P", "-c", CURSOR_SCRIPT, CURSOR_SECRET, str(size * 9 // 10)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join((*pythonpath, str(ROOT)))},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "GET one": "/api/v1/employees/",
        "first page": "/api/v1/employees?limit=50",
        "deep page": f"/api/v1/employees?limit=50&cursor={cursor}",
        "POST": "/api/v1/employees",
    }


def baseline_paths(size: int, pythonpath: tuple[str, ...] = ()) -> dict[str, str]:
    """The baseline's cursor is the last id, unsigned."""
    paths = service_paths(size)
    paths["deep page"] = f"/api/v1/employees?limit=50&cursor={size * 9 // 10}"
    return paths


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """``commit`` in a temporary worktree, checked to be what a server with
    it first on PYTHONPATH imports (not the editable install's /work tree)."""
    with tempfile.TemporaryDirectory(prefix="bench-base-") as tmp:
        tree = Path(tmp) / "tree"
        git("worktree", "add", "--quiet", "--detach", str(tree), commit)
        try:
            # As live_server builds it; run from tmp, as "-c" puts the
            # working directory first, where pserve puts its own bin/.
            search_path = os.pathsep.join([str(tree), *(e for e in sys.path if e)])
            imported = subprocess.run(
                [sys.executable, "-c", WHICH_PACKAGE],
                env={**os.environ, "PYTHONPATH": search_path}, cwd=tmp,
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            if not Path(imported).is_relative_to(tree):
                raise SystemExit(f"{commit}'s worktree would import {imported}")
            yield tree
        finally:
            git("worktree", "remove", "--force", str(tree))


def check_alike(
    servers: list[Running], headers: dict[str, str], where: str
) -> list[str]:
    """Both must answer 200 with the same rows, or the ratio compares
    different work: a different status ends the run, a different body is
    noted in the report (a refactoring may change a representation)."""
    notes = []
    for endpoint in ("GET one", "first page", "deep page"):
        answers = []
        for running in servers:
            path = running.side.paths[endpoint] + ("7" if endpoint == "GET one" else "")
            answer = running.server.request("GET", path, headers=headers)
            if answer.status != 200:
                raise SystemExit(f"{running.side.name} {path}: {answer.status}")
            body = answer.json
            answers.append(body.get("items", body))  # the cursors differ
        if answers[0] != answers[1]:
            notes.append(f"- {where}, {endpoint}: the two answer different bodies")
    return notes


def rounds(
    row: Row, servers: list[Running], count: int, measure: Callable[[Running], float]
) -> Row:
    """``count`` rounds taking turns, the order flipped every round."""
    for n in range(count):
        for running in servers if n % 2 == 0 else servers[::-1]:
            value = measure(running)
            (row.reference if running.reference else row.current).append(value)
    print(f"{row.database}: {format_row(row)}", flush=True)
    return row


def wrk_rate(
    running: Running,
    row: Row,
    *,
    mode: str,
    seconds: int,
    headers: dict[str, str],
    connections: int,
) -> float:
    """One wrk run at ``row``'s endpoint: 2xx answers per second."""
    server, side = running.server, running.side
    measured = run_wrk(
        f"http://{server.host}:{server.port}{side.paths[row.measure]}",
        mode=mode, headers=headers, seconds=seconds, connections=connections,
        max_id=row.size, tag=f"{side.name}-{row.database}-{row.size}",
        may_fail=not side.is_service,
    )  # fmt: skip
    row.failed += measured.failed
    return measured.requests_per_second


def drive(
    database: str,
    size: int,
    servers: list[Running],
    headers: dict[str, str],
    args: argparse.Namespace,
) -> list[Row]:
    """Each endpoint under wrk: a warm-up for each side, then the rounds."""
    results = []
    for endpoint, mode in ENDPOINTS.items():
        rate = partial(
            wrk_rate, mode=mode, headers=headers, connections=args.connections
        )
        for running in servers:
            rate(running, Row(database, size, endpoint), seconds=1)  # warm up
        row = Row(database, size, endpoint)
        measure = partial(rate, row=row, seconds=args.seconds)
        results.append(rounds(row, servers, args.rounds, measure))
    return results


def peak_memory_mib(pid: int) -> float:
    """VmHWM, the process's peak resident set, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def download(server: LiveServer, headers: dict[str, str], path: str) -> int:
    """GET ``path`` 64 KiB at a time; the number of CSV data rows."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {response.read()[:300]!r}")
        lines = 0
        while chunk := response.read(65536):
            lines += chunk.count(b"\n")
        return lines - 1  # the header is not a row
    finally:
        connection.close()


def export_rate(running: Running, headers: dict[str, str], size: int) -> float:
    started = time.perf_counter()
    rows = download(running.server, headers, "/api/v1/employees.csv")
    if rows < size:
        raise SystemExit(f"the export had {rows} rows, expected {size}")
    return rows / (time.perf_counter() - started)


def bulk_rate(running: Running, headers: dict[str, str]) -> float:
    items = [
        {**EMPLOYEE, "email": f"bulk-{time.time_ns()}-{n}@example.com"}
        for n in range(1000)
    ]
    started = time.perf_counter()
    answer = running.server.request(
        "POST", "/api/v1/employees/bulk", {"items": items}, headers
    )
    if answer.status not in (200, 201):  # 201 before issue 13's contract change
        raise SystemExit(f"bulk create: {answer.status} {answer.body[:300]!r}")
    return len(items) / (time.perf_counter() - started)


def export_and_bulk(
    database: str,
    size: int,
    servers: list[Running],
    headers: dict[str, str],
    args: argparse.Namespace,
) -> tuple[list[Row], list[str]]:
    """On the fresh servers (the baseline has neither): the export's peak
    memory growth, then the export's and bulk creates' rows/s in rounds."""
    servers = [running for running in servers if running.side.is_service]
    notes = []
    for running in servers:
        download(running.server, headers, "/api/v1/employees.csv?q=nobody")  # warm
        before = peak_memory_mib(running.pid)
        export_rate(running, headers, size)
        growth = peak_memory_mib(running.pid) - before
        bulk_rate(running, headers)  # warm up
        notes.append(
            f"- {database}, {size:,}, {running.side.name}: the CSV export's peak "
            f"memory growth {growth:.1f} MiB"
        )
    export = Row(database, size, "CSV export (rows/s)")
    bulk = Row(database, size, "bulk create of 1,000 (rows/s)")
    return [
        rounds(export, servers, args.rounds, lambda r: export_rate(r, headers, size)),
        rounds(bulk, servers, args.rounds, lambda r: bulk_rate(r, headers)),
    ], notes


def format_row(row: Row) -> str:
    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):,.0f}" if values else "-"

    ratio = row.ratio
    if ratio is None:
        shown = "-"
    elif round(ratio, 2) < FLAG_BELOW:  # as shown: no "0.90x, below 0.90"
        shown = f"**{ratio:.2f}x** (below {FLAG_BELOW:.2f})"
    else:
        shown = f"{ratio:.2f}x"
    failed = f" ({row.failed:,} non-2xx)" if row.failed else ""
    spread = "; ".join(
        " ".join(f"{value:,.0f}" for value in values)
        for values in (row.reference, row.current)
        if values
    )
    return (
        f"| {row.size:,} | {row.measure} | {cell(row.reference)}{failed} "
        f"| {cell(row.current)} | {shown} | {spread} |"
    )


def table(database: str, rows: list[Row], reference: str) -> list[str]:
    return [
        f"### {database}",
        "",
        f"| employees | endpoint | {reference} req/s | current req/s "
        f"| current / {reference} | rounds ({reference}; current) |",
        "|---:|---|---:|---:|---:|---|",
        *(format_row(row) for row in rows if row.database == database),
        "",
    ]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def revisions(base: str | None) -> str:
    """Which code ran: "current" is HEAD plus whatever the working tree changed."""
    dirty = " + uncommitted changes" if git("status", "--porcelain") else ""
    current = f"current = {git('log', '-1', '--format=%h %s')}{dirty}"
    if base is None:
        return f"{current}; reference = bench/baseline.py"
    return f"{current}; base = {git('log', '-1', '--format=%h %s', base)}"


@contextmanager
def serving(sides: list[Side], url: str, workdir: Path) -> Iterator[list[Running]]:
    """Both servers on the same database, the reference first."""
    with ExitStack() as stack:
        servers = []
        for n, side in enumerate(sides):
            process = Process()
            server = stack.enter_context(
                live_server(
                    side.ini, url, workdir, process=process,
                    app_options={"api.cursor_secret": CURSOR_SECRET},
                    pythonpath=side.pythonpath,
                )
            )  # fmt: skip
            assert process.popen is not None
            servers.append(Running(side, server, process.popen.pid, reference=n == 0))
        yield servers


def seeded(database: str, url: str, size: int) -> tuple[str, str]:
    """A fresh database of ``size`` employees by this tree's migrations (a
    base commit runs on the newer schema); the token and a note."""
    fresh_database(url)
    engine = create_engine(url)
    try:
        rebuild_schema(engine)
        started = time.perf_counter()
        token = seed(engine, size)
        version = ".".join(map(str, engine.dialect.server_version_info or ()))
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    return (
        token,
        f"- {database} {version}: seeded {size:,} employees in {seconds:.1f} s",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--base", help="a commit to compare with (else the baseline)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--sizes", help="default 10000,100000 (,1000000 without --base)"
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    default_sizes = "10000,100000" if args.base else "10000,100000,1000000"
    sizes = [int(size) for size in (args.sizes or default_sizes).split(",")]
    databases = args.databases.split(",")
    intro = [
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}",
        revisions(args.base),
        f"wrk: 1 thread, {args.connections} connections, {args.seconds} s a round"
        f" after a 1 s warm-up; the median of {args.rounds} rounds taking turns",
    ]
    print("\n".join(intro), flush=True)
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        if args.base:
            tree = stack.enter_context(checkout(args.base))
            reference = Side("base", tree / "production.ini", {}, (str(tree),))
            paths_of = service_paths
        else:
            # production.ini with the baseline's app: the same server and logging.
            production = PRODUCTION_INI.read_text()
            ini = workdir / "baseline.ini"
            ini.write_text(BASELINE_APP + production[production.index("[pshell]") :])
            reference = Side("baseline", ini, {}, is_service=False)
            paths_of = baseline_paths
        for database in databases:
            url = DATABASES[database].format(workdir=workdir)
            try:
                for size in sizes:
                    token, note = seeded(database, url, size)
                    notes.append(note)
                    print(note, flush=True)
                    headers = {
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    }
                    sides = [
                        replace(reference, paths=paths_of(size, reference.pythonpath)),
                        Side("current", PRODUCTION_INI, service_paths(size)),
                    ]
                    with serving(sides, url, workdir) as servers:
                        notes += check_alike(servers, headers, f"{database} {size:,}")
                        if size == max(sizes):
                            measured, more = export_and_bulk(
                                database, size, servers, headers, args
                            )
                            rows += measured
                            notes += more
                        rows += drive(database, size, servers, headers, args)
            finally:
                drop_database(url)
    report = [*intro, ""]
    for database in databases:
        report += table(database, rows, reference.name)
    report += notes
    text = "\n".join(report)
    print(f"\n{text}")
    out = ROOT / "test-artifacts" / "bench.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
