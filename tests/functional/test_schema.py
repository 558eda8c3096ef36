"""The migrations are the schema: the models must describe exactly what they build."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from company_service.models import Base
from company_service.testing import alembic_config


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_database_is_at_the_newest_revision(engine):
    with engine.connect() as connection:
        head = ScriptDirectory.from_config(
            alembic_config(connection)
        ).get_current_head()
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == head


def test_constraints_and_indexes_carry_their_conventional_names(engine):
    inspector = inspect(engine)
    unique = {c["name"] for c in inspector.get_unique_constraints("employees")}
    indexes = {i["name"] for i in inspector.get_indexes("employees")}
    foreign = {f["name"] for f in inspector.get_foreign_keys("employees")}
    assert "uq_employees_email" in unique or "uq_employees_email" in indexes
    assert {"ix_employees_last_name_id", "ix_employees_salary_cents_id"} <= indexes
    assert foreign == {
        "fk_employees_department_id_departments",
        "fk_employees_manager_id_employees",
    }
