"""Running the project's commands (company-service, pshell, alembic) as the
real processes an operator would, for the CLI and import tests."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run(
    *args: str, database_url: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, status: int = 1) -> str:
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
