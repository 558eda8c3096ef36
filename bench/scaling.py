"""make bench-scaling: docs/scaling.md's topologies, side by side, in one run.

Three comparisons. In each, two configurations take turns under the same wrk
load (the order flips every round) and the median of ``--rounds`` is kept:

- processes: one vs two service processes behind haproxy, on one PostgreSQL
  (a throw-away database on BENCH_POSTGRESQL_URL's server);
- standby: reads from the primary only vs primary + hot standby
  (``dev.clusters.standby``), with the share of the reads that
  the standby served, counted on the standby (``pg_stat_database``);
- galera: the same write load through one node vs two nodes of a three-node
  Galera cluster (``dev.clusters.galera``), with Galera's
  certification conflicts (``wsrep_local_cert_failures`` and
  ``wsrep_local_bf_aborts``, all nodes) and the service's retries (its log).

    .venv/bin/python bench/scaling.py [--only processes,standby,galera]
        [--seconds 5] [--rounds 3] [--connections 8]

Needs root (the clusters start as the postgres and mysql users), wrk and
haproxy. Prints Markdown, also written to test-artifacts/scaling.md. On two
cores the service processes, the databases and wrk share the same CPUs: the
figures say what these topologies cost here, not what they scale to on
machines of their own.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for bench.* and dev.*, run as a script

from bench.load import run_wrk  # noqa: E402
from bench.run import machine, revisions  # noqa: E402
from bench.seed import drop_database, fresh_database, seed  # noqa: E402
from company_service.models import Department  # noqa: E402
from company_service.testing import (  # noqa: E402
    LiveServer,
    committed,
    live_server,
    rebuild_schema,
    store_token,
)
from dev.clusters import galera, standby  # noqa: E402
from dev.clusters.balancer import Balancer, haproxy  # noqa: E402

PRODUCTION_INI = ROOT / "production.ini"
SECRET = "bench-scaling-cursor-secret"  # noqa: S105 (throw-away servers)
POSTGRESQL = os.environ.get(
    "BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1/company_scaling"
)
SEEDED = 10_000  # employees on PostgreSQL (ids 1..SEEDED)
HOT_ROWS = 50  # Galera: the rows every PATCH picks from, so that writes collide
RETRY_LINE = "transient database error"  # views/errors.py logs each failed attempt


@dataclass
class Side:
    """One configuration: where wrk sends its load, and the logs to count in."""

    name: str
    url: str
    logs: list[Path] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    failed: int = 0
    answered: int = 0  # 2xx answers over the measured rounds
    retries: int = 0
    conflicts: int | None = None  # Galera's, when counted


@dataclass
class Comparison:
    topology: str
    load: str
    sides: tuple[Side, Side]
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        first, second = (statistics.median(s.rates) for s in self.sides)
        ratio = f"{second / first:.2f}x" if first else "n/a"
        cells = [
            f"{side.name}: {statistics.median(side.rates):,.0f} req/s"
            f" ({', '.join(f'{r:,.0f}' for r in side.rates)}; {side.failed} non-2xx,"
            f" {side.retries} retries"
            + ("" if side.conflicts is None else f", {side.conflicts} conflicts")
            + ")"
            for side in self.sides
        ]
        return (
            f"| {self.topology} | {self.load} | {cells[0]} | {cells[1]} |"
            f" {ratio} | {'; '.join(self.notes)} |"
        )


def retries(paths: list[Path]) -> int:
    return sum(path.read_text(errors="replace").count(RETRY_LINE) for path in paths)


def compare(
    comparison: Comparison,
    args: argparse.Namespace,
    *,
    mode: str,
    headers: dict[str, str],
    targets: str,
    conflicts: Callable[[], int] | None = None,
) -> Comparison:
    """Warm each side up, then ``args.rounds`` rounds taking turns; each
    side's non-2xx answers, retries and (given a counter) conflicts add up."""
    for side in comparison.sides:
        run_wrk(
            side.url,
            mode=mode,
            headers=headers,
            seconds=1,
            connections=args.connections,
            targets=targets,
            may_fail=True,
        )
    for n in range(args.rounds):
        for side in comparison.sides if n % 2 == 0 else comparison.sides[::-1]:
            before = retries(side.logs), conflicts() if conflicts else 0
            load = run_wrk(
                side.url,
                mode=mode,
                headers=headers,
                seconds=args.seconds,
                connections=args.connections,
                targets=targets,
                may_fail=True,
                tag=re.sub("[^a-z0-9]+", "-", side.name),  # in POSTed emails
            )
            side.rates.append(load.requests_per_second)
            side.failed += load.failed
            side.answered += load.requests - load.failed
            side.retries += retries(side.logs) - before[0]
            if conflicts is not None:
                side.conflicts = (side.conflicts or 0) + conflicts() - before[1]
    print(comparison.row(), flush=True)
    return comparison


def services(
    stack: ExitStack, urls: list[str], workdir: Path, **app_options: str
) -> list[LiveServer]:
    """A service process per database URL, from production.ini, stopped
    when ``stack`` closes."""
    workdir.mkdir(parents=True, exist_ok=True)
    options = {"api.cursor_secret": SECRET, **app_options}
    return [
        stack.enter_context(
            live_server(PRODUCTION_INI, url, workdir, app_options=options)
        )
        for url in urls
    ]


def log_of(server: LiveServer, workdir: Path) -> Path:
    return workdir / f"server-{server.port}.log"  # where live_server writes it


def balanced(stack: ExitStack, servers: list[LiveServer], workdir: Path) -> Balancer:
    backends = [(s.host, s.port) for s in servers]
    name = "-".join(str(s.port) for s in servers)
    return stack.enter_context(haproxy(backends, workdir / f"haproxy-{name}"))


def seeded_postgresql(url: str) -> str:
    fresh_database(url)
    engine = create_engine(url)
    try:
        rebuild_schema(engine)
        return seed(engine, SEEDED)
    finally:
        engine.dispose()


def processes(args: argparse.Namespace, workdir: Path) -> list[Comparison]:
    """One vs two service processes, each behind haproxy, on one PostgreSQL."""
    token = seeded_postgresql(POSTGRESQL)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    results = []
    try:
        with ExitStack() as stack:
            both = services(stack, [POSTGRESQL] * 2, workdir)
            one = balanced(stack, both[:1], workdir)
            two = balanced(stack, both, workdir)
            logs = [log_of(s, workdir) for s in both]
            for load, mode, path in (
                ("GET one", "get", "/api/v1/employees/"),
                ("POST", "post", "/api/v1/employees"),
            ):
                sides = (
                    Side("1 process", f"http://127.0.0.1:{one.port}{path}", logs[:1]),
                    Side("2 processes", f"http://127.0.0.1:{two.port}{path}", logs),
                )
                comparison = Comparison("PostgreSQL, haproxy", load, sides)
                results.append(
                    compare(
                        comparison,
                        args,
                        mode=mode,
                        headers=headers,
                        targets=str(SEEDED),
                    )
                )
    finally:
        drop_database(POSTGRESQL)
    return results


def transactions_on(url: str) -> int:
    """Transactions the server has ended in this database (pg_stat_database)."""
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        row = connection.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def standby_reads(args: argparse.Namespace, workdir: Path) -> list[Comparison]:
    """Reads from the primary only vs from primary + standby."""
    results = []
    with standby.cluster(workdir / "standby") as pair, ExitStack() as stack:
        token = seeded_postgresql(pair.primary_url)
        pair.wait_replayed()
        headers = {"Authorization": f"Bearer {token}"}
        (primary_only,) = services(stack, [pair.primary_url], workdir)
        replica = {"db.replica_url": pair.standby_url}
        (with_standby,) = services(stack, [pair.primary_url], workdir, **replica)
        before = transactions_on(pair.standby_url)
        reads = 0
        for load, mode, path in (
            ("GET one", "get", "/api/v1/employees/"),
            ("first page", "page", "/api/v1/employees?limit=50"),
        ):
            primary_side = Side(
                "primary only",
                f"http://127.0.0.1:{primary_only.port}{path}",
                [log_of(primary_only, workdir)],
            )
            standby_side = Side(
                "primary + standby",
                f"http://127.0.0.1:{with_standby.port}{path}",
                [log_of(with_standby, workdir)],
            )
            comparison = Comparison(
                "PostgreSQL primary + hot standby", load, (primary_side, standby_side)
            )
            results.append(
                compare(
                    comparison, args, mode=mode, headers=headers, targets=str(SEEDED)
                )
            )
            reads += standby_side.answered
        # A backend reports its statistics once idle for 10 s (or on exit).
        time.sleep(11)
        served = transactions_on(pair.standby_url) - before
        results[-1].notes.append(
            f"the standby ended {served:,} transactions while the second side"
            f" answered {reads:,} reads, both loads (its lag checks, about one"
            " a second, count too)"
        )
    return results


def galera_conflicts(cluster: galera.Cluster) -> int:
    """Transactions Galera aborted, on every node: failed certification at
    COMMIT, or killed by a replicated write that won (brute-force abort)."""
    total = 0
    for node in cluster.nodes:
        for name in ("wsrep_local_cert_failures", "wsrep_local_bf_aborts"):
            total += int(node.status(name) or 0)
    return total


def galera_writes(args: argparse.Namespace, workdir: Path) -> list[Comparison]:
    """The same write load through one Galera node vs two."""
    results = []
    with galera.cluster(workdir / "galera") as cluster, ExitStack() as stack:
        engine = create_engine(cluster.urls[0])
        try:
            rebuild_schema(engine)
            with committed(engine) as connection:
                token = store_token(connection, "editor")
            # wrk's POSTs name department 1: made with that id, as Galera
            # would hand out another on a node whose offset is not 1.
            with Session(engine) as session, session.begin():
                session.add(Department(id=1, name="Load", version=1))
        finally:
            engine.dispose()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        nodes = services(stack, cluster.urls[:2], workdir)
        items = [
            {
                "first_name": "Hot",
                "last_name": f"Row {n}",
                "salary": "5000",
                "email": f"hot-{n}@bench.example.com",
            }
            for n in range(HOT_ROWS)
        ]
        created = nodes[0].request(
            "POST", "/api/v1/employees/bulk", {"items": items}, headers
        )
        if created.status != 200:
            raise SystemExit(f"seeding Galera: {created.status} {created.body!r}")
        # Galera spaces AUTO_INCREMENT ids by node: the ids are listed.
        ids = ",".join(str(item["id"]) for item in created.json["items"])
        one = balanced(stack, nodes[:1], workdir)
        two = balanced(stack, nodes, workdir)
        logs = [log_of(s, workdir) for s in nodes]
        for load, mode, path, targets in (
            ("PATCH of 50 hot rows", "patch", "/api/v1/employees/", ids),
            ("POST", "post", "/api/v1/employees", "1"),
        ):
            sides = (
                Side("1 node", f"http://127.0.0.1:{one.port}{path}", logs[:1]),
                Side("2 nodes", f"http://127.0.0.1:{two.port}{path}", logs),
            )
            comparison = Comparison("Galera, 3 nodes", load, sides)
            count = partial(galera_conflicts, cluster)
            compare(
                comparison,
                args,
                mode=mode,
                headers=headers,
                targets=targets,
                conflicts=count,
            )
            results.append(comparison)
    return results


STUDIES: dict[str, Callable[[argparse.Namespace, Path], list[Comparison]]] = {
    "processes": processes,
    "standby": standby_reads,
    "galera": galera_writes,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--only", default=",".join(STUDIES))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on"
        f" {machine()}; {revisions(None).split(';')[0]}.",
        f"wrk, {args.connections} connections, {args.seconds} s per run, median of"
        f" {args.rounds} rounds taking turns.",
        "",
        "| topology | load | first | second | second / first | notes |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        workdir = Path(tmp)
        # The clusters run as postgres and mysql: they must reach their directories.
        os.chmod(workdir, 0o755)  # noqa: S103
        for name in args.only.split(","):
            (workdir / name).mkdir()
            lines += [c.row() for c in STUDIES[name](args, workdir / name)]
    report = ROOT / "test-artifacts" / "scaling.md"
    report.parent.mkdir(exist_ok=True)
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(["", *lines, "", f"written to {report.relative_to(ROOT)}"]))


if __name__ == "__main__":
    main()
