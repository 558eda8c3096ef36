"""``X-Request-ID`` and the headers every response carries."""

import itertools
import re
import secrets
from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

STANDARD_HEADERS_TWEEN = "company_service.request_id.standard_headers_tween_factory"

# A client's id is echoed only if it is short and plain: it ends up in logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# A fresh id is this process's random prefix and a count: unique across
# processes and restarts like a uuid4, without asking the OS for randomness
# on every request. 32 hex digits, as a uuid4's.
PROCESS_PREFIX = secrets.token_hex(8)
COUNT = itertools.count()


def request_id(request: Request) -> str:
    """The client's X-Request-ID when sane, else a fresh one.

    Kept in the environ, which pyramid_retry reuses, so every attempt of a
    retried request logs under the id the client finally receives.
    """
    given: str = request.headers.get("X-Request-ID", "")
    if SANE_REQUEST_ID.fullmatch(given):
        return given
    environ = request.environ
    kept: str | None = environ.get("company_service.request_id")
    if kept is None:
        kept = environ["company_service.request_id"] = (
            f"{PROCESS_PREFIX}{next(COUNT) % 16**16:016x}"
        )
    return kept


def add_standard_headers(request: Request, response: Response) -> None:
    """Appended to the header list in one step: each ``headers[...] = ``
    would search and rebuild it. No view sets either of the first two."""
    added = [
        ("X-Request-ID", request.request_id),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if "Cache-Control" not in response.headers:
        added.append(("Cache-Control", "no-store"))
    response.headerlist.extend(added)


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
    config.add_tween(STANDARD_HEADERS_TWEEN, under=INGRESS)
