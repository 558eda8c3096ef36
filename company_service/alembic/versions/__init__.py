"""The migrations, one module each (alembic skips this file)."""
