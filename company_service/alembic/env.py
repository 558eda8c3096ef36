"""Alembic environment: reads the app's ini, so DATABASE_URL applies here too.

``alembic -c development.ini upgrade head`` and ``company-service initdb`` both
end up here. A caller may hand over a connection in
``config.attributes["connection"]`` (the tests and ``initdb`` do); it must
not have begun a transaction, since the migrations run in one of their own.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import text
from sqlalchemy.engine import Connection

from company_service.db import make_engine
from company_service.models import Base

config = context.config


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite changes a table by copying it, and dropping the old copy of a
    table that other rows refer to fails while foreign keys are enforced.
    SQLite's own procedure (https://sqlite.org/lang_altertable.html): turn
    enforcement off outside the transaction, check every key before
    committing, turn it back on."""
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("migrate on a connection that has not begun a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


def run_with(connection: Connection) -> None:
    with sqlite_foreign_keys_off(connection):
        migrate(connection)


def migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        # Our SQLite connections emit BEGIN themselves (see db.py), which makes
        # DDL transactional there too: a failed migration leaves nothing behind.
        transactional_ddl=connection.dialect.name != "mysql"
        and connection.dialect.name != "mariadb",
    )
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    if config.attributes.get("configure_logging", True):
        setup_logging(config.config_file_name)
    engine = make_engine(get_appsettings(config.config_file_name))
    try:
        with engine.connect() as connection:
            run_with(connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    from company_service.db import database_url

    context.configure(
        url=database_url(get_appsettings(config.config_file_name)),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
