"""A PostgreSQL 15 primary and a hot standby on this host, for tests and benchmarks.

The primary (port 5441) is made by ``initdb`` with ``wal_level = replica``
and trust authentication on 127.0.0.1 (initdb's default pg_hba.conf also
lets 127.0.0.1 connect for replication); the standby (port 5442) is a copy
taken from it by ``pg_basebackup -R``, which writes ``standby.signal`` and
the ``primary_conninfo`` it streams from. Both live under one base
directory owned by ``postgres``: PostgreSQL's tools refuse to run as root,
so every command runs as that user (``runuser``) when we are root.

    with cluster(Path("/tmp/s")) as running:
        running.primary_url, running.standby_url  # SQLAlchemy URLs
        running.stop_standby()  # a drill: the standby goes away...
        running.start_standby()  # ...and comes back, streaming again

``python -m dev.clusters.standby up --dir D`` leaves one running
(D new or empty: it is marked as ours and handed to postgres); ``down --dir
D`` stops it and removes D, and refuses a D that ``up`` did not mark.
"""

import argparse
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import psycopg

from dev.clusters import Command, claim, claimed, is_ours, kill_group, release

BIN = Path("/usr/lib/postgresql/15/bin")
PRIMARY_PORT = 5441
STANDBY_PORT = 5442
DATABASE = "company_service"
USER = "postgres"
KIND = "standby"
START_SECONDS = 60
# Appended to both servers' postgresql.conf (the standby's is a copy).
SETTINGS = """
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 4
hot_standby = on
# Readers on the standby hold back the primary's cleanup instead of being
# cancelled by replay conflicts (the default cancels them after 30 s).
hot_standby_feedback = on
shared_buffers = 32MB
"""


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL's tools refuse root: run them as ``postgres`` when we are root."""
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else [*command]


def _run(*command: str) -> None:
    """Run a PostgreSQL tool; its own words, if it fails, in the exception."""
    done = subprocess.run(  # noqa: S603 (PostgreSQL's own tools, our own arguments)
        _as_postgres(*command), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(command[0]).name} failed ({done.returncode}): "
            f"{done.stderr.strip() or done.stdout.strip()}"
        )


def _let_postgres_through(base: Path) -> None:
    """PostgreSQL runs as ``postgres``: every directory above ``base`` must let
    it pass. A temporary directory (mkdtemp makes them 0700) is opened for
    passing only (o+x, no listing); anywhere else we refuse, with advice."""
    if os.geteuid() != 0:
        return
    temporary = Path(tempfile.gettempdir()).resolve()
    for parent in base.resolve().parents:
        mode = parent.stat().st_mode
        if mode & stat.S_IXOTH:
            continue
        if parent != temporary and temporary not in parent.parents:
            raise RuntimeError(
                f"{parent} does not let the postgres user through: choose a "
                f"directory under {temporary}, or chmod o+x {parent}"
            )
        parent.chmod(mode | stat.S_IXOTH)


def _url(port: int) -> str:
    return f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{DATABASE}"


def _connect(port: int, dbname: str = DATABASE) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1", port=port, user=USER, dbname=dbname, autocommit=True,
        connect_timeout=2,
    )  # fmt: skip


@dataclass
class Cluster:
    """The two servers' directories; what a test or a drill needs to drive them."""

    base: Path
    startup_seconds: float = 0.0
    primary_dir: Path = field(init=False)
    standby_dir: Path = field(init=False)
    primary_url: ClassVar[str] = _url(PRIMARY_PORT)
    standby_url: ClassVar[str] = _url(STANDBY_PORT)

    def __post_init__(self) -> None:
        # Absolute, as pg_ctl passes it to each postmaster: stop() recognises
        # our servers by it.
        self.base = self.base.resolve()
        self.primary_dir = self.base / "primary"
        self.standby_dir = self.base / "standby"

    def _pg_ctl(self, datadir: Path, *arguments: str) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(datadir), *arguments)

    def _start(self, datadir: Path) -> None:
        log = self.base / f"{datadir.name}.log"
        try:
            self._pg_ctl(
                datadir, "-l", str(log), "-w", "-t", str(START_SECONDS), "start"
            )
        except RuntimeError as error:
            tail = log.read_text().strip().splitlines()[-3:] if log.exists() else []
            raise RuntimeError("\n".join([str(error), *tail])) from None

    def stop_standby(self, mode: str = "fast") -> None:
        """Stop the standby: ``fast`` ends its sessions, ``immediate`` is a crash."""
        self._pg_ctl(self.standby_dir, "-m", mode, "-w", "stop")

    def start_standby(self) -> None:
        """Start the standby again and return once it streams from the primary."""
        self._start(self.standby_dir)
        self.wait_streaming()

    def wait_streaming(self) -> None:
        """Until the primary lists the standby as streaming (pg_stat_replication)."""
        deadline = time.monotonic() + START_SECONDS
        with _connect(PRIMARY_PORT) as primary:
            while True:
                states = primary.execute(
                    "SELECT state FROM pg_stat_replication"
                ).fetchall()
                if ("streaming",) in states:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the standby does not stream: {states}")
                time.sleep(0.05)

    def wait_replayed(self) -> None:
        """Until the standby has replayed everything the primary has written."""
        with _connect(PRIMARY_PORT) as primary, _connect(STANDBY_PORT) as standby:
            lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
            deadline = time.monotonic() + START_SECONDS
            query = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
            while standby.execute(query, lsn).fetchone() != (True,):
                if time.monotonic() > deadline:
                    raise RuntimeError("the standby does not catch up")
                time.sleep(0.01)

    def start(self) -> None:
        """initdb, start the primary, create the database, copy it, start the
        copy; in ``base``, which must be new or empty (it goes to postgres,
        and is removed by :meth:`stop`)."""
        started = time.monotonic()
        claim(self.base, KIND)
        _let_postgres_through(self.base)
        if os.geteuid() == 0:
            shutil.chown(self.base, USER, USER)
        _run(
            str(BIN / "initdb"), "-D", str(self.primary_dir), "-U", USER,
            "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write(SETTINGS)
            conf.write(
                f"port = {PRIMARY_PORT}\nunix_socket_directories = '{self.base}'\n"
            )
        self._start(self.primary_dir)
        with _connect(PRIMARY_PORT, "postgres") as primary:
            primary.execute("CREATE DATABASE company_service")  # DATABASE
        _run(
            str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(PRIMARY_PORT),
            "-U", USER, "-D", str(self.standby_dir), "-R", "-X", "stream",
            "-c", "fast", "--no-sync",
        )  # fmt: skip
        with (self.standby_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {STANDBY_PORT}\n")
        self.start_standby()
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> bool:
        """Stop both servers at once (nothing here needs keeping) and remove
        the directory; a server pg_ctl could not stop is killed, with its
        backends. Only a directory :meth:`start` marked, and only a pid still
        running as a postmaster of its data directory (a stale pid file's
        number may be another process's by now). Whether it was ours."""
        if not claimed(self.base, KIND):
            return False
        for datadir in (self.standby_dir, self.primary_dir):
            try:
                pid = int((datadir / "postmaster.pid").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if not is_ours(pid, datadir):
                continue
            with suppress(RuntimeError):
                self._pg_ctl(datadir, "-m", "immediate", "-w", "stop")
            if is_ours(pid, datadir):
                kill_group(pid)
        return release(self.base, KIND)


@contextmanager
def cluster(base: Path) -> Iterator[Cluster]:
    """A primary and a streaming hot standby under ``base``, always torn down."""
    running = Cluster(base)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _up(options: argparse.Namespace) -> None:
    running = Cluster(options.dir)
    try:
        running.start()
    except BaseException:
        running.stop()
        raise
    print(f"primary: {running.primary_url}")
    print(f"standby: {running.standby_url}")
    print(f"started in {running.startup_seconds:.1f} s")


def main(argv: list[str] | None = None) -> None:
    Command(
        "standby", "A PostgreSQL primary (5441) and hot standby (5442) on this host."
    ).run(argv, _up, lambda directory: Cluster(directory).stop())


if __name__ == "__main__":
    main()
