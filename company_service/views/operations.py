"""Bulk create, raise and statistics: one transaction each, all or nothing."""

from typing import Any

from pyramid.request import Request

from ..schemas.employee import READ_ONLY, employee_json
from ..schemas.operations import BulkIn, RaiseIn
from ..security import EDIT, VIEW
from ..services.bulk import BulkCreate
from ..services.salaries import raise_salaries
from ..services.stats import department_stats
from .body import read_json, validate
from .config import api_view
from .items import item_id
from .query import QueryParams


@api_view(route_name="employees_bulk", request_method="POST", permission=EDIT)
def bulk_create(request: Request) -> dict[str, Any]:
    """Every item valid and new, then one multi-row INSERT; else nothing."""
    data = read_json(request)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = {
            **data,
            "items": [
                {k: v for k, v in item.items() if k not in READ_ONLY}
                if isinstance(item, dict)
                else item
                for item in data["items"]
            ],
        }
    body = validate(BulkIn, data)
    employees = BulkCreate(request.dbsession)(body.items)
    request.response.status_code = 201
    return {"items": [employee_json(employee) for employee in employees]}


@api_view(route_name="department_raise", request_method="POST", permission=EDIT)
def raise_department(request: Request) -> dict[str, int]:
    body = validate(RaiseIn, read_json(request))
    updated = raise_salaries(request.dbsession, item_id(request), body.percent)
    return {"updated": updated}


@api_view(route_name="department_stats", request_method="GET", permission=VIEW)
def stats(request: Request) -> dict[str, Any]:
    QueryParams(request, []).check()
    return {"items": department_stats(request.dbsession)}
