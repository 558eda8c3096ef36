"""Every route of the service, in one place."""

import re

from pyramid.config import Configurator

API = "/api/v1"
DOCS_STATIC = f"{API}/docs/static"
# The files of Swagger UI's bundle that the docs page (views/docs.py) loads,
# with their media types: the only ones served. The rest of the bundle (its
# stock index.html, a swagger-initializer.js that renders another host's
# document) is not this service's, so its paths answer 404 like any other.
DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
# "__": Pyramid's prefix for the routes of static files, which are no API
# operation: the OpenAPI document and its tests leave them out by that name.
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
    # Swagger UI's files, from the installed package (no CDN, works offline),
    # by exact name: no other file of the bundle, and no directory index.
    names = "|".join(re.escape(name) for name in DOCS_ASSETS)
    config.add_route(DOCS_ASSET_ROUTE, f"{DOCS_STATIC}/{{asset:{names}}}")
