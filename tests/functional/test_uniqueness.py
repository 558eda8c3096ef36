"""Department names and emails are unique regardless of case, on every database."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.support.factories import DepartmentFactory, EmployeeFactory


@pytest.mark.parametrize(
    ("first", "second"),
    [("Legal", "LEGAL"), ("José", "JOSÉ"), ("Straße", "STRASSE"), ("Отдел", "оТДЕЛ")],
)
def test_department_names_differing_only_in_case_collide(dbsession, first, second):
    DepartmentFactory(name=first)
    with pytest.raises(IntegrityError):
        DepartmentFactory(name=second)


@pytest.mark.parametrize(
    ("first", "second"), [("Rene", "René"), ("Legal", "Legal ops")]
)
def test_different_names_do_not(dbsession, first, second):
    DepartmentFactory(name=first)
    DepartmentFactory(name=second)


def test_emails_are_unique(dbsession):
    EmployeeFactory(email="ada@example.com")
    with pytest.raises(IntegrityError):
        EmployeeFactory(email="ada@example.com")


def test_accented_emails_are_distinct_everywhere(dbsession):
    """MariaDB's default collation would call these equal; ours does not."""
    EmployeeFactory(email="rene@example.com")
    EmployeeFactory(email="rené@example.com")


def test_version_starts_at_1_and_grows_by_one_per_change(dbsession):
    department = DepartmentFactory(name="Versioned")
    assert department.version == 1
    department.description = "changed"
    dbsession.flush()
    assert department.version == 2


def test_emails_are_stored_lower_cased_whoever_writes_them(dbsession):
    EmployeeFactory(email="Ada.Lovelace@Example.COM")
    with pytest.raises(IntegrityError):
        EmployeeFactory(email="ada.lovelace@example.com")
