"""Alembic environment: reads the app's ini, so DATABASE_URL applies here too.

``alembic -c development.ini upgrade head`` and ``company-service initdb`` both
end up here. A caller may hand over an open connection in
``config.attributes["connection"]`` (the tests and ``initdb`` do).
"""

from alembic import context
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy.engine import Connection

from company_service.db import make_engine
from company_service.models import Base

config = context.config


def run_with(connection: Connection) -> None:
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
