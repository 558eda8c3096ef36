"""Schema-driven fuzzing of the live service with schemathesis.

Starts the real server (development.ini's app and waitress) on a throw-away
database filled with the sample data, gives schemathesis an editor token,
and runs every operation of /api/v1/openapi.json with schemathesis's default
checks (server errors, status codes, content types, headers, response
schemas, positive and negative data) plus stateful links. See
schemathesis.toml for the statuses a schema-valid request may still get.

    python fuzz/run.py [--database-url URL] [--examples N] [--seed N]

Without --database-url (or FUZZ_DATABASE_URL) it uses a temporary SQLite
file. The exit status is schemathesis's: 0 only with no failure at all.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from company_service.testing import live_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"


def company_service(*args: str, database_url: str) -> str:
    result = subprocess.run(
        [str(BIN / "company-service"), *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"fuzz: company-service {args[0]} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL"))
    parser.add_argument("--examples", type=int, default=50, help="per operation")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite:///{workdir}/fuzz.db"
        backend = make_url(url).get_backend_name()  # one report per database
        ini = str(ROOT / "development.ini")
        company_service("initdb", ini, "--sample-data", database_url=url)
        token = company_service(
            "create-token", ini, "--role", "editor", database_url=url
        )
        ARTIFACTS.mkdir(exist_ok=True)
        with live_server(ROOT / "development.ini", url, Path(workdir)) as server:
            base = f"http://{server.host}:{server.port}"
            command = [
                str(BIN / "schemathesis"), "run", f"{base}/api/v1/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--max-examples", str(args.examples),
                "--seed", str(args.seed),
                # One worker: with two, CPython 3.11's ast.parse (which
                # hypothesis calls to describe strategies) races and raises
                # "SystemError: AST constructor recursion depth mismatch".
                "--workers", "1",
                "--request-timeout", "30",
                "--report", "junit",
                "--report-junit-path", str(ARTIFACTS / f"fuzz-junit-{backend}.xml"),
            ]  # fmt: skip
            print(
                f"fuzz: {url.split('@')[-1]}: {' '.join(command[2:4])} ...", flush=True
            )
            return subprocess.run(command, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
