"""Ids are never reused: AUTOINCREMENT on SQLite.

Revision ID: a7e4c2d9b816
Revises: 3c9e51a7d2b4
Create Date: 2026-12-02

SQLite's plain ``INTEGER PRIMARY KEY`` hands out one more than the largest
id in the table, so deleting the newest row gave its id, and its URL and
ETag, to the next row created. ``AUTOINCREMENT`` keeps the largest id ever
used in ``sqlite_sequence``. SQLite can only add it by rebuilding the table;
Alembic's batch mode does that, copying every row (the environment turns
foreign key enforcement off for it and checks the keys before committing).
An id freed before this revision ran, above the largest one kept, can still
be handed out once. PostgreSQL's sequences and InnoDB's AUTO_INCREMENT
counter (persistent since MariaDB 10.2.4) never go back: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7e4c2d9b816"
down_revision: str | None = "3c9e51a7d2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("departments", "employees", "api_tokens", "idempotency_keys")


def rebuild(autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table,
            recreate="always",
            table_kwargs={"sqlite_autoincrement": autoincrement},
        ):
            pass


def upgrade() -> None:
    rebuild(autoincrement=True)


def downgrade() -> None:
    rebuild(autoincrement=False)
