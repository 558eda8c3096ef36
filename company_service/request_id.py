"""``X-Request-ID`` and the headers every response carries."""

import re
import uuid

from pyramid.config import Configurator
from pyramid.events import NewResponse
from pyramid.request import Request

# A client's id is echoed only if it is short and plain: it ends up in logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id(request: Request) -> str:
    """The client's X-Request-ID when sane, else a fresh one.

    Kept in the environ, which pyramid_retry reuses, so every attempt of a
    retried request logs under the id the client finally receives.
    """
    given = request.headers.get("X-Request-ID", "")
    if SANE_REQUEST_ID.fullmatch(given):
        return given
    return request.environ.setdefault("company_service.request_id", uuid.uuid4().hex)


def add_standard_headers(event: NewResponse) -> None:
    """Runs after pyramid_tm has committed or aborted, so it sees every answer."""
    request, response = event.request, event.response
    response.headers["X-Request-ID"] = request.request_id
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def includeme(config: Configurator) -> None:
    config.add_request_method(request_id, "request_id", reify=True)
    config.add_subscriber(add_standard_headers, NewResponse)
