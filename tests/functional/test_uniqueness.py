"""Department names and emails are unique regardless of case, on every database."""

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from company_service.models import Department, Employee


@pytest.mark.parametrize(
    ("first", "second"),
    [("Legal", "LEGAL"), ("José", "JOSÉ"), ("Straße", "STRASSE"), ("Отдел", "оТДЕЛ")],
)
def test_department_names_differing_only_in_case_collide(dbsession, first, second):
    dbsession.add(Department(name=first))
    dbsession.flush()
    dbsession.add(Department(name=second))
    with pytest.raises(IntegrityError):
        dbsession.flush()


@pytest.mark.parametrize(
    ("first", "second"), [("Rene", "René"), ("Legal", "Legal ops")]
)
def test_different_names_do_not(dbsession, first, second):
    dbsession.add_all([Department(name=first), Department(name=second)])
    dbsession.flush()


def employee(email: str) -> Employee:
    return Employee(
        first_name="Ada",
        last_name="Lovelace",
        email=email,
        hire_date=date(2024, 3, 1),
        salary_cents=9_800_000,
    )


def test_emails_are_unique(dbsession):
    dbsession.add(employee("ada@example.com"))
    dbsession.flush()
    dbsession.add(employee("ada@example.com"))
    with pytest.raises(IntegrityError):
        dbsession.flush()


def test_accented_emails_are_distinct_everywhere(dbsession):
    """MariaDB's default collation would call these equal; ours does not."""
    dbsession.add_all([employee("rene@example.com"), employee("rené@example.com")])
    dbsession.flush()


def test_version_starts_at_1_and_grows_by_one_per_change(dbsession):
    department = Department(name="Versioned")
    dbsession.add(department)
    dbsession.flush()
    assert department.version == 1
    department.description = "changed"
    dbsession.flush()
    assert department.version == 2


def test_emails_are_stored_lower_cased_whoever_writes_them(dbsession):
    dbsession.add(employee("Ada.Lovelace@Example.COM"))
    dbsession.flush()
    dbsession.add(employee("ada.lovelace@example.com"))
    with pytest.raises(IntegrityError):
        dbsession.flush()
