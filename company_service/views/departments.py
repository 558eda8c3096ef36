"""/api/v1/departments and /api/v1/departments/{id}."""

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..schemas.department import READ_ONLY, DepartmentIn, department_json
from ..schemas.employee import employee_json
from ..security import EDIT, VIEW
from ..services.departments import SORT_FIELDS, DepartmentService, department_tag
from ..services.employees import EmployeeService
from .body import MERGE_PATCH, parse_body, read_json, validate
from .collections import PAGING_PARAMETERS, page_body, read_page_request
from .conditional import expected_state
from .config import api_view
from .employees import read_filters
from .items import changed, created, deleted, item_id, shown
from .query import QueryParams


def service(request: Request) -> DepartmentService:
    return DepartmentService(request.dbsession)


@api_view(route_name="departments", request_method="GET", permission=VIEW)
def list_departments(request: Request) -> dict[str, Any]:
    params = QueryParams(request, PAGING_PARAMETERS)
    page_request = read_page_request(request, params, "departments", SORT_FIELDS)
    params.check()
    page = service(request).page(page_request)
    return page_body(request, page, page_request, lambda row: department_json(*row))


@api_view(route_name="departments", request_method="POST", permission=EDIT)
def create_department(request: Request) -> dict[str, Any]:
    data = parse_body(request, DepartmentIn, read_only=READ_ONLY)
    department = service(request).create(data)
    body = department_json(department, 0)
    return created(
        request, "department", department.id, body, department_tag(department, 0)
    )


@api_view(route_name="department", request_method="GET", permission=VIEW)
def get_department(request: Request) -> dict[str, Any] | Response:
    department, count = service(request).get_with_count(item_id(request))
    body = department_json(department, count)
    return shown(request, body, department_tag(department, count))


@api_view(route_name="department", request_method="PUT", permission=EDIT)
def replace_department(request: Request) -> dict[str, Any]:
    data = parse_body(request, DepartmentIn, read_only=READ_ONLY)
    return _replace(request, data)


@api_view(route_name="department", request_method="PATCH", permission=EDIT)
def patch_department(request: Request) -> dict[str, Any]:
    patch = read_json(request, MERGE_PATCH)
    departments = service(request)
    current = departments.get(item_id(request), lock=True)
    merged = {"name": current.name, "description": current.description}
    if isinstance(patch, dict):
        merged.update({k: v for k, v in patch.items() if k not in READ_ONLY})
    else:
        merged = patch  # not an object: validation says so
    return _replace(request, validate(DepartmentIn, merged))


def _replace(request: Request, data: DepartmentIn) -> dict[str, Any]:
    departments = service(request)
    department = departments.replace(item_id(request), data, expected_state(request))
    count = departments.employee_count(department.id)
    body = department_json(department, count)
    return changed(request, body, department_tag(department, count))


@api_view(route_name="department", request_method="DELETE", permission=EDIT)
def delete_department(request: Request) -> Response:
    service(request).delete(item_id(request), expected_state(request))
    return deleted(request)


@api_view(route_name="department_employees", request_method="GET", permission=VIEW)
def list_department_employees(request: Request) -> dict[str, Any]:
    department_id = item_id(request)
    filters, page_request = read_filters(request, fixed_department=department_id)
    service(request).get(department_id)  # 404 for a department that is not there
    page = EmployeeService(request.dbsession).page(filters, page_request)
    return page_body(request, page, page_request, employee_json)
