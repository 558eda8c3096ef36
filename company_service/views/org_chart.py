"""/api/v1/employees/{id}/reports and /chain: one recursive query each."""

from typing import Any

from pyramid.request import Request

from ..schemas.employee import employee_json, report_json
from ..security import VIEW
from ..services.employees import EmployeeService
from .config import api_view
from .items import item_id
from .query import QueryParams


@api_view(route_name="employee_reports", request_method="GET", permission=VIEW)
def reports(request: Request) -> dict[str, Any]:
    params = QueryParams(request, ["recursive"])
    recursive = params.boolean("recursive") or False
    params.check()
    rows = EmployeeService(request.dbsession).reports(item_id(request), recursive)
    if recursive:
        return {"items": [report_json(employee, depth) for employee, depth in rows]}
    return {"items": [employee_json(employee) for employee, _ in rows]}


@api_view(route_name="employee_chain", request_method="GET", permission=VIEW)
def chain(request: Request) -> dict[str, Any]:
    QueryParams(request, []).check()
    managers = EmployeeService(request.dbsession).chain(item_id(request))
    return {"items": [employee_json(manager) for manager in managers]}
