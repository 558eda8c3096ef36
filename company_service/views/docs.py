"""/api/v1/openapi.json and /api/v1/docs: open, and served entirely from here.

Swagger UI comes from its installed package (no CDN), and only the files
the page loads are served: the bundle's stock page renders another host's
document.
"""

from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from swagger_ui_bundle import swagger_ui_path

from ..openapi import openapi_document
from ..routes import DOCS_ASSET_ROUTE, DOCS_ASSETS
from ..schemas.responses import OpenApiDocument
from .config import api_view

# The assets' URLs survive an upgrade: an hour, then a conditional request.
ASSET_MAX_AGE = 3600

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>company_service API</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{js}"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{document}",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true
    }});
  </script>
</body>
</html>
"""


@api_view("openapi", permission=NO_PERMISSION_REQUIRED, summary="This document")
def openapi_json(request: Request) -> OpenApiDocument:
    return openapi_document(request.registry)


@api_view(
    "docs",
    permission=NO_PERMISSION_REQUIRED,
    summary="This document, rendered",
    media_type="text/html",
)
def docs(request: Request) -> Response:
    html = PAGE.format(
        css=request.route_path(DOCS_ASSET_ROUTE, asset="swagger-ui.css"),
        js=request.route_path(DOCS_ASSET_ROUTE, asset="swagger-ui-bundle.js"),
        document=request.route_path("openapi"),
    )
    return Response(html, content_type="text/html", charset="utf-8")


@view_config(
    route_name=DOCS_ASSET_ROUTE, request_method="GET", permission=NO_PERMISSION_REQUIRED
)
def docs_asset(request: Request) -> Response:
    """One of the files the page loads: a file, not an API operation, so a
    plain ``view_config``."""
    name = request.matchdict["asset"]
    return FileResponse(
        str(swagger_ui_path / name),
        request,
        cache_max_age=ASSET_MAX_AGE,
        content_type=DOCS_ASSETS[name],
    )
