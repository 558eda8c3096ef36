"""Does the CSV export stream? Time it and watch the server's memory.

Seeds a PostgreSQL database of its own (created if missing; nothing else is
touched), starts the real server (pserve with production.ini's app and
waitress settings) on a free port, downloads /api/v1/employees.csv in
chunks, and reads the server's peak resident memory (VmHWM) before and
after. If the export buffered its rows, the peak would grow with --rows;
streamed, it stays about flat.

    .venv/bin/python bench/export_memory.py [--database-url URL] [--rows N]
"""

import argparse
import http.client
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from company_service.models import ApiToken, Department, search_key
from company_service.tokens import hash_token, new_token

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.db import rebuild_schema
from tests.support.server import Process, live_server

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_INI = ROOT / "production.ini"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/company_bench"
SEED_BATCH = 5000
EMPLOYEE_COLUMNS = (
    "id, first_name, last_name, email, title, hire_date, salary_cents,"
    " department_id, manager_id, active, search_key, created_at, updated_at, version"
)


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it is missing, from the server's ``postgres`` db."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            name = sql.Identifier(parsed.database)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def employee_rows(count: int, departments: int) -> Iterator[tuple]:
    """Deterministic employees; each tenth one manages the next ten."""
    now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC
    for n in range(1, count + 1):
        first, last, email = f"First{n}", f"Last{n}", f"employee{n}@example.com"
        yield (
            n, first, last, email, f"Title {n % 50}",
            date(2015, 1, 1) + timedelta(days=n % 3650), 3_000_000 + n % 900_000,
            1 + n % departments, n // 10 or None, n % 7 != 0,
            search_key(first, last, email), now, now, 1,
        )  # fmt: skip


def seed(engine: Engine, rows: int) -> str:
    """Departments, ``rows`` employees (PostgreSQL COPY) and an editor token."""
    token = new_token()
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(Department.__table__),
            [
                {"name": f"Department {n}", "name_key": f"department {n}",
                 "created_at": now, "updated_at": now, "version": 1}
                for n in range(1, 11)
            ],
        )  # fmt: skip
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY employees ({EMPLOYEE_COLUMNS}) FROM STDIN") as copy:
            for row in employee_rows(rows, departments=10):
                copy.write_row(row)
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('employees', 'id'), :n)"),
            {"n": rows},
        )
        connection.execute(
            insert(ApiToken.__table__).values(
                name=f"bench-{token[:8]}",
                role="editor",
                token_hash=hash_token(token),
                created_at=now,
            )
        )
    return token


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak resident set) and VmRSS of ``pid``, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0]) / 1024  # kB
    return found


def download(port: int, token: str, path: str) -> tuple[int, int]:
    """GET ``path`` reading 64 KiB at a time: (data rows, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {response.read()[:300]!r}")
        lines = size = 0
        while chunk := response.read(65536):
            lines += chunk.count(b"\n")
            size += len(chunk)
        return lines - 1, size  # the header is not a row
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    if make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error(
            "the benchmark seeds with PostgreSQL's COPY: give a postgresql URL"
        )

    ensure_database(args.database_url)
    engine = create_engine(args.database_url)
    try:
        started = time.perf_counter()
        rebuild_schema(engine)
        token = seed(engine, args.rows)
        print(f"seeded {args.rows} employees in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()

    process = Process()
    with (
        tempfile.TemporaryDirectory() as workdir,
        live_server(
            PRODUCTION_INI, args.database_url, Path(workdir), process=process
        ) as server,
    ):
        pid, port = process.popen.pid, server.port
        # Warm up: imports, the pool's first connection, a tiny export.
        download(port, token, "/api/v1/employees.csv?q=nobody")
        before = memory_mb(pid)
        started = time.perf_counter()
        rows, size = download(port, token, "/api/v1/employees.csv")
        seconds = time.perf_counter() - started
        after = memory_mb(pid)

    if rows != args.rows:
        raise SystemExit(f"expected {args.rows} rows, got {rows}")
    print(f"rows:               {rows}")
    print(f"bytes:              {size / 2**20:.1f} MiB")
    print(f"seconds:            {seconds:.2f}")
    print(f"rows/s:             {rows / seconds:,.0f}")
    print(
        f"peak RSS before:    {before['VmHWM']:.1f} MiB (RSS {before['VmRSS']:.1f} MiB)"
    )
    print(
        f"peak RSS after:     {after['VmHWM']:.1f} MiB (RSS {after['VmRSS']:.1f} MiB)"
    )
    print(f"peak RSS growth:    {after['VmHWM'] - before['VmHWM']:.1f} MiB")


if __name__ == "__main__":
    main()
