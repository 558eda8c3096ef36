"""A representation is the same whichever way it is made: from the object
the unit of work just wrote, or from a row of selected columns
(schemas/rows.py), one at a time or a list at once."""

from decimal import Decimal

from sqlalchemy import select

from company_service.models import Department, Employee
from company_service.schemas.department import DepartmentOut
from company_service.schemas.employee import EmployeeOut
from company_service.schemas.rows import from_row, from_rows
from company_service.services.departments import WITH_COUNT
from company_service.services.employees import EMPLOYEE_COLUMNS
from tests.support.factories import DepartmentFactory, EmployeeFactory


def test_an_employee_from_its_object_or_its_row_is_the_same_json(dbsession):
    stored = [
        EmployeeFactory(title=None if n else "Countess", salary=Decimal(salary))
        for n, salary in enumerate(["0", "0.01", "0.10", "999999999.99"])
    ]
    rows = dbsession.execute(
        select(*EMPLOYEE_COLUMNS)
        .where(Employee.id.in_([e.id for e in stored]))
        .order_by(Employee.id)
    ).all()
    by_object = [EmployeeOut.model_validate(e).model_dump_json() for e in stored]
    by_row = [from_row(EmployeeOut, row).model_dump_json() for row in rows]
    by_list = [model.model_dump_json() for model in from_rows(EmployeeOut, rows)]
    assert by_row == by_object == by_list
    salaries = [from_row(EmployeeOut, row).model_dump()["salary"] for row in rows]
    assert salaries == ["0.00", "0.01", "0.10", "999999999.99"]
    assert (
        from_row(EmployeeOut, rows[0]).model_dump(mode="json")["created_at"][-1] == "Z"
    )


def test_a_department_row_carries_its_count(dbsession):
    department = DepartmentFactory(name="Counted")
    row = dbsession.execute(WITH_COUNT.where(Department.id == department.id)).one()
    out = from_row(DepartmentOut, row)
    assert (out.id, out.name, out.employee_count) == (department.id, "Counted", 0)
