"""make bench's seeding: the rows the database generates must be rows the
service itself would have written (same search key, valid JSON shape).

Bench's own test, run by ``make test`` (pytest's testpaths include bench/)."""

from sqlalchemy import create_engine, func, select

from bench.seed import fresh_database, seed
from company_service.models import ApiToken, Department, Employee, search_key
from company_service.schemas.employee import EmployeeOut
from company_service.services.employees import EMPLOYEE_COLUMNS
from company_service.testing import rebuild_schema


def test_seeding_writes_what_the_service_would(tmp_path):
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    fresh_database(url)
    engine = create_engine(url)
    try:
        rebuild_schema(engine)
        token = seed(engine, 57)
        with engine.connect() as connection:
            employees = connection.execute(
                select(*EMPLOYEE_COLUMNS, Employee.search_key).order_by(Employee.id)
            ).all()
            departments = connection.scalar(
                select(func.count()).select_from(Department)
            )
            tokens = connection.scalar(select(func.count()).select_from(ApiToken))
    finally:
        engine.dispose()
    assert token and tokens == 1 and departments == 10
    assert [e.id for e in employees] == list(range(1, 58))
    for employee in employees:
        assert employee.search_key == search_key(
            employee.first_name, employee.last_name, employee.email
        )
        EmployeeOut.model_validate(employee)  # fields present, typed
    assert employees[9].manager_id == 1 and employees[8].manager_id is None
