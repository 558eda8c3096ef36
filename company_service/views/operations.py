"""Bulk create, raise and statistics: one transaction each, all or nothing."""

from pyramid.request import Request

from ..schemas.employee import EmployeeOut
from ..schemas.operations import BulkIn, DepartmentStats, RaiseIn, RaiseOut
from ..schemas.responses import EmployeeList, StatsList
from ..security import EDIT, VIEW
from ..services.bulk import BulkCreate
from ..services.salaries import raise_salaries
from ..services.stats import department_stats
from .body import parse_body
from .config import api_view
from .items import item_id


@api_view(
    "employees_bulk",
    "POST",
    permission=EDIT,
    summary="Create 1-1000 employees, all or none",
    body=BulkIn,
    problems=(409,),
)
def bulk_create(request: Request) -> EmployeeList:
    """Every item valid and new, then one flush; else nothing.

    200, not 201: RFC 9110 15.3.2 reads a 201 as naming one created resource
    (its Location, else the request URL), and no one URL names a batch; each
    item's own URL is ``/employees/{id}`` with the id in the body.
    """
    body = parse_body(request, BulkIn)
    employees = BulkCreate(request.dbsession)(body.items)
    return EmployeeList(items=[EmployeeOut.model_validate(e) for e in employees])


@api_view(
    "department_raise",
    "POST",
    permission=EDIT,
    summary="Raise every active employee's salary, all or none",
    body=RaiseIn,
    problems=(409,),
)
def raise_department(request: Request) -> RaiseOut:
    body = parse_body(request, RaiseIn)
    updated = raise_salaries(request.dbsession, item_id(request), body.percent)
    return RaiseOut(updated=updated)


@api_view(
    "department_stats", permission=VIEW, summary="Headcount and salaries per department"
)
def stats(request: Request) -> StatsList:
    rows = department_stats(request.dbsession)
    return StatsList(items=[DepartmentStats.model_validate(row) for row in rows])
