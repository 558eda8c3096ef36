"""company_service: departments and employees over JSON, one transaction per request."""

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from .request import Request


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """The WSGI application factory named in the ini files."""
    config = Configurator(settings=settings, request_factory=Request)
    config.include(".request_id")
    config.include(".hosts")
    config.include(".cors")
    config.include(".renderers")
    config.include(".db")
    config.include(".body_limit")
    config.include(".security")
    config.include(".cursors")
    config.include(".views.idempotency")
    config.include(".views.query")
    config.include(".views.config")
    config.include(".routes")
    config.scan(".views")
    return config.make_wsgi_app()
