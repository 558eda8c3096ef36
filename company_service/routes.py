"""Every route of the service, in one place."""

from pyramid.config import Configurator
from swagger_ui_bundle import swagger_ui_path

API = "/api/v1"
DOCS_STATIC = f"{API}/docs/static"
ID = r"{id:[0-9]+}"  # ASCII digits: \d also matches fullwidth ones, int() too


def includeme(config: Configurator) -> None:
    config.add_route("healthz", "/healthz")
    config.add_route("readyz", "/readyz")

    config.add_route("departments", f"{API}/departments")
    config.add_route("department", f"{API}/departments/{ID}")
    config.add_route("department_employees", f"{API}/departments/{ID}/employees")
    config.add_route("department_raise", f"{API}/departments/{ID}/raise")

    config.add_route("employees", f"{API}/employees")
    config.add_route("employees_bulk", f"{API}/employees/bulk")
    config.add_route("employees_csv", f"{API}/employees.csv")
    config.add_route("employee", f"{API}/employees/{ID}")
    config.add_route("employee_reports", f"{API}/employees/{ID}/reports")
    config.add_route("employee_chain", f"{API}/employees/{ID}/chain")

    config.add_route("department_stats", f"{API}/stats/departments")

    config.add_route("openapi", f"{API}/openapi.json")
    config.add_route("docs", f"{API}/docs")
    # Swagger UI's files, from the installed package: no CDN, works offline.
    config.add_static_view(
        DOCS_STATIC.lstrip("/"), str(swagger_ui_path), cache_max_age=3600
    )
