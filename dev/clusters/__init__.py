"""Clusters on one host, for tests, benchmarks and trying the topologies out.

Each module starts one topology on ports and in directories of its own and
tears it down again: ``galera`` (three MariaDB Galera nodes), ``standby`` (a
PostgreSQL primary and a hot standby), ``balancer`` (haproxy in front of
service processes). Each is also a command, run from the repository's root:
``python -m dev.clusters.<module> --help`` (:class:`Command`). See
docs/scaling.md.

Their directories and processes are handled with care, since a developer
types ``--dir`` by hand: ``up`` takes only a new or empty directory and
marks it (:func:`claim`); ``down`` and every teardown remove only a marked
one (:func:`release`) and signal only a process that is still the one a
pid file named (:func:`is_ours`), with the children it started
(:func:`kill_group`).
"""

import argparse
import os
import shutil
import signal
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

MARKER = ".company-service-cluster"


class NotOurs(RuntimeError):
    """A directory that these commands did not create and will not touch."""


def claim(directory: Path, kind: str) -> Path:
    """Create ``directory`` (or take an existing empty one) for ``kind`` and
    mark it; refuse anything else, so a mistyped ``--dir ~`` is never handed
    to another user or removed later. The resolved path."""
    directory = directory.resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise NotOurs(f"{directory} exists and is not empty: choose a new directory")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text(f"{kind}\n")
    return directory


def claimed(directory: Path, kind: str) -> bool:
    """Whether :func:`claim` marked ``directory`` for ``kind``."""
    try:
        return (directory / MARKER).read_text().split() == [kind]
    except OSError:
        return False


def release(directory: Path, kind: str) -> bool:
    """Remove ``directory`` if it is one :func:`claim` marked for ``kind``
    (it was new or empty then: all it holds is ours); else leave it alone.
    Whether it was removed."""
    if not claimed(directory, kind):
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


def arguments(pid: int) -> list[str] | None:
    """A running process's arguments, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_ours(pid: int, directory: Path) -> bool:
    """Whether ``pid`` runs with ``directory``, or a path under it, in its
    arguments: a pid file outlives its process, and its number may belong
    to another process by now."""
    found = arguments(pid) or []
    return any(a == str(directory) or f"{directory}/" in a for a in found)


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal ``pid`` and, if it leads a process group (our servers start in
    sessions of their own), every process of the group: the scripts and
    rsync daemons a state transfer started outlive their parent otherwise.
    A leader that already died (and was reaped) is signalled as a group
    too: the kernel keeps a group's id, so no new process gets it, until
    the last member is gone."""
    try:
        leader = os.getpgid(pid) == pid
    except ProcessLookupError:
        leader = True
    with suppress(ProcessLookupError, PermissionError):
        if leader:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def identity(pid: int) -> str | None:
    """``pid`` and its start time (clock ticks after boot): unlike the pid
    alone, never the same for two processes. None if it is gone (or a
    zombie: it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else f"{pid} {fields[19]}"


class Command(argparse.ArgumentParser):
    """``python -m dev.clusters.<module> up|down --dir D``: a module adds
    its own options, then :meth:`run` starts or stops its topology."""

    def __init__(self, module: str, description: str) -> None:
        super().__init__(
            prog=f"python -m dev.clusters.{module}", description=description
        )
        self.add_argument("action", choices=["up", "down"])
        self.add_argument("--dir", type=Path, required=True, help="base directory")

    def run(
        self,
        argv: list[str] | None,
        up: Callable[[argparse.Namespace], None],
        down: Callable[[Path], bool],
    ) -> None:
        """``up`` with the parsed options, or ``down`` with the directory; a
        directory that is not ours is refused in a sentence, not a traceback."""
        options = self.parse_args(argv)
        if options.action == "down":
            if not down(options.dir):
                raise SystemExit(
                    f"{options.dir} is not a cluster that up made: left alone"
                )
            return
        try:
            up(options)
        except NotOurs as refused:
            raise SystemExit(str(refused)) from None
