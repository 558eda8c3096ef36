"""Choosing the port: pserve's http_port variable, and a port already taken."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from company_service.testing import PSERVE, ROOT, LiveServer, free_port

DEVELOPMENT_INI = ROOT / "development.ini"


def pserve(*args: str, database_url: str, cwd: Path = ROOT) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [str(PSERVE), *args],
        cwd=cwd,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_port(process: "subprocess.Popen[str]", port: int) -> None:
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"pserve is not serving on {port}: {process.communicate()}")


@pytest.fixture
def held_port():
    """A port another program is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_http_port_on_the_command_line_chooses_the_port(database_url, engine):
    port = free_port()
    process = pserve("development.ini", f"http_port={port}", database_url=database_url)
    try:
        wait_for_port(process, port)
        answer = LiveServer("127.0.0.1", port).request("GET", "/readyz")
        assert (answer.status, answer.json["database"]) == (200, "ok")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def assert_refused(process: "subprocess.Popen[str]", port: int) -> str:
    """One line on stderr naming the port (after pserve's own "Starting
    server in PID n."), status 2, no traceback."""
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("Starting server in PID")
    assert f"port {port} is already in use" in lines[1]
    return lines[1]


def test_a_port_in_use_is_one_line_saying_how_to_choose_another(
    database_url, engine, held_port
):
    line = assert_refused(
        pserve("development.ini", f"http_port={held_port}", database_url=database_url),
        held_port,
    )
    assert "`pserve development.ini http_port=...`" in line
    assert "`make run PORT=...`" in line


def test_a_port_the_ini_names_itself_points_at_its_listen_setting(
    database_url, engine, held_port, tmp_path
):
    config = tmp_path / "fixed.ini"
    config.write_text(
        f"[app:main]\nuse = config:{DEVELOPMENT_INI}#main\n\n"
        f"[server:main]\nuse = egg:company_service#waitress\n"
        f"listen = 127.0.0.1:{held_port}\n"
    )
    line = assert_refused(
        pserve("fixed.ini", database_url=database_url, cwd=tmp_path), held_port
    )
    assert "the listen setting of [server:main] in fixed.ini" in line
