"""Every route of the service, in one place."""

from pyramid.config import Configurator

API = "/api/v1"


def includeme(config: Configurator) -> None:
    config.add_route("healthz", "/healthz")
    config.add_route("readyz", "/readyz")
