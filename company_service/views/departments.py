"""/api/v1/departments and /api/v1/departments/{id}."""

from pyramid.request import Request
from pyramid.response import Response

from ..models import Department
from ..schemas.department import DepartmentIn, DepartmentOut
from ..schemas.employee import EmployeeOut
from ..schemas.query import DepartmentEmployeesQuery, DepartmentListQuery
from ..schemas.responses import DepartmentPage, EmployeePage
from ..schemas.rows import from_row
from ..security import EDIT, VIEW
from ..services.departments import DepartmentService, department_tag
from ..services.employees import EmployeeService
from .body import MERGE_PATCH, parse_body, read_json, validate
from .collections import page_body, read_page_request
from .conditional import expect
from .config import CREATED, ETAG, LINK, api_view
from .filters import employee_filters
from .items import changed, created, deleted, item_id, shown
from .query import query


def department_out(department: Department, employee_count: int) -> DepartmentOut:
    """The representation of a department object just written."""
    return DepartmentOut.model_validate(
        {
            "id": department.id,
            "name": department.name,
            "description": department.description,
            "employee_count": employee_count,
            "created_at": department.created_at,
            "updated_at": department.updated_at,
            "version": department.version,
        }
    )


def service(request: Request) -> DepartmentService:
    return DepartmentService(request.dbsession)


@api_view(
    "departments",
    permission=VIEW,
    query=DepartmentListQuery,
    summary="List departments",
    response_headers=(LINK,),
)
def list_departments(request: Request) -> DepartmentPage:
    params = query(request, DepartmentListQuery)
    page_request = read_page_request(request, params, "departments")
    page = service(request).page(page_request)
    return page_body(request, page, page_request, DepartmentPage, DepartmentOut)


@api_view(
    "departments",
    "POST",
    permission=EDIT,
    summary="Create a department",
    status=201,
    body=DepartmentIn,
    response_headers=CREATED,
    problems=(409,),
)
def post_department(request: Request) -> DepartmentOut:
    data = parse_body(request, DepartmentIn)
    department = service(request).create(data)
    body = department_out(department, 0)
    return created(
        request, "department", department.id, body, department_tag(department, 0)
    )


@api_view(
    "department",
    permission=VIEW,
    summary="Read a department",
    preconditions=True,
    response_headers=(ETAG,),
)
def get_department(request: Request) -> DepartmentOut:
    row = service(request).row(item_id(request))
    body = from_row(DepartmentOut, row)
    return shown(request, body, department_tag(row, row.employee_count))


@api_view(
    "department",
    "PUT",
    permission=EDIT,
    summary="Replace a department",
    body=DepartmentIn,
    preconditions=True,
    response_headers=(ETAG,),
    problems=(409,),
)
def replace_department(request: Request) -> DepartmentOut:
    data = parse_body(request, DepartmentIn)
    return _replace(request, data)


@api_view(
    "department",
    "PATCH",
    permission=EDIT,
    summary="Change a department (JSON merge patch)",
    body=DepartmentIn,
    patch=True,
    preconditions=True,
    response_headers=(ETAG,),
    problems=(409,),
)
def patch_department(request: Request) -> DepartmentOut:
    patch = read_json(request, MERGE_PATCH)
    departments = service(request)
    current = departments.get(item_id(request), lock=True)
    merged = {"name": current.name, "description": current.description}
    if isinstance(patch, dict):
        merged.update(patch)  # read-only fields are dropped by DepartmentIn
    else:
        merged = patch  # not an object: validation says so
    return _replace(request, validate(DepartmentIn, merged))


def _replace(request: Request, data: DepartmentIn) -> DepartmentOut:
    departments = service(request)
    department, count = departments.replace(item_id(request), data, expect(request))
    body = department_out(department, count)
    return changed(request, body, department_tag(department, count))


@api_view(
    "department",
    "DELETE",
    permission=EDIT,
    summary="Delete a department without employees",
    status=204,
    preconditions=True,
    problems=(409,),
)
def remove_department(request: Request) -> Response:
    service(request).delete(item_id(request), expect(request))
    return deleted(request)


@api_view(
    "department_employees",
    permission=VIEW,
    query=DepartmentEmployeesQuery,
    summary="List a department's employees",
    response_headers=(LINK,),
)
def list_department_employees(request: Request) -> EmployeePage:
    department_id = item_id(request)
    params = query(request, DepartmentEmployeesQuery)
    filters = employee_filters(params, department_id)
    page_request = read_page_request(request, params, "employees")
    service(request).get(department_id)  # 404 for a department that is not there
    page = EmployeeService(request.dbsession).page(filters, page_request)
    return page_body(request, page, page_request, EmployeePage, EmployeeOut)
