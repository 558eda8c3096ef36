"""The baseline: three endpoints written the "simple" way the question asks about.

Plain Pyramid views running Core statements in ``engine.begin()`` per
request: no session, no pyramid_tm, no pyramid_retry, no authentication, no
validation beyond what the database itself refuses, no ETag, no problem+json.
Rows go through the service's own ``EmployeeOut``, so both build the same
representation at the same cost: the comparison is of everything around it.
``make bench`` serves this with production.ini's waitress settings and
compares the service to it.
"""

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.router import Router
from sqlalchemy import Engine, create_engine, insert, select

from company_service.models import cents, email_key
from company_service.schemas.employee import EmployeeOut
from company_service.services.employees import EMPLOYEE_COLUMNS as COLUMNS
from company_service.services.employees import employees


def employee_json(row: Any) -> dict[str, Any]:
    return EmployeeOut.model_validate(row).model_dump(mode="json")


def engine_of(request: Request) -> Engine:
    return request.registry["engine"]


def get_employee(request: Request) -> dict[str, Any]:
    with engine_of(request).begin() as connection:
        row = connection.execute(
            select(*COLUMNS).where(employees.c.id == int(request.matchdict["id"]))
        ).first()
    if row is None:
        raise HTTPNotFound()
    return employee_json(row)


def list_employees(request: Request) -> dict[str, Any]:
    """A keyset page by id; the cursor is the last id, unsigned."""
    limit = int(request.GET.get("limit", 50))
    statement = select(*COLUMNS).order_by(employees.c.id).limit(limit + 1)
    if "cursor" in request.GET:
        statement = statement.where(employees.c.id > int(request.GET["cursor"]))
    with engine_of(request).begin() as connection:
        rows = connection.execute(statement).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [employee_json(row) for row in rows],
        "next_cursor": str(rows[-1].id) if more else None,
    }


def create_employee(request: Request) -> dict[str, Any]:
    data = request.json_body
    now = datetime.now(UTC)
    values = {
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "email": email_key(data["email"]),
        "title": data.get("title"),
        "hire_date": datetime.fromisoformat(data["hire_date"]).date(),
        "salary_cents": cents(Decimal(str(data["salary"]))),
        "department_id": data.get("department_id"),
        "manager_id": data.get("manager_id"),
        "active": data.get("active", True),
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    with engine_of(request).begin() as connection:
        row = connection.execute(
            insert(employees).values(values).returning(*COLUMNS)
        ).one()
    request.response.status_code = 201
    return employee_json(row)


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    url = os.environ.get("DATABASE_URL") or settings["sqlalchemy.url"]
    config = Configurator(settings=settings)
    config.registry["engine"] = create_engine(
        url,
        pool_size=int(settings.get("sqlalchemy.pool_size", 10)),
        max_overflow=int(settings.get("sqlalchemy.max_overflow", 5)),
    )
    config.add_route("employees", "/api/v1/employees")
    config.add_route("employee", r"/api/v1/employees/{id:\d+}")
    for view, route, method in (
        (list_employees, "employees", "GET"),
        (create_employee, "employees", "POST"),
        (get_employee, "employee", "GET"),
    ):
        config.add_view(view, route_name=route, request_method=method, renderer="json")
    return config.make_wsgi_app()
