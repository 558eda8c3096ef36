"""company_service: departments and employees over JSON, one transaction per request."""

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from .request_class import bake_request_properties
from .views.config import require_permissions


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """The WSGI application factory named in the ini files."""
    config = Configurator(settings=settings)
    config.include(".request_id")
    config.include(".cors")
    config.include(".renderers")
    config.include(".db")
    config.include(".body_limit")
    config.include(".security")
    config.include(".paging")
    config.include(".views.idempotency")
    config.include(".routes")
    config.scan(".views")
    require_permissions(config)
    bake_request_properties(config)
    return config.make_wsgi_app()
