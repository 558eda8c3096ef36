"""``X-Request-ID`` and the headers every response carries."""

import re
import uuid
from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

STANDARD_HEADERS_TWEEN = "company_service.request_id.standard_headers_tween_factory"

# A client's id is echoed only if it is short and plain: it ends up in logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id(request: Request) -> str:
    """The client's X-Request-ID when sane, else a fresh one.

    Kept in the environ, which pyramid_retry reuses, so every attempt of a
    retried request logs under the id the client finally receives.
    """
    given: str = request.headers.get("X-Request-ID", "")
    if SANE_REQUEST_ID.fullmatch(given):
        return given
    kept: str = request.environ.setdefault(
        "company_service.request_id", uuid.uuid4().hex
    )
    return kept


def add_standard_headers(request: Request, response: Response) -> None:
    response.headers["X-Request-ID"] = request.request_id
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def standard_headers_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """The outermost tween: above pyramid_tm (so after its commit or abort)
    and above CORS, it sees every answer the app gives.

    A tween rather than a NewResponse subscriber: with no subscriber at all,
    Pyramid skips its five event notifications on every request.
    """

    def standard_headers_tween(request: Request) -> Response:
        response = handler(request)
        add_standard_headers(request, response)
        return response

    return standard_headers_tween


def includeme(config: Configurator) -> None:
    config.add_request_method(request_id, "request_id", reify=True)
    config.add_tween(STANDARD_HEADERS_TWEEN, under=INGRESS)
