"""The company-service command and pshell, run as real processes."""

import re
import subprocess
from importlib.metadata import version
from itertools import pairwise

import pytest
from sqlalchemy import select

from company_service.models import ApiToken, Department, Employee
from company_service.testing import TESTING_INI, bearer, count_rows
from tests.support.cli import assert_one_line_error, run


@pytest.fixture
def cli(database_url, clean_database):
    def invoke(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return run(*args, database_url=database_url, stdin=stdin)

    return invoke


def management_depth(engine) -> int:
    with engine.connect() as connection:
        managers = {
            id_: manager
            for id_, manager in connection.execute(
                select(Employee.id, Employee.manager_id)
            )
        }

    def depth(employee_id):
        steps = 0
        while managers[employee_id] is not None:
            employee_id, steps = managers[employee_id], steps + 1
        return steps

    return max(depth(e) for e in managers)


def test_initdb_with_sample_data_is_idempotent(cli, engine):
    first = cli("company-service", "initdb", TESTING_INI, "--sample-data")
    assert first.returncode == 0, first.stderr
    assert "added 8 departments and 200 employees" in first.stderr
    second = cli("company-service", "initdb", TESTING_INI, "--sample-data")
    assert second.returncode == 0, second.stderr
    assert "added 0 departments and 0 employees" in second.stderr
    assert count_rows(engine, Department) == 8
    assert count_rows(engine, Employee) == 200
    assert management_depth(engine) >= 4


def test_create_token_prints_only_the_token_which_then_works_until_revoked(
    cli, engine, real_app, app, monkeypatch
):
    created = cli(
        "company-service",
        "create-token",
        TESTING_INI,
        "--role",
        "reader",
        "--name",
        "ci",
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == token + "\n"
    with engine.connect() as connection:
        stored = connection.scalar(
            select(ApiToken.token_hash).where(ApiToken.name == "ci")
        )
    assert stored and token not in stored

    cache = app.registry["token_cache"]
    now = [0.0]
    monkeypatch.setattr(cache, "clock", lambda: now[0])
    real_app.get("/api/v1/_probe/whoami", headers=bearer(token), status=200)
    revoked = cli("company-service", "revoke-token", TESTING_INI, "ci")
    assert revoked.returncode == 0, revoked.stderr
    # Kept for auth.token_cache_seconds after it was read, then refused.
    now[0] = cache.seconds - 0.1
    real_app.get("/api/v1/_probe/whoami", headers=bearer(token), status=200)
    now[0] = cache.seconds
    real_app.get("/api/v1/_probe/whoami", headers=bearer(token), status=401)


def test_a_duplicate_token_name_is_refused(cli):
    create = ("create-token", TESTING_INI, "--role", "editor", "--name", "x")
    assert cli("company-service", *create).returncode == 0
    line = assert_one_line_error(cli("company-service", *create))
    assert "already exists" in line


def active_tokens_named(engine, name: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(ApiToken.role).where(
                    ApiToken.name == name, ApiToken.revoked_at.is_(None)
                )
            )
        )


def test_replace_gives_the_name_a_new_token_and_refuses_the_old(
    cli, engine, real_app, app, monkeypatch
):
    def create(*extra: str) -> str:
        created = cli("company-service", "create-token", TESTING_INI, *extra)
        assert created.returncode == 0, created.stderr
        assert "shown only this once" in created.stderr
        assert "keeps only its hash" in created.stderr
        return created.stdout.strip()

    old = create("--role", "editor", "--name", "deploy")
    cache = app.registry["token_cache"]
    now = [0.0]
    monkeypatch.setattr(cache, "clock", lambda: now[0])
    real_app.get("/api/v1/_probe/whoami", headers=bearer(old), status=200)

    new = create("--role", "reader", "--name", "deploy", "--replace")
    assert new != old
    assert active_tokens_named(engine, "deploy") == ["reader"]
    now[0] = cache.seconds  # past what the cache may still remember of the old
    real_app.get("/api/v1/_probe/whoami", headers=bearer(old), status=401)
    whoami = real_app.get("/api/v1/_probe/whoami", headers=bearer(new), status=200)
    assert whoami.json == {"name": "deploy", "role": "reader"}

    # A revoked name, and a name never used, get a token the same way.
    assert cli("company-service", "revoke-token", TESTING_INI, "deploy").returncode == 0
    again = create("--role", "editor", "--name", "deploy", "--replace")
    real_app.get("/api/v1/_probe/whoami", headers=bearer(again), status=200)
    assert active_tokens_named(engine, "deploy") == ["editor"]
    create("--role", "editor", "--name", "fresh", "--replace")
    assert active_tokens_named(engine, "fresh") == ["editor"]


def test_without_a_name_each_token_gets_a_fresh_one(cli, engine):
    for _ in range(2):
        created = cli(
            "company-service", "create-token", TESTING_INI, "--role", "reader"
        )
        assert created.returncode == 0, created.stderr
    assert count_rows(engine, ApiToken, ApiToken.revoked_at.is_(None)) == 2


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (("create-token", TESTING_INI, "--role", "admin"), 2, "invalid choice"),
        (("initdb", "missing.ini"), 1, "no such config file"),
        (("revoke-token", TESTING_INI, "nobody"), 1, "no active token"),
        (("frobnicate",), 2, "invalid choice"),
        (
            ("create-token", TESTING_INI, "--role", "reader", "--name", ""),
            1,
            "1 to 100",
        ),
        (("create-token", TESTING_INI, "--role", "reader", "--replace"), 2, "--name"),
    ],
    ids=[
        "unknown-role",
        "missing-ini",
        "unknown-token",
        "unknown-command",
        "empty-name",
        "replace-without-name",
    ],
)
def test_bad_input_is_one_clear_line(cli, args, status, says):
    assert says in assert_one_line_error(cli("company-service", *args), status)


# In a --help: a section's title, and an argument's first line (its help, if
# any, after two spaces or on the lines below, indented further).
SECTION = re.compile(r"[a-z][a-z ]*:")
ARGUMENT = re.compile(r" {2,4}(\S+(?: \S+)*)( {2,}\S.*)?")


def arguments_without_help(text: str) -> list[str]:
    missing, in_section = [], False
    lines = [*text.splitlines(), ""]
    for line, following in pairwise(lines):
        if SECTION.fullmatch(line):
            in_section = True
        elif not line.startswith(" "):  # a blank line or the epilog
            in_section = False
        elif not in_section or not (argument := ARGUMENT.fullmatch(line)):
            continue
        elif not argument[2] and not following.startswith(" " * 6):
            missing.append(argument[1])
    return missing


@pytest.mark.parametrize(
    "command", ["", "initdb", "create-token", "revoke-token", "import-csv"]
)
def test_help_is_plain_text_with_a_line_for_every_argument(command):
    result = run("company-service", *command.split(), "--help", database_url="")
    assert result.returncode == 0, result.stderr
    assert "usage: company-service" in result.stdout
    assert "``" not in result.stdout and ":class:" not in result.stdout
    assert arguments_without_help(result.stdout) == []


def test_version_is_the_installed_distribution_s():
    result = run("company-service", "--version", database_url="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"company-service {version('company_service')}\n"


def test_an_unreachable_database_is_one_clear_line():
    result = run(
        "company-service",
        "initdb",
        TESTING_INI,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    assert "cannot use the database" in assert_one_line_error(result)


def test_pshell_offers_dbsession_tm_and_models_and_commit_persists(cli, engine):
    script = (
        "dbsession.add(models.Department(name='From pshell'))\n"
        "tm.commit()\n"
        "dbsession.add(models.Department(name='Never committed'))\n"
    )
    result = cli("pshell", TESTING_INI, "-p", "python", stdin=script)
    assert result.returncode == 0, result.stderr
    assert count_rows(engine, Department, Department.name == "From pshell") == 1
    assert count_rows(engine, Department, Department.name == "Never committed") == 0


def test_pshell_commits_every_time_and_abort_discards(cli, engine):
    """One shell, several transactions: the session outlives each of them and
    joins the next, so every tm.commit() persists, tm.abort() discards, and
    raw SQL and Core writes commit like ORM ones. (At 6198dcb everything
    after the first commit was lost without an error.)"""
    script = "\n".join(
        [
            "from sqlalchemy import text, insert",
            "dbsession.add(models.Department(name='First'))",
            "tm.commit()",
            "dbsession.add(models.Department(name='Second'))",
            "dbsession.flush()",
            "tm.commit()",
            "dbsession.add(models.Department(name='Aborted'))",
            "dbsession.flush()",
            "tm.abort()",
            "dbsession.execute(text(\"UPDATE departments SET description = 'raw'"
            " WHERE name = 'First'\"))",
            "tm.commit()",
            "third = models.Department(name='Third')",
            "dbsession.add(third)",
            "tm.commit()",
            "print('names', sorted(d.name for d in"
            " dbsession.query(models.Department)))",
            "tm.abort()",
            "",
        ]
    )
    result = cli("pshell", TESTING_INI, "-p", "python", stdin=script)
    assert result.returncode == 0, result.stderr
    assert "names ['First', 'Second', 'Third']" in result.stdout, result.stdout
    for name in ("First", "Second", "Third"):
        assert count_rows(engine, Department, Department.name == name) == 1, name
    assert count_rows(engine, Department, Department.name == "Aborted") == 0
    raw = Department.name == "First", Department.description == "raw"
    assert count_rows(engine, Department, *raw) == 1


def test_alembic_command_line_works_with_the_ini(cli):
    result = cli("alembic", "-c", TESTING_INI, "current")
    assert result.returncode == 0, result.stderr
    assert "(head)" in result.stdout
