"""The database goes away under a running service, and comes back.

While it is down: quick 503 problems (never a hang, never a 500) and a 503
from /readyz. Within five seconds of its return everything works again,
without restarting the service, and no request that got a 2xx is missing.
Stops the local PostgreSQL or MariaDB server, so it runs only where this
test may start it again (the CI machines; see .ci/run).
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from company_service.models import Department
from company_service.testing import ROOT, bearer, committed, live_server, store_token

pytestmark = pytest.mark.faults

BACK_WITHIN_SECONDS = 5


def control(engine: Engine) -> tuple[list[str], list[str]]:
    """Commands that stop and start the local server, or a skip."""
    if engine.dialect.name == "postgresql" and shutil.which("pg_ctlcluster"):
        version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
        base = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
        return [*base, "stop", "-m", "fast"], [*base, "start"]
    if engine.dialect.name in ("mysql", "mariadb") and shutil.which("mysqladmin"):
        stop = ["mysqladmin", "--protocol=tcp", "-h127.0.0.1", "-uroot", "shutdown"]
        start = ["start-stop-daemon", "--start", "--oknodo", "--background",
                 "--exec", "/usr/sbin/mariadbd"]  # fmt: skip
        return stop, start
    pytest.skip("needs a local PostgreSQL or MariaDB server this test may restart")


def reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def test_an_outage_is_answered_with_503_and_survived(
    database_url, clean_database, tmp_path
):
    engine = clean_database
    stop, start = control(engine)
    with committed(engine) as connection:
        token = store_token(connection, "editor")
    headers = bearer(token)
    with live_server(ROOT / "production.ini", database_url, tmp_path) as server:

        def create(name: str):
            return server.request(
                "POST", "/api/v1/departments", {"name": name}, headers=headers
            )

        created = [
            name for name in ("before-1", "before-2") if create(name).status == 201
        ]
        assert created == ["before-1", "before-2"]
        try:
            subprocess.run(stop, check=True, capture_output=True, timeout=60)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                for method, path, body in (
                    ("GET", "/api/v1/departments", None),
                    ("POST", "/api/v1/departments", {"name": "during"}),
                    ("GET", "/readyz", None),
                ):
                    started = time.monotonic()
                    answer = server.request(method, path, body, headers=headers)
                    took = time.monotonic() - started
                    assert answer.status == 503, (
                        path,
                        answer.status,
                        answer.body[:200],
                    )
                    assert answer.headers["Content-Type"].startswith(
                        "application/problem+json"
                    )
                    assert b"Traceback" not in answer.body
                    assert took < 6, f"{path} hung for {took:.1f}s"
        finally:
            subprocess.run(start, check=True, capture_output=True, timeout=60)
            restart_deadline = time.monotonic() + 60
            while not reachable(engine) and time.monotonic() < restart_deadline:
                time.sleep(0.2)
        back_at = time.monotonic()
        while True:
            answer = server.request("GET", "/api/v1/departments", headers=headers)
            if answer.status == 200:
                break
            assert time.monotonic() - back_at < BACK_WITHIN_SECONDS, answer.status
            time.sleep(0.1)
        assert server.request("GET", "/readyz").status == 200
        assert create("after").status == 201
        created.append("after")
    with engine.connect() as connection:
        names = set(connection.scalars(select(Department.name)))
    assert names == set(created), "every 2xx is there; nothing from the outage"
