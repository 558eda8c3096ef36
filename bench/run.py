"""make bench: does the request-bound session cost anything?

For each database (SQLite, PostgreSQL) and size (10k, 100k, 1M employees):
seed it, start the service from production.ini and the baseline
(bench/baseline.py: the same endpoints as bare Core in ``engine.begin()``)
with the same waitress settings, check that both answer alike, then drive
each endpoint with wrk, baseline and service taking turns. At the largest
size a fresh service also streams the CSV export of every row (rows/s and
its peak memory growth) and takes 1,000-item bulk creates (ms).

    .venv/bin/python bench/run.py [--databases sqlite,postgresql]
        [--sizes 10000,100000,1000000] [--seconds 5] [--connections 8]

Prints Markdown tables (also written to test-artifacts/bench.md).
"""

import argparse
import http.client
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import Load, run_wrk  # noqa: E402
from bench.seed import fresh_database, seed  # noqa: E402
from company_service.paging import CursorCodec, parse_sort  # noqa: E402
from company_service.services.employees import SORT_FIELDS  # noqa: E402
from tests.support.db import rebuild_schema  # noqa: E402
from tests.support.server import LiveServer, Process, live_server  # noqa: E402

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
EMPLOYEE = {
    "first_name": "Bulk", "last_name": "Employee", "title": "Engineer",
    "hire_date": "2024-03-01", "salary": "5123.45", "department_id": 1,
}  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    database: str
    size: int
    endpoint: str
    baseline: Load
    service: Load

    @property
    def ratio(self) -> float:
        return self.service.requests_per_second / self.baseline.requests_per_second


def deep_cursors(size: int) -> tuple[str, str]:
    """Cursors of a page 90% of the way in: the service's (signed), the baseline's."""
    after = size * 9 // 10
    codec = CursorCodec(CURSOR_SECRET.encode())
    signed = codec.encode("employees", parse_sort(None, SORT_FIELDS), [after])
    return signed, str(after)


def paths(size: int) -> dict[str, tuple[str, str, str]]:
    """endpoint -> (wrk mode, service path, baseline path)."""
    service_cursor, baseline_cursor = deep_cursors(size)
    return {
        "GET one": ("get", "/api/v1/employees/", "/api/v1/employees/"),
        "first page": (
            "page", "/api/v1/employees?limit=50", "/api/v1/employees?limit=50",
        ),
        "deep page": (
            "page",
            f"/api/v1/employees?limit=50&cursor={service_cursor}",
            f"/api/v1/employees?limit=50&cursor={baseline_cursor}",
        ),
        "POST": ("post", "/api/v1/employees", "/api/v1/employees"),
    }  # fmt: skip


def check_alike(service: LiveServer, baseline: LiveServer, headers: dict) -> None:
    """Both must do the same work: the same employee, the same first page."""
    for path in ("/api/v1/employees/7", "/api/v1/employees?limit=50"):
        ours = service.request("GET", path, headers=headers)
        theirs = baseline.request("GET", path)
        if ours.status != 200 or theirs.status != 200:
            raise SystemExit(f"{path}: service {ours.status}, baseline {theirs.status}")
        # Pages are compared by their items: the cursors differ by design.
        if "limit" in path:
            ours, theirs = ours.json["items"], theirs.json["items"]
        else:
            ours, theirs = ours.json, theirs.json
        if ours != theirs:
            raise SystemExit(f"{path}: the service and the baseline answer differently")


def compare(
    database: str,
    size: int,
    service: LiveServer,
    baseline: LiveServer,
    token: str,
    args: argparse.Namespace,
) -> list[Comparison]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    check_alike(service, baseline, headers)
    results = []
    for endpoint, (mode, ours, theirs) in paths(size).items():
        measured = {}
        for name, server, path in (
            ("baseline", baseline, theirs),
            ("service", service, ours),
        ):
            url = f"http://{server.host}:{server.port}{path}"
            load = dict(
                mode=mode, headers=headers, connections=args.connections,
                max_id=size, tag=f"{name}-{database}-{size}",
                may_fail=name == "baseline",
            )  # fmt: skip
            run_wrk(url, seconds=1, **load)  # warm up
            measured[name] = run_wrk(url, seconds=args.seconds, **load)
        results.append(Comparison(database, size, endpoint, **measured))
        print(format_comparison(results[-1]), flush=True)
    return results


def peak_memory_mib(pid: int) -> float:
    """VmHWM, the process's peak resident set, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def download(server: LiveServer, token: str, path: str) -> int:
    """GET ``path`` 64 KiB at a time; the number of CSV data rows."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {response.read()[:300]!r}")
        lines = 0
        while chunk := response.read(65536):
            lines += chunk.count(b"\n")
        return lines - 1  # the header is not a row
    finally:
        connection.close()


def export_and_bulk(
    server: LiveServer, pid: int, token: str, size: int, runs: int
) -> dict[str, float]:
    """The CSV export of every row on a fresh server, then bulk creates."""
    download(server, token, "/api/v1/employees.csv?q=nobody")  # warm up
    before = peak_memory_mib(pid)
    started = time.perf_counter()
    rows = download(server, token, "/api/v1/employees.csv")
    seconds = time.perf_counter() - started
    growth = peak_memory_mib(pid) - before
    if rows < size:
        raise SystemExit(f"the export had {rows} rows, expected {size}")
    timings = []
    headers = {"Authorization": f"Bearer {token}"}
    for run in range(runs + 1):  # the first one warms up
        items = [
            {**EMPLOYEE, "email": f"bulk-{time.time_ns()}-{run}-{n}@example.com"}
            for n in range(1000)
        ]
        started = time.perf_counter()
        answer = server.request(
            "POST", "/api/v1/employees/bulk", {"items": items}, headers
        )
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 201:
            raise SystemExit(f"bulk create: {answer.status} {answer.body[:300]!r}")
        if run:
            timings.append(elapsed)
    return {
        "rows": rows,
        "rows_per_second": rows / seconds,
        "seconds": seconds,
        "memory_growth_mib": growth,
        "bulk_ms_median": statistics.median(timings),
        "bulk_ms_best": min(timings),
    }


def format_comparison(c: Comparison) -> str:
    b, s = c.baseline, c.service
    failed = f" ({b.failed:,} of {b.requests:,} failed)" if b.failed else ""
    return (
        f"| {c.database} | {c.size:,} | {c.endpoint} "
        f"| {b.requests_per_second:,.0f}{failed} | {b.p50:.1f} / {b.p99:.1f} "
        f"| {s.requests_per_second:,.0f} | {s.p50:.1f} / {s.p99:.1f} "
        f"| **{c.ratio:.2f}x** |"
    )


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


@contextmanager
def servers(url: str, workdir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    baseline_ini = workdir / "baseline.ini"
    # production.ini with the baseline's app: the same server and logging.
    production = PRODUCTION_INI.read_text()
    rest = production[production.index("[pshell]") :]
    baseline_ini.write_text(BASELINE_APP + rest)
    options = {"api.cursor_secret": CURSOR_SECRET}
    with ExitStack() as stack:
        service = stack.enter_context(
            live_server(PRODUCTION_INI, url, workdir, app_options=options)
        )
        baseline = stack.enter_context(live_server(baseline_ini, url, workdir))
        yield service, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--bulk-runs", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    header = (
        "| database | employees | endpoint | baseline req/s | p50 / p99 ms "
        "| service req/s | p50 / p99 ms | service / baseline |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|"
    )
    print(f"machine: {machine()}\n\n{header}", flush=True)
    comparisons: list[Comparison] = []
    extras: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for database in args.databases.split(","):
            url = DATABASES[database].format(workdir=workdir)
            for size in sizes:
                fresh_database(url)
                engine = create_engine(url)
                rebuild_schema(engine)  # the migrations, on an empty database
                started = time.perf_counter()
                token = seed(engine, size)
                seeded = time.perf_counter() - started
                engine.dispose()
                extras.append(
                    f"- {database}: seeded {size:,} employees in {seeded:.1f} s"
                )
                if size == max(sizes):
                    process = Process()
                    with live_server(
                        PRODUCTION_INI, url, workdir, process=process
                    ) as server:
                        found = export_and_bulk(
                            server, process.popen.pid, token, size, args.bulk_runs
                        )
                    extras.append(
                        f"- {database}: CSV export of {found['rows']:,} rows in "
                        f"{found['seconds']:.2f} s = {found['rows_per_second']:,.0f} "
                        f"rows/s, peak memory growth "
                        f"{found['memory_growth_mib']:.1f} MiB; bulk create of "
                        f"1,000: {found['bulk_ms_median']:.0f} ms median, "
                        f"{found['bulk_ms_best']:.0f} ms best of {args.bulk_runs}"
                    )
                    print(extras[-1], flush=True)
                with servers(url, workdir) as (service, baseline):
                    comparisons += compare(
                        database, size, service, baseline, token, args
                    )
    report = [f"machine: {machine()}", "", header]
    report += [format_comparison(c) for c in comparisons]
    report += ["", *deep_page_ratios(comparisons), "", *extras]
    text = "\n".join(report)
    print(f"\n{text}")
    out = ROOT / "test-artifacts" / "bench.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


def deep_page_ratios(comparisons: list[Comparison]) -> list[str]:
    pages = {(c.database, c.size, c.endpoint): c.service for c in comparisons}
    lines = []
    for database, size, endpoint in pages:
        if endpoint == "deep page":
            deep = pages[database, size, "deep page"].requests_per_second
            first = pages[database, size, "first page"].requests_per_second
            lines.append(
                f"- {database}, {size:,}: service deep page / first page = "
                f"{deep / first:.2f}x"
            )
    return lines


if __name__ == "__main__":
    main()
