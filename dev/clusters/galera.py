"""A MariaDB Galera cluster of three nodes on this host, for tests and benchmarks.

Each node is Debian's ``mariadbd`` with the ``galera-4`` provider, on ports
of its own (SQL 3311.., group communication 4571.., incremental state
transfer 4581.., rsync state transfer 4591..) and with every file under one
base directory. The first node is initialised by ``mariadb-install-db`` and
bootstraps the group (``--wsrep-new-cluster``); the others start empty and
receive a full copy by rsync (SST). Three nodes, not two: a node that dies
leaves two of three, a majority that keeps the primary component, where a
pair would be left with one of two and stop taking writes (error 1047).

The failure-detection timeouts are shortened (a dead node is suspected after
2 s instead of 5 s): until the group evicts it, every commit on the
survivors waits for it. See docs/scaling.md, section Galera.

    with cluster(Path("/tmp/g")) as running:
        running.urls  # one SQLAlchemy URL per node
        running.kill(2)  # SIGKILL node 2 (0-based)

``python -m dev.clusters.galera up --dir D`` leaves one running
(D new or empty: it is marked as ours and handed to mysql); ``down --dir D``
stops it and removes D, and refuses a D that ``up`` did not mark.
"""

import argparse
import pwd
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from dev.clusters import Command, claim, claimed, is_ours, kill_group, release

KIND = "galera"
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
SQL_PORT = 3311
GCOMM_PORT = 4571
IST_PORT = 4581
SST_PORT = 4591
DATABASE = "company_service"
CLUSTER_NAME = "company_service_test"
START_SECONDS = 90
# The nodes run as mysql, not root: the rsync daemon that receives a state
# transfer, started by root, would drop to "nobody" and be refused its own
# data directory. So the base directory must be reachable by mysql (not
# inside a 0700 directory such as pytest's tmp_path); start() owns it to mysql.
USER = "mysql"
# Quick failure detection for one host (defaults: keepalive 1 s, suspect 5 s,
# inactive 15 s); gcache small, the data is too. A read that waits for its
# node to catch up (wsrep_sync_wait) gives up after 4 s, not 30 s: below the
# service's statement timeout, so the client gets a retry or a 503 in time.
PROVIDER_OPTIONS = (
    "evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;"
    "evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.install_timeout=PT4S;"
    "repl.causal_read_timeout=PT4S;gcache.size=64M"
)


@dataclass
class Node:
    """One mariadbd: its ports, its files and, while it runs, its process."""

    index: int
    directory: Path
    process: "subprocess.Popen[bytes] | None" = None

    @property
    def port(self) -> int:
        return SQL_PORT + self.index

    @property
    def gcomm_port(self) -> int:
        return GCOMM_PORT + self.index

    @property
    def datadir(self) -> Path:
        return self.directory / "data"

    @property
    def pid_file(self) -> Path:
        return self.directory / "mariadbd.pid"

    @property
    def log(self) -> Path:
        return self.directory / "error.log"

    def url(self, database: str = DATABASE) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    def connect(self) -> pymysql.Connection:
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            connect_timeout=2,
            autocommit=True,  # no COMMIT: a node out of quorum refuses it
        )

    def status(self, name: str) -> str | None:
        """A ``SHOW STATUS`` value, or None when the node does not answer."""
        try:
            connection = self.connect()
        except pymysql.err.MySQLError:
            return None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
                row = cursor.fetchone()
                return None if row is None else str(row[1])
        except pymysql.err.MySQLError:
            return None
        finally:
            connection.close()


@dataclass
class Cluster:
    """The running nodes (0-based) and what it took to start them."""

    directory: Path
    nodes: list[Node]
    database: str = DATABASE
    startup_seconds: float = 0.0
    members: list[int] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [node.url(self.database) for node in self.nodes]

    def kill(self, index: int) -> None:
        """SIGKILL one node, with anything it started (a state transfer's
        script and rsync): no shutdown, no goodbye to the group."""
        node = self.nodes[index]
        if node.process is not None:
            kill_group(node.process.pid)
            node.process.wait()
            node.process = None

    def restart(self, index: int) -> None:
        """Start a killed node again; it rejoins by IST (or SST) and syncs."""
        node = self.nodes[index]
        node.pid_file.unlink(missing_ok=True)
        _start(node, len(self.nodes), bootstrap=False)
        _wait_for(_ready(node), node)

    def execute(self, index: int, statement: str) -> None:
        """Run one statement on one node, outside the service (admin work)."""
        connection = self.nodes[index].connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()


def _config(node: Node, size: int) -> Path:
    members = ",".join(f"127.0.0.1:{GCOMM_PORT + i}" for i in range(size))
    path = node.directory / "my.cnf"
    path.write_text(
        f"""[mysqld]
datadir = {node.datadir}
socket = {node.directory / "mariadbd.sock"}
pid-file = {node.pid_file}
log-error = {node.log}
port = {node.port}
bind-address = 127.0.0.1
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 2
performance_schema = OFF
max_connections = 200
wsrep_on = ON
wsrep_provider = {PROVIDER}
wsrep_cluster_name = {CLUSTER_NAME}
wsrep_cluster_address = gcomm://{members}
wsrep_node_name = node{node.index + 1}
wsrep_node_address = 127.0.0.1:{node.gcomm_port}
wsrep_node_incoming_address = 127.0.0.1:{node.port}
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:{SST_PORT + node.index}
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:{node.gcomm_port};\
ist.recv_addr=127.0.0.1:{IST_PORT + node.index};{PROVIDER_OPTIONS}"
"""
    )
    return path


def _start(node: Node, size: int, *, bootstrap: bool) -> None:
    config = _config(node, size)
    command = [
        MARIADBD,
        f"--defaults-file={config}",
        f"--user={USER}",
        *(["--wsrep-new-cluster"] if bootstrap else []),
    ]
    output = (node.directory / "stdout.log").open("ab")
    shutil.chown(config, USER, USER)
    # A session of its own: a developer's Ctrl-C in the starting shell does
    # not reach the nodes; teardown kills the group, the node and whatever
    # it started (the rsync state transfer's script and daemon).
    node.process = subprocess.Popen(  # noqa: S603 (our own command line)
        command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    output.close()


def _wait_for(ready: Callable[[], bool], node: Node) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if node.process is None or node.process.poll() is not None:
            raise RuntimeError(f"node {node.index} exited: {_tail(node.log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {node.index} not ready: {_tail(node.log)}")
        time.sleep(0.2)


def _ready(node: Node) -> Callable[[], bool]:
    return lambda: node.status("wsrep_ready") == "ON"


def _tail(path: Path) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-30:])
    return "(no log)"


def start(directory: Path, size: int = 3, database: str = DATABASE) -> Cluster:
    """Start ``size`` nodes under ``directory``, wait for a synced cluster of
    all of them, and create ``database`` (replicated to every node).

    ``directory`` must be new or empty (:func:`claim`): everything in it is
    handed to mysql, and removed at the end."""
    began = time.monotonic()
    directory = directory.resolve()
    _check_reachable(directory)
    claim(directory, KIND)
    nodes = [Node(i, directory / f"node{i + 1}") for i in range(size)]
    running = Cluster(directory, nodes, database)
    try:
        for node in nodes:
            node.datadir.mkdir(parents=True)
        for path in [directory, *directory.rglob("*")]:
            shutil.chown(path, USER, USER)
        subprocess.run(  # noqa: S603 (our own command line)
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={nodes[0].datadir}",
                f"--user={USER}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        _start(nodes[0], size, bootstrap=True)
        _wait_for(_ready(nodes[0]), nodes[0])
        # Joiners one at a time: a donor serves one rsync transfer at once.
        for node in nodes[1:]:
            _start(node, size, bootstrap=False)
            _wait_for(_ready(node), node)
        _wait_for(lambda: nodes[0].status("wsrep_cluster_size") == str(size), nodes[0])
        running.execute(
            0,
            f"CREATE DATABASE IF NOT EXISTS `{database}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        )
    except BaseException:
        stop(directory, running)
        raise
    running.startup_seconds = time.monotonic() - began
    return running


def _check_reachable(directory: Path) -> None:
    """Refuse a directory that mysql could not enter (a 0700 parent of
    root's), which would otherwise fail much later, in a state transfer."""
    owner = pwd.getpwnam(USER).pw_uid
    for parent in directory.parents:
        if not parent.exists():
            continue  # claim() creates it, with root's umask: o+x
        mode = parent.stat()
        if mode.st_uid != owner and not mode.st_mode & stat.S_IXOTH:
            raise ValueError(f"{USER} cannot enter {parent}: choose another --dir")


def stop(directory: Path, running: Cluster | None = None) -> bool:
    """Kill every node with the processes it started (by process group, and
    by pid file for a cluster started by another process: only a pid still
    running with ``directory`` in its arguments, and any rsync daemon a
    transfer left), then remove ``directory``. A directory that
    :func:`start` did not mark is left alone; whether it was ours."""
    directory = directory.resolve()
    for node in running.nodes if running else []:
        if node.process is not None:
            kill_group(node.process.pid)
            node.process.wait()
    if not claimed(directory, KIND):
        return False
    for pid_file in directory.rglob("*.pid"):
        with suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().split()[0])
            if is_ours(pid, directory):
                kill_group(pid)
    return release(directory, KIND)


@contextmanager
def cluster(
    directory: Path, nodes: int = 3, database: str = DATABASE
) -> Iterator[Cluster]:
    """A running cluster, always torn down and removed afterwards."""
    running = start(directory, nodes, database)
    try:
        yield running
    finally:
        stop(directory, running)


def _up(options: argparse.Namespace) -> None:
    running = start(options.dir, options.nodes)
    print(f"started in {running.startup_seconds:.1f} s")
    for url in running.urls:
        print(url)


def main(argv: list[str] | None = None) -> None:
    command = Command("galera", "Start or stop a MariaDB Galera cluster on this host.")
    command.add_argument("--nodes", type=int, default=3)
    command.run(argv, _up, stop)


if __name__ == "__main__":
    main()
