"""Every route of the service, in one place."""

from pyramid.config import Configurator

API = "/api/v1"
ID = r"{id:\d+}"


def includeme(config: Configurator) -> None:
    config.add_route("healthz", "/healthz")
    config.add_route("readyz", "/readyz")

    config.add_route("departments", f"{API}/departments")
    config.add_route("department", f"{API}/departments/{ID}")
    config.add_route("department_employees", f"{API}/departments/{ID}/employees")

    config.add_route("employees", f"{API}/employees")
    config.add_route("employee", f"{API}/employees/{ID}")
    config.add_route("employee_reports", f"{API}/employees/{ID}/reports")
    config.add_route("employee_chain", f"{API}/employees/{ID}/chain")
