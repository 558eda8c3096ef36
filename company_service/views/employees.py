"""/api/v1/employees and /api/v1/employees/{id}."""

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..schemas.employee import EmployeeIn, EmployeeOut
from ..schemas.query import EmployeeListQuery
from ..schemas.responses import EmployeePage
from ..schemas.rows import from_row
from ..security import EDIT, VIEW
from ..services.employees import (
    EmployeeService,
    employee_fields,
    employee_tag,
)
from .body import MERGE_PATCH, parse_body, read_json, validate
from .collections import page_body, read_page_request
from .conditional import expect
from .config import CREATED, ETAG, LINK, api_view
from .filters import employee_filters
from .items import changed, created, deleted, item_id, shown
from .query import query


def service(request: Request) -> EmployeeService:
    return EmployeeService(request.dbsession)


@api_view(
    "employees",
    permission=VIEW,
    query=EmployeeListQuery,
    summary="List employees",
    response_headers=(LINK,),
)
def list_employees(request: Request) -> EmployeePage:
    params = query(request, EmployeeListQuery)
    filters = employee_filters(params, params.department_id)
    page_request = read_page_request(request, params, "employees")
    page = service(request).page(filters, page_request)
    return page_body(request, page, page_request, EmployeePage, EmployeeOut)


@api_view(
    "employees",
    "POST",
    permission=EDIT,
    summary="Create an employee",
    status=201,
    body=EmployeeIn,
    response_headers=CREATED,
    problems=(409,),
)
def post_employee(request: Request) -> EmployeeOut:
    data = parse_body(request, EmployeeIn)
    employee = service(request).create(data)
    body = EmployeeOut.model_validate(employee)
    return created(request, "employee", employee.id, body, employee_tag(employee))


@api_view(
    "employee",
    permission=VIEW,
    summary="Read an employee",
    preconditions=True,
    response_headers=(ETAG,),
)
def get_employee(request: Request) -> EmployeeOut:
    employee = service(request).row(item_id(request))
    return shown(request, from_row(EmployeeOut, employee), employee_tag(employee))


@api_view(
    "employee",
    "PUT",
    permission=EDIT,
    summary="Replace an employee",
    body=EmployeeIn,
    preconditions=True,
    response_headers=(ETAG,),
    problems=(409,),
)
def replace_employee(request: Request) -> EmployeeOut:
    data = parse_body(request, EmployeeIn)
    return _replace(request, data)


@api_view(
    "employee",
    "PATCH",
    permission=EDIT,
    summary="Change an employee (JSON merge patch)",
    body=EmployeeIn,
    patch=True,
    preconditions=True,
    response_headers=(ETAG,),
    problems=(409,),
)
def patch_employee(request: Request) -> EmployeeOut:
    """JSON merge patch (RFC 7386): the fields present are set, null clears."""
    patch = read_json(request, MERGE_PATCH)
    current = service(request).get(item_id(request), lock=True)
    merged: Any = patch
    if isinstance(patch, dict):
        merged = employee_fields(current)
        merged.update(patch)  # read-only fields are dropped by EmployeeIn
    return _replace(request, validate(EmployeeIn, merged))


def _replace(request: Request, data: EmployeeIn) -> EmployeeOut:
    employee = service(request).replace(item_id(request), data, expect(request))
    body = EmployeeOut.model_validate(employee)
    return changed(request, body, employee_tag(employee))


@api_view(
    "employee",
    "DELETE",
    permission=EDIT,
    summary="Delete an employee who manages nobody",
    status=204,
    preconditions=True,
    problems=(409,),
)
def remove_employee(request: Request) -> Response:
    service(request).delete(item_id(request), expect(request))
    return deleted(request)
