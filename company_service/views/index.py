"""``/``: a newcomer's first request; open, like the pages it links to."""

from importlib.metadata import version

from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

from ..schemas.responses import Index
from .config import api_view

SERVICE = "company_service"
VERSION = version(SERVICE)


@api_view(
    "index",
    permission=NO_PERMISSION_REQUIRED,
    summary="Links to the documentation and the health checks",
)
def index(request: Request) -> Index:
    return Index(
        service=SERVICE,
        version=VERSION,
        docs=request.route_url("docs"),
        openapi=request.route_url("openapi"),
        healthz=request.route_url("healthz"),
        readyz=request.route_url("readyz"),
    )
