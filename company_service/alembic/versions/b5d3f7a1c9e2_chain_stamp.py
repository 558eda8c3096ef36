"""employees.chain_stamp: the management-chain check writes what it reads.

Revision ID: b5d3f7a1c9e2
Revises: a7e4c2d9b816
Create Date: 2026-12-02

Galera certifies the rows a transaction writes, not the rows it locked on
its own node, and an UPDATE that changes nothing is not in the write set
(measured: docs/scaling.md, section Galera). The cycle check therefore
flips this column on each manager it walks, so two changes on different
nodes that together close a cycle write a row in common and one fails
certification. Not part of any representation; version and updated_at stay.
An additive column with a default: code that does not know it keeps working.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d3f7a1c9e2"
down_revision: str | None = "a7e4c2d9b816"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "employees",
        sa.Column("chain_stamp", sa.SmallInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # SQLite rebuilds the table; reflection does not report AUTOINCREMENT,
    # so it is asked for again, or ids could be reused (a7e4c2d9b816).
    with op.batch_alter_table(
        "employees", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_column("chain_stamp")
