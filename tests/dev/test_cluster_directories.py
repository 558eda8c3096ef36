"""How the cluster commands treat a directory and a pid they are handed
(dev/clusters/__init__.py): only what they made, only what
still runs as theirs."""

import os
import subprocess
import sys
import time

import pytest

from dev.clusters import (
    MARKER,
    NotOurs,
    arguments,
    claim,
    claimed,
    identity,
    is_ours,
    kill_group,
    release,
)


def test_a_new_or_empty_directory_is_claimed_and_released(tmp_path):
    new, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for directory in (new, empty):
        assert claim(directory, "galera") == directory.resolve()
        assert claimed(directory, "galera")
        assert not claimed(directory, "standby")  # one kind's, not another's
        (directory / "datadir").mkdir()
        assert release(directory, "galera")
        assert not directory.exists()


def test_anything_else_is_refused_and_left_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(NotOurs, match="not empty"):
        claim(home, "galera")
    assert not release(home, "galera")
    (home / MARKER).write_text("standby\n")  # another command's mark
    assert not release(home, "galera")
    assert (home / "thesis.tex").read_text() == "years of work"


def test_a_pid_is_ours_only_while_it_runs_with_our_directory(tmp_path):
    # A process with a path under tmp_path among its arguments, as a server
    # started with its data directory has.
    wait = "import sys, time; time.sleep(30)"
    mine = subprocess.Popen(
        [sys.executable, "-c", wait, str(tmp_path / "datadir")],
        start_new_session=True,
    )
    try:
        # Seen on a loaded CI: /proc/<pid>/cmdline briefly not yet the new
        # program's right after Popen returns.
        deadline = time.monotonic() + 10
        while not is_ours(mine.pid, tmp_path) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert is_ours(mine.pid, tmp_path), arguments(mine.pid)
        assert not is_ours(mine.pid, tmp_path / "elsewhere")
        started = identity(mine.pid)
        assert started is not None and started.startswith(f"{mine.pid} ")
        kill_group(mine.pid)
        mine.wait(timeout=10)
    finally:
        mine.kill()
    assert identity(mine.pid) is None
    assert not is_ours(mine.pid, tmp_path)


def test_a_group_is_killed_with_its_children(tmp_path):
    """A leader's children (rsync under a state transfer) die with it."""
    leader = subprocess.Popen(
        ["sh", "-c", "sleep 30 & echo $!; wait"],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    kill_group(leader.pid)
    leader.wait(timeout=10)
    deadline = time.monotonic() + 5
    while identity(child) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert identity(child) is None
    kill_group(leader.pid)  # gone already: no error
    assert os.getpid() > 0
