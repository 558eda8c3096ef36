"""Instructions per request, counted by callgrind: the service beside the peers.

Wall times on these shared machines move by tens of percent; instruction
counts repeat exactly. Each target is driven in process (one thread, plain
WSGI calls, no server) on a seeded database, twice under callgrind with N and
2N requests after the same warm-up: the difference over N is the cost of one
request, with start-up, imports and warm-up cancelled out.

    .venv/bin/python bench/instructions.py [--db postgresql|sqlite|URL] [--rows 100000]
        [--targets service,pyramid_core,...] [--endpoints get_one,...] [-n 200]

Peer targets come from ``../shared/peers`` (``PEERS_DIR``) and run on the
peers' venv (``$PEERS_HOME/.venv``) against the peers' database, which their
``bench.py`` seeds. ``--cprofile ENDPOINT`` prints the service's cProfile
instead, by cumulative time. Results go to stdout as a Markdown table.
"""

import argparse
import gc
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = Path(os.environ.get("PEERS_DIR", ROOT.parent / "shared" / "peers"))
PEERS_HOME = Path(os.environ.get("PEERS_HOME") or PEERS_DIR)
DATABASES = {
    "postgresql": (
        "postgresql+psycopg://postgres@127.0.0.1/company_profile",
        "postgresql+psycopg://bench:bench@127.0.0.1:5432/bench",
    ),
    "sqlite": (
        f"sqlite:///{ROOT}/test-artifacts/profile.db",
        f"sqlite:///{PEERS_HOME}/data/bench.db",
    ),
}
ENDPOINTS = ("get_one", "list_first", "list_deep", "post")
TARGETS = ("service", "pyramid_core", "pyramid_tm_ref", "flask_sqla")
CURSOR_SECRET = "profile-not-secret"  # noqa: S105
App = Callable[[dict[str, Any], Any], Any]


def call(
    app: App, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    """One WSGI request, read to its end, as waitress would hand it over."""
    path_info, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path_info, "QUERY_STRING": query,
        "SERVER_NAME": "localhost", "SERVER_PORT": "6543",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost:6543",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "CONTENT_TYPE": "application/json" if body else "",
    }  # fmt: skip
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status: list[str] = []
    chunks = app(environ, lambda s, h, e=None: status.append(s))
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    if not status[0].startswith("2"):
        raise SystemExit(f"{method} {path}: {status[0]} {data[:300]!r}")
    return data


def service_app(url: str, rows: int) -> tuple[App, dict[str, str], str]:
    """production.ini's app on its own seeded database, an editor's token,
    and a deep cursor ~1,000 rows before the end (signed as the app signs)."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, func, select

    from bench.seed import fresh_database, seed
    from company_service.models import ApiToken, Employee
    from company_service.testing import app_settings_from, bearer, make_app
    from company_service.tokens import hash_token

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            ready = connection.scalar(select(func.count()).select_from(Employee))
    except Exception:
        ready = None
    token = "profile-token-" + "x" * 40
    if ready != rows:
        engine.dispose()
        fresh_database(url)
        from company_service.testing import rebuild_schema

        engine = create_engine(url)
        rebuild_schema(engine)
        seed(engine, rows)
    with engine.begin() as connection:
        connection.execute(
            ApiToken.__table__.delete().where(ApiToken.name == "profile")
        )
        connection.execute(
            ApiToken.__table__.insert().values(
                name="profile", role="editor", token_hash=hash_token(token),
                created_at=func.now(),
            )
        )  # fmt: skip
    engine.dispose()
    settings = app_settings_from(
        ROOT / "production.ini", url,
        **{"api.trusted_hosts": "localhost", "api.cursor_secret": CURSOR_SECRET},
    )  # fmt: skip
    app = make_app(settings)
    cursor = deep_cursor(app, bearer(token), rows)
    return app, bearer(token), cursor


def deep_cursor(app: App, headers: dict[str, str], rows: int) -> str:
    """The next_cursor of a page that ends ~1,000 rows before the last,
    found by asking the app for the first page after a filter-free id: the
    service's own cursor of the page starting at rows - 1,050."""
    sys.path.insert(0, str(ROOT))
    from company_service.paging import parse_sort
    from company_service.schemas.query import EMPLOYEE_SORTS

    codec = app.registry["cursor_codec"]  # type: ignore[attr-defined]
    return str(
        codec.encode("employees", parse_sort(None, EMPLOYEE_SORTS), [rows - 1000])
    )


def peer_app(name: str, url: str, rows: int) -> tuple[App, dict[str, str], str]:
    sys.path.insert(0, str(PEERS_DIR))
    module = __import__(f"apps.{name}", fromlist=["make_app"])
    factory = getattr(module, "make_app", None) or module.create_app
    from apps.common import encode_cursor

    return factory(url), {}, encode_cursor(rows - 1000)


def requests(endpoint: str, rows: int, cursor: str) -> Iterator[tuple[str, str, bytes]]:
    """An endless, deterministic stream of (method, path, body)."""
    i = 0
    while True:
        i += 1
        if endpoint == "get_one":
            yield "GET", f"/api/v1/employees/{1 + (i * 7919) % rows}", b""
        elif endpoint == "list_first":
            yield "GET", "/api/v1/employees?limit=50", b""
        elif endpoint == "list_deep":
            yield "GET", f"/api/v1/employees?limit=50&cursor={cursor}", b""
        else:
            body = {
                "first_name": "Bench", "last_name": f"User {i}",
                "email": f"p.{os.getpid()}.{i}@example.com", "title": "Tester",
                "hire_date": "2024-03-01", "salary": "55000.00",
                "department_id": 1 + i % 10, "manager_id": 1 + (i * 7919) % rows,
                "active": True,
            }  # fmt: skip
            yield "POST", "/api/v1/employees", json.dumps(body).encode()


def drive(args: argparse.Namespace) -> None:
    """The child: build the target, warm up, then run --requests requests."""
    url = args.url
    if args.target == "service":
        app, headers, cursor = service_app(url, args.rows)
    else:
        app, headers, cursor = peer_app(args.target, url, args.rows)
    if url.startswith("sqlite:///"):
        # A write-ahead log left by an earlier run would be checkpointed in
        # one of the two runs only.
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stream = requests(args.endpoint, args.rows, cursor)
    for _ in range(args.warmup):
        method, path, body = next(stream)
        call(app, method, path, headers, body)
    # What is alive now stays: no full collection walks it again mid-run, which
    # would land in one of the two runs and not the other.
    gc.collect()
    gc.freeze()
    if args.cprofile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
    for _ in range(args.requests):
        method, path, body = next(stream)
        call(app, method, path, headers, body)
    if args.cprofile:
        profile.disable()
        pstats.Stats(profile).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")
        ).print_stats(45)


def instructions(args: argparse.Namespace, target: str, endpoint: str, n: int) -> int:
    """Total instructions of one child run under callgrind."""
    python, url = child_python(target), child_url(args, target)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            python, __file__, "--child", "--target", target, "--endpoint", endpoint,
            "--url", url, "--rows", str(args.rows), "--warmup", str(args.warmup),
            "--requests", str(n),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        # Once without valgrind and no measured request: seeds the database
        # if needed, so the two measured runs start from the same state.
        subprocess.run([*command[3:-1], "0"], check=True, capture_output=True, env=env)
        subprocess.run(command, check=True, capture_output=True, env=env)
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"no totals in {out}")
        return int(totals.group(1))


def child_python(target: str) -> str:
    if target == "service":
        return sys.executable
    return str(PEERS_HOME / ".venv" / "bin" / "python")


def child_url(args: argparse.Namespace, target: str) -> str:
    service_url, peers_url = DATABASES.get(args.db, (args.db, args.db))
    return service_url if target == "service" else (peers_url or service_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--targets", default="service,pyramid_core")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("-n", "--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--cprofile", metavar="ENDPOINT")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    if args.child:
        args.cprofile = bool(args.cprofile)
        drive(args)
        return
    if args.cprofile:
        args.child, args.target, args.endpoint = True, "service", args.cprofile
        args.url = child_url(args, "service")
        drive(args)
        return
    targets, endpoints = args.targets.split(","), args.endpoints.split(",")
    print(f"thousand instructions per request ({args.db}, {args.rows} rows)\n")
    print("| endpoint | " + " | ".join(targets) + " |")
    print("|---|" + "--:|" * len(targets))
    for endpoint in endpoints:
        cells = []
        for target in targets:
            n = args.requests
            once, twice = (instructions(args, target, endpoint, k) for k in (n, 2 * n))
            cells.append(f"{(twice - once) / n / 1000:,.0f}")
        print(f"| {endpoint} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
