"""/api/v1/employees and /api/v1/employees/{id}."""

from dataclasses import replace
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..schemas.employee import READ_ONLY, EmployeeIn, employee_json
from ..security import EDIT, VIEW
from ..services.employees import (
    SORT_FIELDS,
    EmployeeFilters,
    EmployeeService,
    employee_fields,
    employee_tag,
)
from ..services.listing import PageRequest
from .body import MERGE_PATCH, parse_body, read_json, validate
from .collections import PAGING_PARAMETERS, page_body, read_page_request
from .conditional import expected_state
from .config import api_view
from .items import changed, created, deleted, item_id, shown
from .query import QueryParams

FILTERS = ("department_id", "manager_id", "active", "hired_after", "hired_before", "q")


def service(request: Request) -> EmployeeService:
    return EmployeeService(request.dbsession)


def employee_filters(params: QueryParams) -> EmployeeFilters:
    """The list's filters from the query string (errors collected in params)."""
    return EmployeeFilters(
        department_id=params.id_or_null("department_id"),
        manager_id=params.id_or_null("manager_id"),
        active=params.boolean("active"),
        hired_after=params.iso_date("hired_after"),
        hired_before=params.iso_date("hired_before"),
        q=params.text("q"),
    )


def read_filters(
    request: Request, fixed_department: int | None = None
) -> tuple[EmployeeFilters, PageRequest]:
    """The list's filters and paging, shared with the CSV export and the
    department's employee list (whose department comes from the URL)."""
    names = [*FILTERS, *PAGING_PARAMETERS]
    if fixed_department is not None:
        names.remove("department_id")
    params = QueryParams(request, names)
    filters = employee_filters(params)
    if fixed_department is not None:
        filters = replace(filters, department_id=fixed_department)
    page_request = read_page_request(request, params, "employees", SORT_FIELDS)
    params.check()
    return filters, page_request


@api_view(route_name="employees", request_method="GET", permission=VIEW)
def list_employees(request: Request) -> dict[str, Any]:
    filters, page_request = read_filters(request)
    page = service(request).page(filters, page_request)
    return page_body(request, page, page_request, employee_json)


@api_view(route_name="employees", request_method="POST", permission=EDIT)
def create_employee(request: Request) -> dict[str, Any]:
    data = parse_body(request, EmployeeIn, read_only=READ_ONLY)
    employee = service(request).create(data)
    body = employee_json(employee)
    return created(request, "employee", employee.id, body, employee_tag(employee))


@api_view(route_name="employee", request_method="GET", permission=VIEW)
def get_employee(request: Request) -> dict[str, Any] | Response:
    employee = service(request).row(item_id(request))
    return shown(request, employee_json(employee), employee_tag(employee))


@api_view(route_name="employee", request_method="PUT", permission=EDIT)
def replace_employee(request: Request) -> dict[str, Any]:
    data = parse_body(request, EmployeeIn, read_only=READ_ONLY)
    return _replace(request, data)


@api_view(route_name="employee", request_method="PATCH", permission=EDIT)
def patch_employee(request: Request) -> dict[str, Any]:
    """JSON merge patch (RFC 7386): the fields present are set, null clears."""
    patch = read_json(request, MERGE_PATCH)
    current = service(request).get(item_id(request), lock=True)
    merged: Any = patch
    if isinstance(patch, dict):
        merged = employee_fields(current)
        merged.update({k: v for k, v in patch.items() if k not in READ_ONLY})
    return _replace(request, validate(EmployeeIn, merged))


def _replace(request: Request, data: EmployeeIn) -> dict[str, Any]:
    employee = service(request).replace(item_id(request), data, expected_state(request))
    return changed(request, employee_json(employee), employee_tag(employee))


@api_view(route_name="employee", request_method="DELETE", permission=EDIT)
def delete_employee(request: Request) -> Response:
    service(request).delete(item_id(request), expected_state(request))
    return deleted(request)
