"""Throw-away schema and data helpers shared by the fixtures and tests."""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    delete,
    func,
    insert,
    select,
    update,
)

from company_service.models import ApiToken, Department, Employee, IdempotencyKey
from company_service.tokens import hash_token, new_token


def alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", "company_service:alembic")
    config.attributes["connection"] = connection
    return config


def rebuild_schema(engine: Engine) -> None:
    """Drop whatever is there and build the schema the only way it is built:
    by running every migration."""
    existing = MetaData()
    existing.reflect(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        if "employees" in existing.tables:
            # The self-reference would otherwise stop the drop on MariaDB.
            connection.execute(
                update(existing.tables["employees"]).values(manager_id=None)
            )
        existing.drop_all(connection)
    with engine.connect() as connection:  # the migrations begin their own
        command.upgrade(alembic_config(connection), "head")


def delete_all_rows(engine: Engine) -> None:
    """Empty every table: the committing tests leave real rows behind."""
    with engine.begin() as connection:
        connection.execute(update(Employee).values(manager_id=None))
        for model in (IdempotencyKey, Employee, Department, ApiToken):
            connection.execute(delete(model))


def count_rows(engine: Engine, model: type, *where: object) -> int:
    """Count through a connection of its own: what another client would see."""
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model).where(*where))


def store_token(connection: Connection, role: str, name: str | None = None) -> str:
    token = new_token()
    connection.execute(
        insert(ApiToken).values(
            name=name or f"{role}-{token[:8]}",
            role=role,
            token_hash=hash_token(token),
            created_at=func.now(),
        )
    )
    return token


@contextmanager
def committed(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection
