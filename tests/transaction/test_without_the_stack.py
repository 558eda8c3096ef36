"""The same work without a request transaction, to show what it prevents.

docs/transactions.md points here: each test does something the service does,
the way code that only knows ``engine.connect()`` often does it, and shows
the partial write that follows.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import transaction
import zope.sqlalchemy
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from company_service.models import Department, Employee, insert_values, name_key
from company_service.testing import bearer, count_rows
from tests.support.factories import EmployeeFactory, committed_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_bare_connections_committing_step_by_step_leave_half_the_work(clean_database):
    """A new department and its first hire; the hire's email is taken."""
    engine = clean_database
    with committed_rows(engine):
        EmployeeFactory(email="taken@example.com")
    with engine.connect() as connection:
        department_id = connection.execute(
            insert(Department).values(name="Half done")
        ).inserted_primary_key[0]
        connection.commit()  # "save what we have so far"
        hire = {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "taken@example.com",
            "hire_date": date(2024, 1, 1),
            "salary": Decimal(100),
            "department_id": department_id,
        }
        try:
            connection.execute(insert(Employee).values(insert_values(hire)))
            connection.commit()
        except IntegrityError:
            connection.rollback()  # too late for the department
    assert count_rows(engine, Department) == 1, "the department outlived the failure"


def test_the_same_work_in_one_request_leaves_nothing(
    real_app, committed_editor_token, engine
):
    """Through the service the two writes share one transaction: both or neither."""
    headers = bearer(committed_editor_token)
    real_app.post_json(
        "/api/v1/employees",
        {
            "first_name": "A",
            "last_name": "B",
            "email": "taken@example.com",
            "salary": 1,
        },
        headers=headers,
    )
    real_app.post_json(
        "/api/v1/_probe/department-with-hire",
        {"name": "All or nothing", "email": "taken@example.com"},
        headers=headers,
        status=409,
    )
    assert count_rows(engine, Department) == 0


def test_zope_sqlalchemys_default_would_drop_a_raw_sql_write(clean_database):
    """Why db.register_session starts sessions as "changed": with the default
    state, a text() write is never seen, so the commit is skipped."""
    manager = transaction.TransactionManager(explicit=True)
    session = Session(bind=clean_database)
    zope.sqlalchemy.register(session, transaction_manager=manager)  # the default
    with manager:
        session.execute(
            text(
                "INSERT INTO departments"
                " (name, name_key, created_at, updated_at, version)"
                " VALUES ('Lost', :key, :now, :now, 1)"
            ),
            {"key": name_key("Lost"), "now": NOW.replace(tzinfo=None)},
        )
    session.close()
    assert count_rows(clean_database, Department) == 0, "silently rolled back"
