"""/api/v1/employees/{id}/reports and /chain: one recursive query each."""

from pyramid.request import Request

from ..schemas.employee import EmployeeOut, ReportOut
from ..schemas.query import ReportsQuery
from ..schemas.responses import EmployeeList, ReportList
from ..schemas.rows import from_rows
from ..security import VIEW
from ..services.employees import EmployeeService
from .config import api_view
from .items import item_id
from .query import query


@api_view(
    "employee_reports",
    permission=VIEW,
    query=ReportsQuery,
    summary="Direct reports; with recursive=true every report and its depth",
)
def reports(request: Request) -> ReportList:
    recursive = query(request, ReportsQuery).recursive
    rows = EmployeeService(request.dbsession).reports(item_id(request), recursive)
    return ReportList(items=from_rows(ReportOut if recursive else EmployeeOut, rows))


@api_view(
    "employee_chain",
    permission=VIEW,
    summary="The managers above, direct manager first",
)
def chain(request: Request) -> EmployeeList:
    managers = EmployeeService(request.dbsession).chain(item_id(request))
    return EmployeeList(items=from_rows(EmployeeOut, managers))
