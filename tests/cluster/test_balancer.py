"""Two service processes behind haproxy: a rolling restart under load loses
no request, and a cursor made by one process pages on in any other.

One throw-away database on the shared PostgreSQL (two processes on SQLite
would test SQLite's locking, not the balancer), dropped afterwards. The
processes run production.ini with a short drain; haproxy checks /readyz
every CHECK_MS.
"""

import http.client
import itertools
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, select

from company_service.clusters.balancer import (
    Balancer,
    ensure_haproxy,
    example,
    haproxy,
)
from company_service.db import make_engine
from company_service.models import Department
from company_service.testing import (
    ROOT,
    LiveServer,
    Process,
    bearer,
    committed,
    live_server,
    rebuild_schema,
    store_token,
)

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
CHECK_MS = 200  # haproxy's check interval; fall 2: out after 2 failed checks
DRAIN_SECONDS = "1.2"  # > fall x inter, with room for a slow check
CLIENTS = 4
DEPARTMENTS = "/api/v1/departments"


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, Engine]]:
    plain = f"cs_balancer_{os.getpid()}"
    name = sql.Identifier(plain)
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{plain}"
    engine = make_engine({"sqlalchemy.url": url})
    try:
        rebuild_schema(engine)
        yield url, engine
    finally:
        engine.dispose()
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name)
            )


@dataclass
class Slot:
    """One service process, and what stops it."""

    port: int
    process: Process
    stack: ExitStack
    server: LiveServer


@dataclass
class Cluster:
    url: str
    workdir: Path
    slots: list[Slot] = field(default_factory=list)

    def start(self, port: int | None = None) -> Slot:
        stack, process = ExitStack(), Process()
        server = stack.enter_context(
            live_server(
                ROOT / "production.ini",
                self.url,
                self.workdir,
                server_options={"drain_seconds": DRAIN_SECONDS},
                process=process,
                port=port,
            )
        )
        return Slot(server.port, process, stack, server)


@pytest.fixture(scope="module")
def cluster(database, tmp_path_factory) -> Iterator[tuple[Cluster, Balancer]]:
    ensure_haproxy()
    workdir = tmp_path_factory.mktemp("balancer")
    cluster = Cluster(database[0], workdir)
    try:
        cluster.slots = [cluster.start(), cluster.start()]
        backends = [("127.0.0.1", slot.port) for slot in cluster.slots]
        with haproxy(backends, workdir / "haproxy", CHECK_MS) as balancer:
            yield cluster, balancer
    finally:
        for slot in cluster.slots:
            slot.stack.close()


@pytest.fixture(scope="module")
def token(database) -> str:
    with committed(database[1]) as connection:
        return store_token(connection, "editor")


def stored_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Department.name)))


# --- the configuration -------------------------------------------------------


def test_the_operators_example_is_the_template_the_tests_run():
    """docs/haproxy.cfg is made by the module: one source of truth."""
    assert (ROOT / "docs" / "haproxy.cfg").read_text() == example()


def test_the_example_is_a_valid_haproxy_configuration(tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text(example().replace("/run/haproxy/", f"{tmp_path}/"))
    checked = subprocess.run(
        [ensure_haproxy(), "-c", "-f", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- cursors across processes ------------------------------------------------


def test_a_cursor_made_by_one_process_pages_on_in_the_other(cluster, token, database):
    one, other = (slot.server for slot in cluster[0].slots)
    for n in range(5):
        answer = one.request("POST", DEPARTMENTS, {"name": f"paged-{n}"}, bearer(token))
        assert answer.status == 201
    everything = one.request("GET", f"{DEPARTMENTS}?limit=500", None, bearer(token))
    first = one.request("GET", f"{DEPARTMENTS}?limit=2&sort=name", None, bearer(token))
    cursor = first.json["next_cursor"]
    second = other.request(
        "GET", f"{DEPARTMENTS}?limit=2&sort=name&cursor={cursor}", None, bearer(token)
    )
    assert second.status == 200, second.body
    names = sorted(item["name"] for item in everything.json["items"])
    assert [i["name"] for i in first.json["items"] + second.json["items"]] == names[:4]
    assert sorted(stored_names(database[1])) == names


# --- the rolling restart -----------------------------------------------------


@dataclass
class Tally:
    """What the clients were told, to hold against the database afterwards."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0  # requests, each counted once however often it was retried
    retried: int = 0  # attempts repeated after a 503 or a broken connection
    failed: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)


RETRYABLE = (OSError, http.client.HTTPException)


def send(
    balancer: LiveServer, tally: Tally, method: str, path: str, body=None, headers=None
) -> int | None:
    """The request, retried (same Idempotency-Key) after a 503 or a broken
    connection up to four times; its final status, or None."""
    with tally.lock:
        tally.sent += 1
    for attempt in range(5):
        if attempt:
            with tally.lock:
                tally.retried += 1
            time.sleep(0.1)
        try:
            answer = balancer.request(method, path, body, headers)
        except RETRYABLE:
            continue
        with tally.lock:
            tally.statuses[answer.status] += 1
        if answer.status != 503:
            if method == "POST" and answer.status == 201:
                with tally.lock:
                    tally.acknowledged.add(body["name"])
            return answer.status
    return None


def client(
    number: int,
    balancer: LiveServer,
    token: str,
    one: str,
    tally: Tally,
    stop: threading.Event,
) -> None:
    rng = random.Random(number)  # noqa: S311 (reproducible choices)
    auth = bearer(token)
    for n in itertools.count():
        if stop.is_set():
            return
        kind = rng.choice(("list", "list", "create", "one"))
        if kind == "create":
            headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
            body = {"name": f"rolling-{number}-{n}"}
            expected, got = (
                201,
                send(balancer, tally, "POST", DEPARTMENTS, body, headers),
            )
        else:
            path = one if kind == "one" else f"{DEPARTMENTS}?limit=5"
            expected, got = 200, send(balancer, tally, "GET", path, None, auth)
        if got != expected:
            with tally.lock:
                tally.failed.append(f"{kind}: {got}")


def serves(port: int) -> bool:
    """A request straight to the process is answered (a connection alone
    proves nothing: the kernel completes it while nobody accepts)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except RETRYABLE:
        return False
    finally:
        connection.close()


def restart(cluster: Cluster, balancer: Balancer, index: int) -> None:
    """SIGTERM, out of rotation while still serving, exited, started anew on
    the same port, back in rotation."""
    slot = cluster.slots[index]
    name = f"s{index + 1}"
    popen = slot.process.popen
    assert popen is not None
    popen.send_signal(signal.SIGTERM)
    balancer.wait_for(name, "DOWN", timeout=10)
    # haproxy took it out while it still serves: the listener closes later.
    assert serves(slot.port), "it stopped serving before it was out of rotation"
    assert popen.wait(timeout=30) == 0
    slot.stack.close()
    cluster.slots[index] = cluster.start(port=slot.port)
    balancer.wait_for(name, "UP", timeout=15)


def test_a_rolling_restart_under_load_loses_no_request(cluster, token, database):
    cluster_, balancer = cluster
    front = LiveServer(balancer.host, balancer.port)
    before = front.request(
        "GET", f"{DEPARTMENTS}?limit=2&sort=name", None, bearer(token)
    )
    cursor = before.json["next_cursor"]
    one = front.request("POST", DEPARTMENTS, {"name": "the one"}, bearer(token))
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(
            target=client,
            args=(n, front, token, f"{DEPARTMENTS}/{one.json['id']}", tally, stop),
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        for index in range(len(cluster_.slots)):
            restart(cluster_, balancer, index)
            time.sleep(1)  # both serve again before the next goes
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    stats = balancer.stats()["BACKEND"]
    print(
        f"\nrolling restart: sent {tally.sent}, retried {tally.retried},"
        f" failed {len(tally.failed)}, statuses {dict(tally.statuses)},"
        f" haproxy retried connections {stats['wretr']},"
        f" redispatched {stats['wredis']}, 5xx {stats['hrsp_5xx']}"
    )
    assert tally.failed == []
    assert tally.sent > 100, "the clients were not sending"
    assert tally.acknowledged <= set(stored_names(database[1])), "an ack was lost"
    stored = {n for n in stored_names(database[1]) if n.startswith("rolling-")}
    assert stored == tally.acknowledged, "a write was stored but not acknowledged"
    # A cursor made before both restarts pages on after them.
    after_cursor = front.request(
        "GET", f"{DEPARTMENTS}?limit=2&sort=name&cursor={cursor}", None, bearer(token)
    )
    assert after_cursor.status == 200, after_cursor.body
    assert after_cursor.json["items"][0]["name"] > before.json["items"][-1]["name"]
