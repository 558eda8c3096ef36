"""Initial schema: departments, employees, api_tokens.

Revision ID: 8f1d2c3b4a50
Revises:
Create Date: 2026-11-24

The column types are spelled out here rather than imported from the models,
so this revision keeps meaning what it meant when later models change.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "8f1d2c3b4a50"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Any: unpacked into create_table(), whose keywords are not all strings.
MYSQL_TABLE_ARGS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
}


def text(length: int) -> sa.types.TypeEngine[str]:
    """VARCHAR compared by code point: "C" on PostgreSQL, nopad_bin on MariaDB."""
    return (
        sa.String(length)
        .with_variant(sa.String(length, collation="C"), "postgresql")
        .with_variant(
            mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_nopad_bin"),
            "mysql",
            "mariadb",
        )
    )


def long_text() -> sa.types.TypeEngine[str]:
    """Unbounded TEXT compared by code point (never indexed)."""
    return (
        sa.Text()
        .with_variant(sa.Text(collation="C"), "postgresql")
        .with_variant(
            mysql.TEXT(charset="utf8mb4", collation="utf8mb4_nopad_bin"),
            "mysql",
            "mariadb",
        )
    )


def timestamp() -> sa.types.TypeEngine[datetime]:
    """Naive UTC with microseconds (MariaDB drops them unless asked)."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", text(100), nullable=False),
        sa.Column("name_key", text(64), nullable=False),
        sa.Column("description", text(2000), nullable=True),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.UniqueConstraint("name_key", name="uq_departments_name_key"),
        **MYSQL_TABLE_ARGS,
    )
    op.create_index("ix_departments_name_id", "departments", ["name", "id"])
    op.create_index("ix_departments_created_at_id", "departments", ["created_at", "id"])

    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", text(100), nullable=False),
        sa.Column("last_name", text(100), nullable=False),
        sa.Column("email", text(254), nullable=False),
        sa.Column("title", text(200), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=False),
        sa.Column("salary_cents", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("search_key", long_text(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "salary_cents >= 0 AND salary_cents < 1000000000000",
            name=op.f("ck_employees_salary_range"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name="fk_employees_department_id_departments",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["employees.id"],
            name="fk_employees_manager_id_employees",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_employees"),
        sa.UniqueConstraint("email", name="uq_employees_email"),
        **MYSQL_TABLE_ARGS,
    )
    for columns in (
        ["department_id", "id"],
        ["manager_id", "id"],
        ["first_name", "id"],
        ["last_name", "id"],
        ["hire_date", "id"],
        ["salary_cents", "id"],
        ["created_at", "id"],
    ):
        op.create_index(f"ix_employees_{'_'.join(columns)}", "employees", columns)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", text(100), nullable=False),
        sa.Column("role", text(20), nullable=False),
        sa.Column("token_hash", text(64), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("revoked_at", timestamp(), nullable=True),
        sa.CheckConstraint(
            "role IN ('reader', 'editor')", name=op.f("ck_api_tokens_role")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        **MYSQL_TABLE_ARGS,
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("employees")
    op.drop_table("departments")
