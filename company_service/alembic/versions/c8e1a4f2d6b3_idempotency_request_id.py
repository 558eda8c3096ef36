"""idempotency_keys.request_id: the request whose answer a key stores (expand).

Revision ID: c8e1a4f2d6b3
Revises: b5d3f7a1c9e2
Create Date: 2026-12-02

A replayed answer carries the replaying request's X-Request-ID; this column
keeps the id of the request that produced the answer, so that a replay is
logged with the request whose log lines explain it.

Written the expand/contract way (docs/DESIGN.md, "Migrations: expand,
deploy, contract"), so it can run while processes of the previous release
still serve:

- expand (this revision): a NULLable column without a default. The code
  before it never names the column: its ORM INSERTs leave it NULL and its
  SELECTs do not read it. The code after it writes it on every new claim and
  treats NULL (a key claimed by the old code) as "not known".
- contract (a later revision, not before every process runs the new code
  and ``api.idempotency_ttl_hours`` have passed since the last old one
  stopped, so every key the old code claimed has expired): make the column
  NOT NULL, and drop the new code's handling of NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "c8e1a4f2d6b3"
down_revision: str | None = "b5d3f7a1c9e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def text(length: int) -> sa.types.TypeEngine[str]:
    """A VARCHAR compared by code point, as in the earlier revisions."""
    return (
        sa.String(length)
        .with_variant(sa.String(length, collation="C"), "postgresql")
        .with_variant(
            mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_nopad_bin"),
            "mysql",
            "mariadb",
        )
    )


def upgrade() -> None:
    # Adding a NULLable column without a default rewrites no row, on any of
    # the three databases: the old code's queries do not wait for it.
    op.add_column("idempotency_keys", sa.Column("request_id", text(128), nullable=True))


def downgrade() -> None:
    # SQLite rebuilds the table; reflection does not report AUTOINCREMENT,
    # so it is asked for again, or ids could be reused (a7e4c2d9b816).
    with op.batch_alter_table(
        "idempotency_keys", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_column("request_id")
