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
# A fresh id: a random prefix and a count, unique as a uuid4 is, without
# asking the OS for randomness on every request.
PROCESS_PREFIX = secrets.token_hex(8)
COUNT = itertools.count()


def request_id(request: Request) -> str:
    """The client's X-Request-ID when sane, else a fresh one, kept in the
    environ so every attempt of a retried request logs under one id."""
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
    """Appended in one step: each ``headers[...] =`` rebuilds the list."""
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
    """The outermost tween: it sees every answer, after commit or abort."""

    def standard_headers_tween(request: Request) -> Response:
        response = handler(request)
        add_standard_headers(request, response)
        return response

    return standard_headers_tween


def includeme(config: Configurator) -> None:
    config.add_tween(STANDARD_HEADERS_TWEEN, under=INGRESS)
