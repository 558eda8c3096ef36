"""Every route of the service, in one place."""

import re

from pyramid.config import Configurator

API = "/api/v1"
DOCS_STATIC = f"{API}/docs/static"
# The only files of Swagger UI's bundle served: those the docs page loads.
DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
# "__": Pyramid's prefix for static files' routes, which are no operation.
DOCS_ASSET_ROUTE = "__docs_static"
ID = r"{id:[0-9]+}"  # ASCII digits: \d also matches fullwidth ones, int() too


def includeme(config: Configurator) -> None:
    config.add_route("index", "/")
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
    names = "|".join(re.escape(name) for name in DOCS_ASSETS)
    config.add_route(DOCS_ASSET_ROUTE, f"{DOCS_STATIC}/{{asset:{names}}}")
