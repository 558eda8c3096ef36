"""The ``company-service`` command: initdb, create-token, revoke-token, import-csv.

Every command that changes data runs inside the same machinery as a request
(``pyramid.paster.bootstrap`` builds the app; ``request.tm`` commits or aborts
``request.dbsession``), so a script gets the same all-or-nothing guarantee.
Errors are one line on stderr and a non-zero exit, never a traceback.
"""

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn, TextIO

import transaction
from pyramid.paster import bootstrap, get_appsettings
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from . import sample_data
from .db import database_url, make_engine, open_session
from .models import ROLES, ApiToken
from .services.employee_csv import BadLine
from .services.employee_import import EmployeeImport
from .tokens import hash_token, new_token

PROG = "company-service"


class CommandError(Exception):
    """A failure to report as one line; the message is for the operator."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def config_path(config_uri: str) -> str:
    """Check the ini exists before Paste turns its absence into a traceback."""
    path = config_uri.partition("#")[0]
    if not Path(path).is_file():
        raise CommandError(f"no such config file: {path}")
    return config_uri


@contextmanager
def app_session(config_uri: str) -> Iterator[Session]:
    """A writer's session of the configured app, in one transaction, joined
    as a writing request's is."""
    with bootstrap(config_uri) as env, transaction.manager:
        yield open_session(env["registry"], writes=True)


def initdb(args: argparse.Namespace) -> None:
    # Imported here: alembic slows every command's start; only initdb migrates.
    from alembic import command
    from alembic.config import Config as AlembicConfig

    settings = get_appsettings(args.config_uri)
    engine = make_engine(settings)
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", "company_service:alembic")
    try:
        with engine.connect() as connection:  # the migrations begin their own
            alembic_config.attributes["connection"] = connection
            command.upgrade(alembic_config, "head")
    finally:
        engine.dispose()
    print("database is at the newest schema revision", file=sys.stderr)
    if args.sample_data:
        with app_session(args.config_uri) as session:
            departments, employees = sample_data.load(session)
        print(
            f"sample data: added {departments} departments and {employees} employees",
            file=sys.stderr,
        )


def create_token(args: argparse.Namespace) -> None:
    """A new token: under a fresh name, or with ``--replace`` in place of the
    token of that name (revoked or not), in one transaction."""
    name = args.name if args.name is not None else f"{args.role}-{secrets.token_hex(4)}"
    if not 1 <= len(name.strip()) <= 100:
        raise CommandError("a token name is 1 to 100 characters")
    token = new_token()
    try:
        with app_session(args.config_uri) as session:
            old: ApiToken | None = None
            if args.replace:
                old = session.scalars(
                    select(ApiToken).where(ApiToken.name == name).with_for_update()
                ).one_or_none()
            if old is None:
                session.add(
                    ApiToken(name=name, role=args.role, token_hash=hash_token(token))
                )
            else:  # the name keeps its row: the old token's hash is gone
                old.role, old.token_hash = args.role, hash_token(token)
                old.created_at, old.revoked_at = datetime.now(UTC), None
            session.flush()
    except IntegrityError:
        if args.replace:  # another command created it between our read and write
            raise CommandError(f"a token named {name!r} was just created") from None
        raise CommandError(
            f"a token named {name!r} already exists (--replace replaces it)"
        ) from None
    print(token)
    database = make_url(database_url(get_appsettings(args.config_uri)))
    print(
        f"{'replaced' if old else 'created'} {args.role} token {name!r}: shown only"
        f" this once; the database keeps only its hash"
        f" ({database.render_as_string(hide_password=True)}, table api_tokens)",
        file=sys.stderr,
    )


def revoke_token(args: argparse.Namespace) -> None:
    with app_session(args.config_uri) as session:
        token = session.scalars(
            select(ApiToken).where(
                ApiToken.name == args.name, ApiToken.revoked_at.is_(None)
            )
        ).one_or_none()
        if token is None:
            raise CommandError(f"no active token named {args.name!r}")
        token.revoked_at = datetime.now(UTC)
    print(f"revoked token {args.name!r}", file=sys.stderr)


class Progress:
    """One line on a terminal, rewritten after each batch: rows so far and
    how much of the file has been read (the rows are checked as they come)."""

    def __init__(self, handle: TextIO, stream: TextIO) -> None:
        self.handle, self.stream = handle, stream
        self.size = os.fstat(handle.fileno()).st_size or 1
        self.shown = False

    def __call__(self, rows: int) -> None:
        percent = min(100, 100 * self.handle.buffer.tell() // self.size)
        self.stream.write(f"\rimporting: {rows} rows, {percent}% of the file read")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def open_csv(path: str) -> TextIO:
    """utf-8-sig forgives a spreadsheet's BOM; surrogateescape keeps an
    undecodable byte to its own line, which the import then names."""
    try:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def import_csv(args: argparse.Namespace) -> None:
    """All rows or none: one transaction, the earliest bad line reported."""
    with open_csv(args.file) as handle:
        progress = Progress(handle, sys.stderr) if sys.stderr.isatty() else None
        try:
            with app_session(args.config_uri) as session:
                count = EmployeeImport(session, progress=progress).run(handle)
        except BadLine as error:
            raise CommandError(str(error)) from None
        except IntegrityError:
            raise CommandError(
                "another client changed employees or departments during the"
                " import; nothing was imported"
            ) from None
        finally:
            if progress is not None:
                progress.clear()
    print(f"imported {count} employees from {args.file}", file=sys.stderr)


DESCRIPTION = "Set up and manage the database of company_service."
EPILOG = (
    "Each command takes the service's ini file, e.g. development.ini;"
    " DATABASE_URL, when set, overrides its sqlalchemy.url."
    f" '{PROG} COMMAND --help' describes a command."
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {version('company_service')}",
        help="show the version and exit",
    )
    commands = parser.add_subparsers(
        title="commands",
        dest="command",
        required=True,
        metavar="COMMAND",
        help="one of:",
    )

    def add(
        name: str, handler: Callable[[argparse.Namespace], None], help: str
    ) -> ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "config_uri",
            metavar="CONFIG_URI",
            help="the service's ini file, e.g. development.ini",
        )
        sub.set_defaults(handler=handler)
        return sub

    sub = add("initdb", initdb, "bring the schema to the newest revision")
    sub.add_argument(
        "--sample-data",
        action="store_true",
        help="add sample departments and employees",
    )
    sub = add("create-token", create_token, "create an API token and print it")
    sub.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="reader may read; editor may also change data",
    )
    sub.add_argument(
        "--name", help="a unique name, used to revoke it (default: generated)"
    )
    sub.add_argument(
        "--replace",
        action="store_true",
        help="if a token has this --name, revoke it and give the name the new one",
    )
    sub = add("revoke-token", revoke_token, "revoke the API token with this name")
    sub.add_argument("name", metavar="NAME", help="the name create-token gave it")
    sub = add("import-csv", import_csv, "import employees from the export's CSV")
    sub.add_argument("file", metavar="FILE", help="a file as GET employees.csv gives")
    return parser


def describe_database_error(config_uri: str, error: SQLAlchemyError) -> str:
    url = make_url(database_url(get_appsettings(config_uri)))
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return (
        f"cannot use the database {url.render_as_string(hide_password=True)}: {reason}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "replace", False) and args.name is None:
        parser.error("--replace needs --name: the name whose token it replaces")
    try:
        config_path(args.config_uri)
        args.handler(args)
    except CommandError as error:
        message = str(error)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was committed", file=sys.stderr)
        return 130
    except KeyError as error:
        message = f"the config file has no setting {error}"
    except OperationalError as error:
        message = describe_database_error(args.config_uri, error)
    except Exception as error:  # one line for the operator, never a traceback
        text = str(error).strip().splitlines()
        message = f"{type(error).__name__}: {text[0] if text else 'no details'}"
    else:
        return 0
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
