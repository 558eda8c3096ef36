"""Two service processes behind haproxy: a rolling restart under load loses
no request, a cursor made by one process pages on in any other, and the
previous release keeps serving while the expand revision is applied and its
processes are replaced one by one.

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
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select

from company_service.db import make_engine
from company_service.models import Department, IdempotencyKey
from company_service.testing import (
    ROOT,
    LiveServer,
    Process,
    alembic_config,
    bearer,
    committed,
    free_port,
    live_server,
    rebuild_schema,
    store_token,
)
from dev.clusters.balancer import Balancer, ensure_haproxy, example, haproxy
from tests.support.postgresql import throwaway_database

CHECK_MS = 200  # haproxy's check interval; fall 2: out after 2 failed checks
DRAIN_SECONDS = "3"  # > fall x inter (0.4 s), with room for slow checks on a loaded CI
CLIENTS = 4
DEPARTMENTS = "/api/v1/departments"


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, Engine]]:
    with throwaway_database("cs_balancer") as url:
        engine = make_engine({"sqlalchemy.url": url})
        try:
            rebuild_schema(engine)
            yield url, engine
        finally:
            engine.dispose()


@dataclass
class Slot:
    """One service process, and what stops it."""

    port: int
    process: Process
    stack: ExitStack
    server: LiveServer


def start(
    url: str, workdir: Path, port: int | None = None, tree: Path | None = None
) -> Slot:
    """A process of the previous release (``tree``) or of this one."""
    stack, process = ExitStack(), Process()
    server = stack.enter_context(
        live_server(
            (tree or ROOT) / "production.ini",
            url,
            workdir,
            server_options={"drain_seconds": DRAIN_SECONDS},
            process=process,
            pythonpath=(str(tree),) if tree else (),
            port=port,
        )
    )
    return Slot(server.port, process, stack, server)


@dataclass
class Cluster:
    url: str
    workdir: Path
    slots: list[Slot] = field(default_factory=list)

    def start(self, port: int | None = None) -> Slot:
        return start(self.url, self.workdir, port)


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


def test_with_no_process_ready_haproxy_answers_a_problem_503(tmp_path):
    nobody = ("127.0.0.1", free_port())  # nothing listens there
    with haproxy([nobody], tmp_path, CHECK_MS, wait_for_backends=False) as balancer:
        balancer.wait_for("s1", "DOWN")
        answer = LiveServer(balancer.host, balancer.port).request("GET", DEPARTMENTS)
    assert answer.status == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == "1"
    assert answer.json == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "no service process is ready",
    }


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
    errors: Counter[str] = field(default_factory=Counter)  # broken connections
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
        except RETRYABLE as error:
            with tally.lock:
                tally.errors[f"{method} {type(error).__name__}: {error}"] += 1
            continue
        with tally.lock:
            tally.statuses[answer.status] += 1
        if answer.status != 503:
            if method == "POST" and answer.status == 201:
                with tally.lock:
                    tally.acknowledged.add(body["name"])
            return answer.status
    return None


def assert_nothing_failed_or_lost(
    tally: Tally, engine: Engine, sent_at_least: int
) -> None:
    """The clients may retry, so that a failure is counted rather than ends
    the load; a rolling restart allows none: no retry, no 503, no broken
    connection, and the rows stored are exactly the acknowledged ones."""
    assert tally.failed == []
    assert (tally.retried, dict(tally.errors), tally.statuses[503]) == (0, {}, 0)
    assert tally.sent > sent_at_least, "the clients were not sending"
    stored = {n for n in stored_names(engine) if n.startswith("rolling-")}
    assert tally.acknowledged <= stored, "an acknowledged write was lost"
    assert stored == tally.acknowledged, "a write was stored but not acknowledged"


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


def replace(
    slots: list[Slot], index: int, balancer: Balancer, start_new: Callable[[int], Slot]
) -> None:
    """The rolling restart's step: SIGTERM, out of rotation while still
    serving, exited, ``start_new`` on the same port, back in rotation."""
    slot = slots[index]
    name = f"s{index + 1}"
    popen = slot.process.popen
    assert popen is not None
    signalled = time.monotonic()
    popen.send_signal(signal.SIGTERM)
    balancer.wait_for(name, "DOWN", timeout=10)
    out = time.monotonic() - signalled
    # haproxy took it out while it still serves: the listener closes later.
    assert serves(slot.port), "it stopped serving before it was out of rotation"
    assert popen.wait(timeout=30) == 0
    exited = time.monotonic() - signalled
    slot.stack.close()
    slots[index] = start_new(slot.port)
    balancer.wait_for(name, "UP", timeout=15)
    print(
        f"\n{name}: SIGTERM; out of rotation after {out:.2f} s, exited after"
        f" {exited:.2f} s, the new process in rotation after"
        f" {time.monotonic() - signalled:.2f} s"
    )


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
            replace(cluster_.slots, index, balancer, cluster_.start)
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
    assert_nothing_failed_or_lost(tally, database[1], sent_at_least=100)
    # A cursor made before both restarts pages on after them.
    after_cursor = front.request(
        "GET", f"{DEPARTMENTS}?limit=2&sort=name&cursor={cursor}", None, bearer(token)
    )
    assert after_cursor.status == 200, after_cursor.body
    assert after_cursor.json["items"][0]["name"] > before.json["items"][-1]["name"]


# --- a migration during a rolling restart (expand/contract) ------------------

EXPAND = "c8e1a4f2d6b3"  # idempotency_keys.request_id, expand
EXPAND_FILE = "company_service/alembic/versions/c8e1a4f2d6b3_idempotency_request_id.py"
WHICH_PACKAGE = "import company_service; print(company_service.__file__)"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def previous_release() -> str:
    """The last commit without the expand revision: the parent of the one
    that added it (HEAD while it is not committed yet)."""
    added = git("log", "-1", "--format=%H", "--diff-filter=A", "--", EXPAND_FILE)
    return git("rev-parse", f"{added}^" if added else "HEAD")


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory) -> Iterator[Path]:
    """The previous release in a worktree, checked to be what a server with
    it first on PYTHONPATH imports (as bench/run.py serves a base commit)."""
    commit = previous_release()
    assert EXPAND not in git("ls-tree", "-r", "--name-only", commit), commit
    tree = tmp_path_factory.mktemp("previous") / "tree"
    git("worktree", "add", "--quiet", "--detach", str(tree), commit)
    try:
        search_path = os.pathsep.join([str(tree), *(e for e in sys.path if e)])
        imported = subprocess.run(
            [sys.executable, "-c", WHICH_PACKAGE],
            env={**os.environ, "PYTHONPATH": search_path},
            cwd=tree.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(imported).is_relative_to(tree), imported
        yield tree
    finally:
        git("worktree", "remove", "--force", str(tree))


@pytest.fixture(scope="module")
def before_expand(tmp_path_factory) -> Iterator[tuple[str, Engine]]:
    """A throw-away database at the revision before the expand."""
    with throwaway_database("cs_expand") as url:
        engine = make_engine({"sqlalchemy.url": url})
        try:
            with engine.connect() as connection:
                config = alembic_config(connection)
                previous = ScriptDirectory.from_config(config).get_revision(EXPAND)
                assert previous is not None
                command.upgrade(config, str(previous.down_revision))
            yield url, engine
        finally:
            engine.dispose()


def post_with_key(server: LiveServer, token: str, name: str, key: str, rid: str):
    headers = {**bearer(token), "Idempotency-Key": key, "X-Request-ID": rid}
    return server.request("POST", DEPARTMENTS, {"name": name}, headers)


def test_the_previous_release_keeps_serving_across_the_expand_migration(
    before_expand, old_tree, tmp_path_factory
):
    """Two processes of the previous release behind haproxy, under load; the
    expand revision is applied; each process in turn is replaced by this
    release's code. No request fails; keys claimed by either code are
    replayed by the other; the new code records its request ids."""
    url, engine = before_expand
    workdir = tmp_path_factory.mktemp("expand")
    with committed(engine) as connection:
        token = store_token(connection, "editor")
    slots: list[Slot] = []
    tally, stop = Tally(), threading.Event()
    threads: list[threading.Thread] = []
    try:
        slots.extend(start(url, workdir, None, old_tree) for _ in range(2))
        backends = [("127.0.0.1", slot.port) for slot in slots]
        with haproxy(backends, workdir / "haproxy", CHECK_MS) as balancer:
            front = LiveServer(balancer.host, balancer.port)
            one = front.request("POST", DEPARTMENTS, {"name": "the one"}, bearer(token))
            path = f"{DEPARTMENTS}/{one.json['id']}"
            threads = [
                threading.Thread(
                    target=client, args=(n, front, token, path, tally, stop)
                )
                for n in range(CLIENTS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            with engine.connect() as connection:  # expand, under load
                command.upgrade(alembic_config(connection), EXPAND)
            time.sleep(0.5)
            replace(slots, 1, balancer, lambda port: start(url, workdir, port))
            old, new = slots[0].server, slots[1].server
            # Side by side: each replays the other's key.
            by_new = post_with_key(new, token, "by-new", "key-new", "rid-new")
            by_old = post_with_key(old, token, "by-old", "key-old", "rid-old")
            again_on_old = post_with_key(old, token, "by-new", "key-new", "rid-2")
            again_on_new = post_with_key(new, token, "by-old", "key-old", "rid-3")
            time.sleep(0.5)
            replace(slots, 0, balancer, lambda port: start(url, workdir, port))
            time.sleep(0.5)
            stop.set()  # before haproxy goes
            for thread in threads:
                thread.join(timeout=30)
    finally:
        stop.set()
        for slot in slots:
            slot.stack.close()
    print(
        f"\nrolling restart across the expand migration: sent {tally.sent},"
        f" retried {tally.retried}, failed {len(tally.failed)},"
        f" statuses {dict(tally.statuses)}, errors {dict(tally.errors)}"
    )
    assert_nothing_failed_or_lost(tally, engine, sent_at_least=50)
    assert (by_new.status, by_old.status) == (201, 201)
    for first, again in ((by_new, again_on_old), (by_old, again_on_new)):
        assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json == first.json
    with engine.connect() as connection:
        recorded = dict(
            connection.execute(
                select(IdempotencyKey.key, IdempotencyKey.request_id).where(
                    IdempotencyKey.key.in_(["key-new", "key-old"])
                )
            ).all()
        )
    assert recorded == {"key-new": "rid-new", "key-old": None}
    assert stored_names(engine).count("by-new") == 1
