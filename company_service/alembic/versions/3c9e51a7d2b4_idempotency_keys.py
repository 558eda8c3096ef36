"""Idempotency keys: the stored answers to POSTs that carried one.

Revision ID: 3c9e51a7d2b4
Revises: 8f1d2c3b4a50
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "3c9e51a7d2b4"
down_revision: str | None = "8f1d2c3b4a50"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Text compared by code point, as in the initial revision."""
    if length is None:
        return (
            sa.Text()
            .with_variant(sa.Text(collation="C"), "postgresql")
            .with_variant(
                mysql.TEXT(charset="utf8mb4", collation="utf8mb4_nopad_bin"),
                "mysql",
                "mariadb",
            )
        )
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
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", text(200), nullable=False),
        sa.Column("fingerprint", text(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", text(), nullable=True),
        sa.Column("location", text(2000), nullable=True),
        sa.Column("etag", text(40), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name="fk_idempotency_keys_token_id_api_tokens",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("token_id", "key", name="uq_idempotency_keys_token_id_key"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"]
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
