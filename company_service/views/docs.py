"""/api/v1/openapi.json and /api/v1/docs: open, and served entirely from here.

Swagger UI's scripts and styles come from the swagger-ui-bundle-v2 package,
installed from PyPI with the service and served as static files, so the page
works with no network and loads nothing from a CDN.
"""

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from ..openapi import openapi_document
from ..routes import DOCS_STATIC
from .config import api_view

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>company_service API</title>
  <link rel="stylesheet" href="{static}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{static}/swagger-ui-bundle.js"></script>
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


@api_view(route_name="openapi", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def openapi_json(request: Request) -> dict[str, Any]:
    return openapi_document(request.registry)


@api_view(route_name="docs", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def docs(request: Request) -> Response:
    static = request.script_name + DOCS_STATIC
    html = PAGE.format(static=static, document=request.route_path("openapi"))
    return Response(html, content_type="text/html", charset="utf-8")
