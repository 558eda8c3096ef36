"""CORS for the origins in ``cors.allow_origins`` (none by default).

A tween at the very top: a preflight is answered before routing to a view,
so it needs no token and opens no transaction. With no origins configured
the tween is not installed at all.
"""

from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.settings import aslist

from .introspection import allowed_methods
from .request_id import STANDARD_HEADERS_TWEEN

EXPOSED_HEADERS = "Consistency-Token, ETag, Link, Location, X-Request-ID"
ALLOWED_HEADERS = ", ".join(
    [
        "Authorization",
        "Consistency-Token",
        "Content-Type",
        "Idempotency-Key",
        "If-Match",
        "If-None-Match",
        "X-Request-ID",
    ]
)
PREFLIGHT_MAX_AGE = "600"


def allowed_origins(registry: Registry) -> frozenset[str]:
    return frozenset(aslist(registry.settings.get("cors.allow_origins", "")))


def preflight(request: Request, registry: Registry) -> Response:
    """204 naming the methods the addressed route answers (none if no route)."""
    match = registry.getUtility(IRoutesMapper)(request)
    route = match["route"]
    methods = allowed_methods(registry, route.name) if route is not None else ()
    return Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": ", ".join(sorted(methods)),
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )


Handler = Callable[[Request], Response]


def cors_tween_factory(handler: Handler, registry: Registry) -> Handler:
    origins = allowed_origins(registry)

    def cors_tween(request: Request) -> Response:
        origin = request.headers.get("Origin")
        if origin not in origins:
            response = handler(request)
        else:
            is_preflight = (
                request.method == "OPTIONS"
                and "Access-Control-Request-Method" in request.headers
            )
            response = (
                preflight(request, registry) if is_preflight else handler(request)
            )
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        # The answer depends on Origin whenever CORS is on: tell the caches.
        response.vary = tuple(dict.fromkeys([*(response.vary or ()), "Origin"]))
        return response

    return cors_tween


def includeme(config: Configurator) -> None:
    if allowed_origins(config.registry):
        # Below the standard headers, so its own answers carry them too.
        config.add_tween(
            "company_service.cors.cors_tween_factory", under=STANDARD_HEADERS_TWEEN
        )
