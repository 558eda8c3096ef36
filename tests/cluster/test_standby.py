"""A PostgreSQL primary and a hot standby behind real service processes.

One cluster for the module (dev.clusters.standby: ports 5441 and
5442); each test points a ``pserve`` at it with ``db.replica_url``. Where a
test must know which server answered, it asks the databases, not the
service: the standby's own statistics count the scans its readers made, and
a standby whose replay is paused (``pg_wal_replay_pause()``) still holds the
old value, so a read that shows it was served there.

``pytest -s`` prints the counts (reads per server, requests sent, retried,
503 and failed in the drill).
"""

import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, func, text, update

from company_service.db import make_engine
from company_service.models import ApiToken
from company_service.testing import (
    TESTING_INI,
    Answer,
    LiveServer,
    app_settings_from,
    bearer,
    committed,
    live_server,
    rebuild_schema,
    store_token,
)
from dev.clusters.standby import Cluster, cluster

HEADER = "Consistency-Token"
LSN = re.compile(r"[0-9A-F]{1,8}/[0-9A-F]{1,8}")
ALTERNATIONS = 1000
READS = 300
BUMP = text("UPDATE employees SET salary_cents = salary_cents + 1 WHERE id = :id")


@dataclass(frozen=True)
class Setup:
    pg: Cluster
    primary: Engine
    standby: Engine
    workdir: Path
    editor: dict[str, str]

    def serve(self, **options: str) -> Any:
        """A pserve of testing.ini on the primary, reading the standby."""
        return live_server(
            Path(TESTING_INI),
            self.pg.primary_url,
            self.workdir,
            app_options={
                "db.replica_url": self.pg.standby_url,
                # Generous: a paused standby stays in use for a test's seconds.
                "db.replica_max_lag_seconds": "30",
                "db.replica_check_seconds": "0.2",
                "db.replica_down_seconds": "1",
                "db.replica_wait_ms": "300",
                # No cache: every request's token lookup is seen where it goes.
                "auth.token_cache_seconds": "0",
                **options,
            },
            server_options={"threads": "8"},
        )


@contextmanager
def removed(directory: Path) -> Iterator[None]:
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    base = Path(tempfile.mkdtemp(prefix="company-standby-"))
    workdir = Path(tempfile.mkdtemp(prefix="company-standby-servers-"))
    with cluster(base) as pg, removed(workdir):
        print(f"\ncluster started in {pg.startup_seconds:.1f} s")
        settings = app_settings_from(TESTING_INI, pg.primary_url)
        primary = make_engine(settings)
        standby = make_engine(settings, address=pg.standby_url)
        rebuild_schema(primary)
        with committed(primary) as connection:
            editor = store_token(connection, "editor")
        pg.wait_replayed()
        try:
            yield Setup(pg, primary, standby, workdir, bearer(editor))
        finally:
            primary.dispose()
            standby.dispose()


@pytest.fixture(scope="module")
def served(setup: Setup) -> Iterator[tuple[LiveServer, Path]]:
    """The module's service process and its log."""
    with setup.serve() as server:
        yield server, setup.workdir / f"server-{server.port}.log"


def create_employee(server: LiveServer, headers: dict[str, str], name: str) -> int:
    answer = server.request(
        "POST",
        "/api/v1/employees",
        {"first_name": name, "last_name": "Standby", "email": f"{name}@example.com",
         "salary": "1000.00"},
        headers,
    )  # fmt: skip
    assert answer.status == 201, answer.body
    assert LSN.fullmatch(answer.headers[HEADER])
    employee_id: int = answer.json["id"]
    return employee_id


def salary_of(answer: Answer) -> str:
    assert answer.status == 200, answer.body
    salary: str = answer.json["salary"]
    return salary


# --- what each server did, from its own statistics ------------------------------


def scans(port: int, table: str) -> int:
    """Sequential plus index scans of ``table`` counted by one server."""
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="company_service"
    ) as connection:
        row = connection.execute(
            "SELECT COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)"
            " FROM pg_stat_user_tables WHERE relname = %s",
            (table,),
        ).fetchone()
        assert row is not None
        return int(row[0])


def wait_for_no_clients(port: int) -> None:
    """A backend reports its statistics as it exits: wait until every other
    client has gone, so the counts are complete."""
    deadline = time.monotonic() + 30
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as connection:
        while connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "clients still connected"
            time.sleep(0.05)


@dataclass
class Counts:
    values: dict[tuple[str, str], int]

    def __sub__(self, other: "Counts") -> dict[tuple[str, str], int]:
        return {key: value - other.values[key] for key, value in self.values.items()}


def counts(setup: Setup) -> Counts:
    setup.primary.dispose()
    setup.standby.dispose()
    ports = {"primary": 5441, "standby": 5442}
    for port in ports.values():
        wait_for_no_clients(port)
    return Counts(
        {
            (server, table): scans(port, table)
            for server, port in ports.items()
            for table in ("employees", "api_tokens")
        }
    )


@contextmanager
def measured(setup: Setup, result: dict[str, Any]) -> Iterator[LiveServer]:
    """A service process of its own, and afterwards (it stopped, and its
    backends with it) the scans each server counted meanwhile."""
    before = counts(setup)
    with setup.serve() as server:
        yield server
    result.update(counts(setup) - before)


# --- the tests -------------------------------------------------------------------


def test_reads_go_to_the_standby_and_token_lookups_to_the_primary(setup: Setup):
    with setup.serve() as server:
        employee_id = create_employee(server, setup.editor, "reader")
    setup.pg.wait_replayed()
    delta: dict[Any, int] = {}
    with measured(setup, delta) as server:
        for _ in range(READS):
            answer = server.request(
                "GET", f"/api/v1/employees/{employee_id}", headers=setup.editor
            )
            assert salary_of(answer) == "1000.00"
    print(f"\n{READS} reads: employees scans {delta}")
    on_standby = delta["standby", "employees"]
    on_primary = delta["primary", "employees"]
    assert on_standby >= READS
    assert on_standby / (on_standby + on_primary) >= 0.95
    # Every request's token was looked up on the primary, none on the standby.
    assert delta["primary", "api_tokens"] >= READS
    assert delta["standby", "api_tokens"] == 0


def test_a_read_with_the_token_of_a_write_never_sees_the_old_value(setup: Setup):
    delta: dict[Any, int] = {}
    stale = []
    with measured(setup, delta) as server:
        employee_id = create_employee(server, setup.editor, "alternating")
        path = f"/api/v1/employees/{employee_id}"
        for i in range(ALTERNATIONS):
            value = f"{2000 + i}.00"
            written = server.request("PATCH", path, {"salary": value}, setup.editor)
            assert written.status == 200, written.body
            token = written.headers[HEADER]
            assert LSN.fullmatch(token)
            read = server.request("GET", path, headers={**setup.editor, HEADER: token})
            if salary_of(read) != value:
                stale.append((i, value, read.json["salary"]))
    print(f"\n{ALTERNATIONS} PATCH+GET: employees scans {delta}, stale {len(stale)}")
    assert stale == []
    # The reads did not all fall back to the primary: the standby served some.
    assert delta["standby", "employees"] > 0


def test_a_garbled_token_is_a_422_naming_the_header(setup: Setup, served):
    server, _ = served
    for garbled in ("not-a-token", "0/XYZ", "1/2/3", "123456789/0"):
        answer = server.request(
            "GET", "/api/v1/employees", headers={**setup.editor, HEADER: garbled}
        )
        assert answer.status == 422
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert [e["loc"] for e in answer.json["errors"]] == [["header", HEADER]]


@contextmanager
def replay_paused(setup: Setup) -> Iterator[None]:
    with setup.standby.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
        connection.commit()
    try:
        yield
    finally:
        with setup.standby.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_resume()"))
            connection.commit()


def test_a_paused_standby_serves_old_values_without_a_token_never_with(
    setup: Setup, served
):
    """Routing, seen from the data: with replay paused the standby holds the
    old salary; a read without a token shows it, a read with the write's
    token waits, then reads the primary. And a token revoked on the primary
    is refused at once, though the standby still holds it unrevoked."""
    server, _ = served
    employee_id = create_employee(server, setup.editor, "paused")
    path = f"/api/v1/employees/{employee_id}"
    with committed(setup.primary) as connection:
        doomed = store_token(connection, "reader")
    assert salary_of(server.request("GET", path, headers=bearer(doomed))) == "1000.00"
    setup.pg.wait_replayed()
    with replay_paused(setup):
        written = server.request("PATCH", path, {"salary": "1500.00"}, setup.editor)
        assert written.status == 200
        token = written.headers[HEADER]
        assert salary_of(server.request("GET", path, headers=setup.editor)) == "1000.00"
        with_token = server.request(
            "GET", path, headers={**setup.editor, HEADER: token}
        )
        assert salary_of(with_token) == "1500.00"
        with committed(setup.primary) as connection:
            connection.execute(
                update(ApiToken).where(ApiToken.role == "reader").values(
                    revoked_at=func.now()
                )
            )  # fmt: skip
        with setup.standby.connect() as connection:
            unrevoked = connection.scalar(
                text("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL")
            )
        assert unrevoked == 2  # the standby has not seen the revocation
        assert server.request("GET", path, headers=bearer(doomed)).status == 401


def test_a_standby_lagging_past_the_setting_is_skipped(setup: Setup):
    with setup.serve(**{"db.replica_max_lag_seconds": "1"}) as server:
        employee_id = create_employee(server, setup.editor, "lagging")
        path = f"/api/v1/employees/{employee_id}"
        setup.pg.wait_replayed()
        with replay_paused(setup):
            with committed(setup.primary) as connection:
                connection.execute(
                    text("UPDATE employees SET salary_cents = 170000 WHERE id = :id"),
                    {"id": employee_id},
                )
            time.sleep(1.5)  # past the bound, then past a check
            assert readyz_until(server, "lagging").status == 200
            read = server.request("GET", path, headers=setup.editor)
            assert salary_of(read) == "1700.00"  # the primary's value


def test_a_read_whose_standby_connection_died_is_retried_on_the_primary(
    setup: Setup,
):
    """The standby's sessions are terminated under a process that does not
    re-check it for a minute: its next read fails on a dead connection, is
    replayed (logged), and the replay reads the primary."""
    with setup.serve(**{"db.replica_check_seconds": "60"}) as server:
        log = setup.workdir / f"server-{server.port}.log"
        employee_id = create_employee(server, setup.editor, "terminated")
        path = f"/api/v1/employees/{employee_id}"
        setup.pg.wait_replayed()
        assert salary_of(server.request("GET", path, headers=setup.editor)) == "1000.00"
        with setup.standby.connect() as connection:
            ended = connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                )
            )
        assert ended >= 1
        retries = log.read_text().count("retrying")
        answer = server.request("GET", path, headers=setup.editor)
        assert salary_of(answer) == "1000.00"
        assert log.read_text().count("retrying") == retries + 1
        assert "standby replica-1 failed" in log.read_text()


@dataclass
class Load:
    """Clients writing and reading their own rows until told to stop."""

    server: LiveServer
    headers: dict[str, str]
    paths: list[str]
    statuses: Counter[int]
    errors: list[str]
    stop: threading.Event

    def client(self, path: str) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            value = f"{3000 + i}.00"
            try:
                written = self.server.request(
                    "PATCH", path, {"salary": value}, self.headers
                )
                self.statuses[written.status] += 1
                if written.status != 200:
                    continue
                token = {HEADER: written.headers[HEADER]}
                read = self.server.request(
                    "GET", path, headers={**self.headers, **token}
                )
                self.statuses[read.status] += 1
                if read.status == 200 and read.json["salary"] != value:
                    self.errors.append(f"stale read of {path}")
                plain = self.server.request("GET", path, headers=self.headers)
                self.statuses[plain.status] += 1
            except OSError as error:
                self.errors.append(repr(error))

    @contextmanager
    def running(self) -> Iterator[None]:
        threads = [threading.Thread(target=self.client, args=(p,)) for p in self.paths]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()


def readyz_until(server: LiveServer, state: str) -> Answer:
    """/readyz, asked until it reports the standby ``state`` (it reports what
    the process learnt at its last check: up to a check interval old)."""
    deadline = time.monotonic() + 10
    while True:
        answer = server.request("GET", "/readyz")
        if answer.status != 200 or answer.json["replicas"][0]["state"] == state:
            return answer
        assert time.monotonic() < deadline, f"/readyz never said {state}"
        time.sleep(0.05)


def read_from_standby(setup: Setup, server: LiveServer, path: str) -> bool:
    """Whether a read without a token is served by the standby: with replay
    paused after a write on the primary, only the standby shows the old value."""
    before = salary_of(server.request("GET", path, headers=setup.editor))
    setup.pg.wait_replayed()
    with replay_paused(setup):
        with committed(setup.primary) as connection:
            connection.execute(
                BUMP,
                {"id": int(path.rsplit("/", 1)[1])},
            )
        seen = salary_of(server.request("GET", path, headers=setup.editor))
    return seen == before


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_stopping_the_standby_under_load_costs_no_request_more_than_a_retry(
    setup: Setup, served, mode: str
):
    """``fast`` ends the standby's sessions; ``immediate`` is a crash."""
    server, log = served
    paths = [
        f"/api/v1/employees/{create_employee(server, setup.editor, f'{mode}{n}')}"
        for n in range(4)
    ]
    retries_before = log.read_text().count("retrying")
    load = Load(server, setup.editor, paths, Counter(), [], threading.Event())
    with load.running():
        time.sleep(2)
        setup.pg.stop_standby(mode)
        stopped = readyz_until(server, "down")
        time.sleep(2)
        setup.pg.start_standby()
        setup.standby.dispose()  # the test's own connections died with it
        time.sleep(2)
    retried = log.read_text().count("retrying") - retries_before
    sent = sum(load.statuses.values())
    print(
        f"\nstandby stopped ({mode}) under load: sent {sent}, retried {retried}, "
        f"503 {load.statuses[503]}, failed {len(load.errors)}, {dict(load.statuses)}"
    )
    assert load.errors == []
    assert set(load.statuses) == {200}
    assert stopped.status == 200  # a standby down leaves the service ready
    # Back in use once it streams again (down_seconds, then a check).
    deadline = time.monotonic() + 15
    while not read_from_standby(setup, server, paths[0]):
        assert time.monotonic() < deadline, "reads never went back to the standby"
        time.sleep(0.5)
    assert readyz_until(server, "streaming").status == 200
