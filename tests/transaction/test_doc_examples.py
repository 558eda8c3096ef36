"""The documents' examples, run as a reader runs them.

Every ```sh block of README.md and docs/*.md (README first, then the docs in
name order) runs, in order, in one bash session against a live server on a
fresh database with the sample data, as ``make run`` leaves it. The rule is
in docs/development.md, "The documents' examples": ```console and every other
block are shown, never run; ``localhost:6543`` is the live server; a command
fails the test when it exits non-zero, and a curl request when its status is
not the one its comment starts with (``# 412``), or not ``2xx`` without one.
The session runs twice, the second time on what the first left, so an
example with a fixed id, or one that cannot be run again, fails. The ```json
examples must validate as the representations they show, and the links
between the documents must name files.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import webtest
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from company_service.testing import ROOT, live_server

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
EXPECTED = re.compile(r"\s#\s*(\d{3})\b")
STATUS = re.compile(r"__status__ (\d+) (\d{3})")
FAILED = re.compile(r"__failed__ (\d+) (\d+)")

# Before the documents: what `make run` does before it serves, then the
# checks. The curl function reports each answer's status and the line that
# asked for it (a failure is its caller's); the trap, the line of a command
# that failed.
PREAMBLE = """\
set -Eeuo pipefail
trap 'echo "__failed__ $? $LINENO" >&2' ERR
.venv/bin/company-service initdb development.ini --sample-data
curl() {
  command curl --max-time 30 "$@" \\
    --write-out "%{stderr}__status__ ${BASH_LINENO[0]} %{http_code}\\n" || return
}
"""


@dataclass(frozen=True)
class Command:
    """One command of a block: its lines in the document, and the status its
    comment names (None: any 2xx)."""

    document: str
    first: int
    last: int
    text: str
    expected: int | None

    def where(self) -> str:
        return f"{self.document}:{self.first}: {self.text.splitlines()[0].strip()}"

    def accepts(self, status: int) -> bool:
        return status == self.expected if self.expected else 200 <= status < 300


def blocks(path: Path, wanted: str) -> Iterator[tuple[int, list[str]]]:
    """(line of the first line, lines) of each block fenced as ``wanted``,
    indentation removed."""
    block: list[str] | None = None
    indent, start, language = "", 0, ""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if block is None:
            if fence:
                indent, language = fence.group(1), fence.group(2)
                block, start = [], number + 1
        elif fence and fence.group(2) == "":
            if language == wanted:
                yield start, block
            block = None
        else:
            block.append(line.removeprefix(indent))


def commands(document: str, start: int, lines: list[str]) -> Iterator[Command]:
    """The block's commands: a line continued by a backslash, or by a quote
    still open, belongs to the command before it."""
    first = 0
    for index in range(len(lines)):
        text = "\n".join(lines[first : index + 1])
        if text.endswith("\\"):
            continue
        try:
            shlex.split(text, comments=True)
        except ValueError:  # a quote still open
            continue
        expected = EXPECTED.search(text)
        yield Command(
            document,
            start + first,
            start + index,
            text,
            int(expected.group(1)) if expected else None,
        )
        first = index + 1


@dataclass
class Script:
    text: str
    commands: dict[int, Command]  # the script's line numbers

    def command_at(self, line: int) -> Command | None:
        return self.commands.get(line)


def script(port: int) -> Script:
    lines = PREAMBLE.splitlines()
    at: dict[int, Command] = {}
    for path in DOCUMENTS:
        document = str(path.relative_to(ROOT))
        for start, block in blocks(path, "sh"):
            for command in commands(document, start, block):
                text = command.text.replace("localhost:6543", f"localhost:{port}")
                for line in text.splitlines():
                    lines.append(line)
                    at[len(lines)] = command
    return Script("\n".join(lines) + "\n", at)


def problems(session: Script, run: "subprocess.CompletedProcess[str]") -> list[str]:
    found = []
    for line, status in STATUS.findall(run.stderr):
        command = session.command_at(int(line))
        if command is None:
            found.append(f"the test's own request answered {status}")
        elif not command.accepts(int(status)):
            expected = command.expected or "2xx"
            found.append(f"{command.where()}\n  answered {status}, not {expected}")
    failure = FAILED.search(run.stderr)
    if run.returncode != 0:
        command = session.command_at(int(failure.group(2))) if failure else None
        where = command.where() if command else "the preamble"
        status = failure.group(1) if failure else run.returncode
        found.append(f"{where}\n  exit status {status}")
    return found


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A reader's checkout: the ini files and .venv/bin, and room for the
    files the examples write."""
    for ini in ("development.ini", "production.ini", "testing.ini"):
        (tmp_path / ini).symlink_to(ROOT / ini)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    return tmp_path


def test_the_documents_have_examples_to_run():
    documents = {str(p.relative_to(ROOT)) for p in DOCUMENTS if any(blocks(p, "sh"))}
    assert {"README.md", "docs/usage.md"} <= documents


def test_a_comment_names_the_status_and_a_quote_continues_a_command():
    block = ["X=$(curl -d '{", '  "a": 1}\' \\', "  URL)   # 412: stale", "echo done"]
    first, second = commands("doc.md", 10, block)
    assert (first.first, first.last, first.expected) == (10, 12, 412)
    assert (second.first, second.expected) == (13, None)
    assert first.accepts(412) and not first.accepts(200)
    assert second.accepts(204) and not second.accepts(304)


def test_every_example_runs_twice_on_a_fresh_database(
    clean_database: Engine, database_url: str, workdir: Path
) -> None:
    with live_server(
        ROOT / "development.ini",
        database_url,
        workdir,
        app_options={"api.trusted_hosts": "localhost 127.0.0.1 [::1]"},
    ) as server:
        session = script(server.port)
        (workdir / "examples.sh").write_text(session.text)
        env = {**os.environ, "DATABASE_URL": database_url}
        for attempt in ("first", "second"):
            run = subprocess.run(
                ["bash", "examples.sh"],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            found = problems(session, run)
            assert not found, (
                f"the {attempt} run:\n"
                + "\n".join(found)
                + f"\n--- stderr:\n{run.stderr[-3000:]}"
            )


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_link_between_the_documents_names_a_file():
    broken = []
    for path in [*DOCUMENTS, ROOT / "SECURITY.md"]:
        for target in LINK.findall(path.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL, or a place in this document
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken


# The representations the documents show in ```json blocks.
REPRESENTATIONS = ("DepartmentOut", "EmployeeOut", "Problem", "Index")


def test_every_json_example_is_a_representation_the_service_answers(
    testapp: webtest.TestApp,
) -> None:
    """A ```json block that is JSON (not a shape with ``...``) validates
    against the schema of the OpenAPI document whose fields it has."""
    document = testapp.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    checked = []
    for path in DOCUMENTS:
        for start, block in blocks(path, "json"):
            try:
                example = json.loads("\n".join(block))
            except ValueError:
                continue
            names = [
                name
                for name in REPRESENTATIONS
                if set(schemas[name]["properties"]) == set(example)
            ]
            where = f"{path.relative_to(ROOT)}:{start}"
            assert len(names) == 1, f"{where}: which representation is this?"
            schema = {"$ref": f"#/components/schemas/{names[0]}", **document}
            errors = [
                e.message for e in Draft202012Validator(schema).iter_errors(example)
            ]
            assert not errors, f"{where}: {errors}"
            checked.append(names[0])
    assert {"DepartmentOut", "EmployeeOut", "Problem"} <= set(checked)
