"""Test rows, made the way the service makes them: ORM objects through the
unit of work, whose flush events compute the keys (email, search, name key)
and whose cents come from the model's ``cents``, so no test computes them.

The factories write on the session ``rows_in`` names: the rolled-back
harness's ``dbsession`` names itself; ``committed_rows`` gives the
committed harness a session of its own.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from company_service.models import Department, Employee, cents

SESSION: ContextVar[Session] = ContextVar("the factories' session")


@contextmanager
def rows_in(session: Session) -> Iterator[Session]:
    """The factories write on ``session`` while the block lasts."""
    token = SESSION.set(session)
    try:
        yield session
    finally:
        SESSION.reset(token)


@contextmanager
def committed_rows(engine: Engine) -> Iterator[Session]:
    """The factories write in a transaction of their own, committed when the
    block ends; the objects keep their values after it."""
    with (
        Session(engine, expire_on_commit=False) as session,
        session.begin(),
        rows_in(session),
    ):
        yield session


class RowFactory(SQLAlchemyModelFactory):
    """Each row flushed as it is made, so its id is known at once."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = SESSION.get
        sqlalchemy_session_persistence = "flush"


class DepartmentFactory(RowFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")


class EmployeeFactory(RowFactory):
    """An employee with no department and no manager unless given; the
    salary is given as ``salary`` (a Decimal, as the API takes it), or as the
    stored ``salary_cents`` where a test counts in cents."""

    class Meta:
        model = Employee

    class Params:
        salary = Decimal("98000.00")

    first_name = "Ada"
    last_name = "Lovelace"
    email = factory.Sequence(lambda n: f"employee{n}@example.com")
    hire_date = date(2024, 3, 1)
    salary_cents = factory.LazyAttribute(lambda row: cents(row.salary))
