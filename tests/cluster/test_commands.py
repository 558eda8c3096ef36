"""The cluster commands as docs/configuration.md and docs/scaling.md tell developers to
type them: ``python -m dev.clusters.<name> up|down --dir D``.

Each ``up`` must leave its topology running and say where; each ``down`` must
stop it and remove D; neither may touch a directory ``up`` did not make. The
other modules use the context managers; these are the same code reached the
way a person reaches it. Galera runs as one node here (its three-node start
is test_galera's): the command, not the cluster, is under test.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest

from company_service.testing import ROOT, LiveServer
from dev.clusters import NotOurs, balancer, galera, standby
from tests.support.postgresql import throwaway_database


@pytest.fixture
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory the database users can pass through (pytest's are 0700)."""
    base = tmp_path_factory.mktemp("commands")
    for parent in [base, *base.parents][:3]:
        parent.chmod(parent.stat().st_mode | 0o001)
    yield base


def refuses_foreign_directory(main, directory: Path) -> None:
    """A directory holding someone's file: ``up`` refuses it, ``down`` leaves
    it, and the file is still there."""
    directory.mkdir()
    keep = directory / "notes.txt"
    keep.write_text("mine")
    with pytest.raises((NotOurs, SystemExit)):
        main(["up", "--dir", str(directory)])
    with pytest.raises(SystemExit):
        main(["down", "--dir", str(directory)])
    assert keep.read_text() == "mine"


def test_standby_up_streams_and_down_removes_it(workdir: Path, capsys) -> None:
    directory = workdir / "standby"
    standby.main(["up", "--dir", str(directory)])
    try:
        said = capsys.readouterr().out
        assert "primary: postgresql+psycopg://postgres@127.0.0.1:5441/" in said
        with psycopg.connect(
            host="127.0.0.1", port=5442, user="postgres", dbname="company_service"
        ) as connection:
            assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (
                True,
            )
    finally:
        standby.main(["down", "--dir", str(directory)])
    assert not directory.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=5441, user="postgres", connect_timeout=2)


def test_galera_up_serves_and_down_removes_it(workdir: Path, capsys) -> None:
    directory = workdir / "galera"
    galera.main(["up", "--dir", str(directory), "--nodes", "1"])
    try:
        said = capsys.readouterr().out
        assert "127.0.0.1:3311/company_service" in said
        connection = pymysql.connect(host="127.0.0.1", port=3311, user="root")
        with connection, connection.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_ready'")
            assert cursor.fetchone() == ("wsrep_ready", "ON")
    finally:
        galera.main(["down", "--dir", str(directory)])
    assert not directory.exists()
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host="127.0.0.1", port=3311, user="root", connect_timeout=2)


@pytest.fixture
def database_url() -> Iterator[str]:
    with throwaway_database("cs_commands") as url:
        yield url


def test_balancer_up_serves_until_down(workdir: Path, database_url: str) -> None:
    directory = workdir / "lb"
    up = subprocess.Popen(
        [
            sys.executable, "-m", "dev.clusters.balancer", "up",
            "--dir", str(directory), "--ini", str(ROOT / "production.ini"),
            "--processes", "1",
        ],
        env={**os.environ, "DATABASE_URL": database_url, "CURSOR_SECRET": "commands"},
        cwd=ROOT,  # where the docs run it: dev/ is importable from there only
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert up.stdout is not None
        line = up.stdout.readline()  # printed once haproxy has the process UP
        assert line.startswith("http://127.0.0.1:"), line
        port = int(line.split()[0].rsplit(":", 1)[1])
        answer = LiveServer("127.0.0.1", port).request("GET", "/readyz")
        assert (answer.status, answer.json["status"]) == (200, "ok")
    finally:
        balancer.main(["down", "--dir", str(directory)])
        returned = up.wait(timeout=60)
    assert returned == 0
    assert not directory.exists()


@pytest.mark.parametrize("module", [galera, standby, balancer])
def test_a_directory_up_did_not_make_is_left_alone(workdir: Path, module) -> None:
    refuses_foreign_directory(module.main, workdir / module.__name__.rsplit(".")[-1])
