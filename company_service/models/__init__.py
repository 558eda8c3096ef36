"""The mapped tables. Import models from here; Alembic sees them through Base."""

from sqlalchemy.orm import configure_mappers

from .department import Department, name_key
from .employee import (
    MAX_SALARY_CENTS,
    Employee,
    cents,
    email_key,
    insert_values,
    search_key,
)
from .idempotency import IdempotencyKey
from .meta import Base, fold
from .token import ROLES, ApiToken

# Fail at import, not on the first request, if a relationship is wrong.
configure_mappers()

__all__ = [
    "MAX_SALARY_CENTS",
    "ROLES",
    "ApiToken",
    "Base",
    "Department",
    "Employee",
    "IdempotencyKey",
    "cents",
    "email_key",
    "fold",
    "insert_values",
    "name_key",
    "search_key",
]
