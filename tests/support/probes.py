"""Views that exist only in the tests, to drive the request transaction into
each of its paths: commit, raise, return an error, raw SQL, a lost race.

Included through ``pyramid.includes`` in the tests' settings; the service
itself never registers them.
"""

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import transaction
from pydantic import BaseModel, Field
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.exc import OperationalError

from company_service.models import Department, Employee, name_key
from company_service.problems import problem_response
from company_service.schemas.department import DepartmentIn
from company_service.schemas.employee import EmployeeIn
from company_service.schemas.types import InputModel
from company_service.security import EDIT, VIEW
from company_service.services.departments import DepartmentService
from company_service.services.employees import EmployeeService
from company_service.views.body import parse_body

PREFIX = "/api/v1/_probe"
View = Callable[[Request], Any]
# (route name, path under PREFIX, method, permission, view), by @probe.
PROBES: list[tuple[str, str, str, str | None, View]] = []


def probe(
    name: str, path: str, method: str, permission: str | None
) -> Callable[[View], View]:
    """Serve the view at ``PREFIX + path`` as route ``probe.<name>``, under
    ``permission`` (None: the default one). :func:`includeme` adds them all,
    those under EDIT as writes."""

    def register(view: View) -> View:
        PROBES.append((f"probe.{name}", path, method, permission, view))
        return view

    return register


class NewDepartment(InputModel):  # read-only fields ignored, as in the service
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


@probe("departments", "/departments", "POST", EDIT)
def create_department(request: Request) -> dict[str, Any]:
    body = parse_body(request, NewDepartment)
    department = Department(name=body.name, description=body.description)
    request.dbsession.add(department)
    request.dbsession.flush()
    request.response.status_code = 201
    return {"id": department.id, "name": department.name}


class DepartmentWithHire(BaseModel):
    name: str
    email: str


@probe("hire", "/department-with-hire", "POST", EDIT)
def department_with_hire(request: Request) -> dict[str, Any]:
    """A department and its first hire, through the services, in one request."""
    body = parse_body(request, DepartmentWithHire)
    department = DepartmentService(request.dbsession).create(
        DepartmentIn(name=body.name)
    )
    EmployeeService(request.dbsession).create(
        EmployeeIn(
            first_name="First",
            last_name="Hire",
            email=body.email,
            salary=1,
            department_id=department.id,
        )
    )
    request.response.status_code = 201
    return {"department_id": department.id}


@probe("raise", "/write-then-raise", "POST", EDIT)
def write_then_raise(request: Request) -> dict[str, Any]:
    create_department(request)
    raise RuntimeError("boom: secret internals /etc/passwd SELECT")


@probe("error", "/write-then-return-error", "POST", EDIT)
def write_then_return_error(request: Request) -> Response:
    create_department(request)
    return problem_response(request, 422, "refused after writing")


@probe("raw", "/raw-sql", "POST", EDIT)
def raw_sql_write(request: Request) -> dict[str, Any]:
    """A text() INSERT with no ORM object and no mark_changed call."""
    body = parse_body(request, NewDepartment)
    statement = text(
        "INSERT INTO departments (name, name_key, description, created_at,"
        " updated_at, version) VALUES (:name, :key, NULL, :now, :now, 1)"
    ).bindparams(bindparam("now", type_=DateTime()))
    request.dbsession.execute(
        statement,
        {"name": body.name, "key": name_key(body.name), "now": datetime(2026, 1, 1)},
    )
    request.response.status_code = 201
    return {"name": body.name}


@probe("whoami", "/whoami", "GET", VIEW)
@probe("undeclared", "/undeclared", "GET", None)  # the default
def whoami(request: Request) -> dict[str, Any]:
    identity = request.identity
    return {"name": identity.name, "role": identity.role}


@probe("busy", "/busy", "POST", EDIT)
def always_busy(request: Request) -> dict[str, Any]:
    """Raise SQLite's "database is locked" on every attempt, counting them."""
    attempts = request.registry.setdefault("probe.busy_attempts", [])
    attempts.append(request.environ.get("retry.attempt"))
    raise OperationalError(
        "UPDATE x", {}, sqlite3.OperationalError("database is locked")
    )


@probe("increment", "/employees/{id}/increment", "POST", EDIT)
def increment_salary(request: Request) -> dict[str, Any]:
    """Read a counter, wait until a rival has read it too, then write it.

    On the first attempt both requests hold the same snapshot, so one of them
    must lose: PostgreSQL refuses its UPDATE with a serialization failure,
    MariaDB finds the version already moved (StaleDataError). The loser is
    retried by pyramid_retry, now alone, and succeeds. A side-effect row is
    written first, to prove that a lost attempt leaves nothing behind.
    """
    session = request.dbsession
    employee_id = int(request.matchdict["id"])
    attempt = request.environ.get("retry.attempt", 0)
    marker = request.headers.get("X-Probe-Marker", "marker")
    session.add(Department(name=f"{marker}-attempt-{attempt}"))
    session.flush()
    employee = session.scalars(select(Employee).where(Employee.id == employee_id)).one()
    before = employee.salary_cents
    barrier: threading.Barrier | None = request.registry.get("probe.barrier")
    if barrier is not None and attempt == 0:
        barrier.wait(timeout=10)
    employee.salary_cents = before + 1
    session.flush()
    return {"before": before, "after": before + 1, "attempt": attempt}


class FailsAtCommit:
    """A transaction participant that fails when the transaction commits.

    It votes before the SQLAlchemy session ("!" sorts before "sqlalchemy"),
    so the error arrives after the view has returned and before the
    database commits: exactly where a deferred constraint or a SERIALIZABLE
    conflict would surface.
    """

    def __init__(self, manager: Any, error: Exception) -> None:
        self.transaction_manager = manager
        self.error = error

    def sortKey(self) -> str:  # the name the transaction package calls
        return "!fails-at-commit"

    def tpc_vote(self, txn: Any) -> None:
        raise self.error

    def abort(self, txn: Any) -> None: ...
    def tpc_begin(self, txn: Any) -> None: ...
    def commit(self, txn: Any) -> None: ...
    def tpc_finish(self, txn: Any) -> None: ...
    def tpc_abort(self, txn: Any) -> None: ...


@probe("commit_fails", "/commit-fails", "POST", EDIT)
def commit_fails(request: Request) -> dict[str, Any]:
    """Write a row, then fail at commit: once (transient), always, or with a bug."""
    mode = request.headers["X-Probe-Mode"]
    attempt = request.environ.get("retry.attempt", 0)
    body = parse_body(request, NewDepartment)  # a retry must read the body again
    request.dbsession.add(Department(name=f"{body.name}-{mode}-attempt-{attempt}"))
    request.dbsession.flush()
    locked = OperationalError(
        "COMMIT", {}, sqlite3.OperationalError("database is locked")
    )
    error = {
        "once": locked if attempt == 0 else None,
        "always": locked,
        "bug": RuntimeError("boom at commit"),
    }[mode]
    if error is not None:
        request.tm.get().join(FailsAtCommit(request.tm, error))
    return {"attempt": attempt}


@probe("slow", "/slow-query", "GET", VIEW)
def slow_query(request: Request) -> dict[str, Any]:
    """A statement that takes two seconds, to meet db.statement_timeout_ms."""
    session = request.dbsession
    sleep = "SELECT pg_sleep(2)"
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        sleep = "SELECT SLEEP(2)"
    session.execute(text(sleep))
    return {"slept": True}


@probe("slow_write", "/slow-write", "POST", EDIT)
def slow_write(request: Request) -> dict[str, Any]:
    """Write, sleep the given seconds, write again: a request to interrupt."""
    marker = request.headers["X-Probe-Marker"]
    seconds = float(request.headers["X-Probe-Seconds"])
    request.dbsession.add(Department(name=f"{marker}-before"))
    request.dbsession.flush()
    time.sleep(seconds)
    request.dbsession.add(Department(name=f"{marker}-after"))
    request.dbsession.flush()
    request.response.status_code = 201
    return {"slept": seconds}


@probe("tm", "/transaction", "GET", VIEW)
def transaction_facts(request: Request) -> dict[str, Any]:
    """What kind of transaction manager the request has."""
    return {
        "explicit": request.tm.explicit,
        "is_global_manager": request.tm is transaction.manager,
    }


@probe("savepoint", "/savepoint", "POST", EDIT)
def nested_savepoint(request: Request) -> dict[str, Any]:
    """A savepoint rolled back inside a request that then commits."""
    session = request.dbsession
    with session.begin_nested() as savepoint:
        session.add(Department(name="rolled back to the savepoint"))
        session.flush()
        savepoint.rollback()
    session.add(Department(name="kept after the savepoint"))
    session.flush()
    return {}


@probe("commit_in_view", "/commit-in-view", "POST", EDIT)
def commit_in_view(request: Request) -> dict[str, Any]:
    """What no view may do: commit the session itself, half-way through."""
    create_department(request)
    request.dbsession.commit()
    return {}


def includeme(config: Configurator) -> None:
    for name, path, method, permission, view in PROBES:
        config.add_route(name, PREFIX + path)
        config.add_view(
            view,
            route_name=name,
            request_method=method,
            permission=permission,
            renderer="json",
            writes=permission == EDIT,
        )
