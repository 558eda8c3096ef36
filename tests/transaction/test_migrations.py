"""The AUTOINCREMENT revision rebuilds SQLite's tables and keeps every row.

Always on a SQLite file of its own: the revision changes nothing elsewhere.
"""

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from company_service.db import make_engine
from company_service.testing import alembic_config

BEFORE = "3c9e51a7d2b4"  # the revision before ids were kept
AUTOINCREMENT = "a7e4c2d9b816"  # the revision that keeps them


@pytest.fixture
def old_database(tmp_path) -> Engine:
    """A database at the revision before, with a department, a management
    chain, and a deleted newest employee."""
    engine = make_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'old.db'}"})
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), BEFORE)
    stamp = "'2026-01-01 00:00:00'"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO departments (id, name, name_key, created_at, updated_at,"
                f" version) VALUES (1, 'Kept', 'k', {stamp}, {stamp}, 3)"
            )
        )
        for employee_id, manager_id in [(1, None), (2, 1), (3, 2), (4, 3)]:
            connection.execute(
                text(
                    "INSERT INTO employees (id, first_name, last_name, email,"
                    " hire_date, salary_cents, department_id, manager_id, active,"
                    " search_key, created_at, updated_at, version) VALUES (:id,"
                    " 'F', 'L', :email, '2024-01-01', 12345, 1, :manager, 1, 's',"
                    f" {stamp}, {stamp}, 2)"
                ),
                {
                    "id": employee_id,
                    "email": f"e{employee_id}@x",
                    "manager": manager_id,
                },
            )
        connection.execute(text("DELETE FROM employees WHERE id = 4"))
    yield engine
    engine.dispose()


def upgrade(engine: Engine) -> None:
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), "head")


def test_the_rebuild_keeps_every_row_and_constraint(old_database):
    upgrade(old_database)
    with old_database.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, manager_id, salary_cents, version"
                " FROM employees ORDER BY id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [
            (1, None, 12345, 2),
            (2, 1, 12345, 2),
            (3, 2, 12345, 2),
        ]
        assert connection.scalar(text("SELECT version FROM departments")) == 3
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        indexes = connection.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'index'")
        ).all()
        assert "ix_employees_salary_cents_id" in indexes
    # The salary CHECK and the foreign keys survived the copy.
    with pytest.raises(IntegrityError), old_database.begin() as connection:
        connection.execute(text("UPDATE employees SET salary_cents = -1"))
    with pytest.raises(IntegrityError), old_database.begin() as connection:
        connection.execute(text("DELETE FROM employees WHERE id = 1"))


def test_after_the_rebuild_a_deleted_id_stays_used(old_database):
    upgrade(old_database)
    insert = text(
        "INSERT INTO employees (first_name, last_name, email, hire_date,"
        " salary_cents, active, search_key, created_at, updated_at, version)"
        " VALUES ('N', 'N', :email, '2024-01-01', 1, 1, 's', '2026-01-01',"
        " '2026-01-01', 1) RETURNING id"
    )
    with old_database.begin() as connection:
        first = connection.scalar(insert, {"email": "n1@x"})
        connection.execute(text("DELETE FROM employees WHERE id = :id"), {"id": first})
        second = connection.scalar(insert, {"email": "n2@x"})
    assert first == 4  # freed before the revision: handed out once more
    assert second == 5


def test_downgrades_after_it_keep_autoincrement_and_every_row(old_database):
    """The later revisions drop a column on downgrade, which SQLite does by
    rebuilding the table: the rebuilt tables keep AUTOINCREMENT."""
    upgrade(old_database)
    with old_database.connect() as connection:
        command.downgrade(alembic_config(connection), AUTOINCREMENT)
    with old_database.connect() as connection:
        tables = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            ).all()
        )
        for table in ("departments", "employees", "idempotency_keys", "api_tokens"):
            assert "AUTOINCREMENT" in tables[table], table
        columns = {
            row.name for row in connection.execute(text("PRAGMA table_info(employees)"))
        }
        assert "chain_stamp" not in columns
        ids = connection.scalars(text("SELECT id FROM employees ORDER BY id")).all()
        assert ids == [1, 2, 3]
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    upgrade(old_database)  # and up again
