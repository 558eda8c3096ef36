"""Every error becomes problem+json here; none shows a traceback. These
views never touch the database: after a failed flush the session is unusable
until the transaction manager aborts it."""

import logging

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPException
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
)
from pyramid_retry import is_last_attempt, mark_error_retryable

from ..db import is_transient, is_unavailable
from ..introspection import allowed_methods
from ..problems import ErrorItem, InvalidRequest, problem_response, retry_after_seconds
from ..services.errors import Conflict, DomainError, InvalidFields, NotFound

log = logging.getLogger(__name__)

# Headers an HTTP exception may carry that the client needs to see.
FORWARDED_HEADERS = ("Allow", "Location", "Retry-After", "WWW-Authenticate")


@notfound_view_config()
def not_found(exc: HTTPException, request: Request) -> Response:
    """Unknown route: 404; known route, other method: 405 with ``Allow``."""
    route = request.matched_route
    if route is not None:
        allowed = allowed_methods(request.registry, route.name)
        if allowed and request.method not in allowed:
            return problem_response(
                request,
                405,
                f"{request.method} is not allowed on this resource",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
    return problem_response(request, 404, "there is nothing at this address")


@forbidden_view_config()
def forbidden(exc: HTTPException, request: Request) -> Response:
    """No usable token: 401 with a challenge. A token without the role: 403."""
    identity = request.token_identity  # already looked up by the policy
    if identity is None:
        return problem_response(
            request,
            401,
            "a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="company_service"'},
        )
    return problem_response(request, 403, f"a {identity.role} token may not do this")


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request: Request) -> Response:
    if exc.status_code < 400:
        return exc  # 304 and friends are answers, not problems
    headers = {k: exc.headers[k] for k in FORWARDED_HEADERS if k in exc.headers}
    return problem_response(request, exc.status_code, exc.detail, headers=headers)


@exception_view_config(URLDecodeError)
def undecodable_url(exc: URLDecodeError, request: Request) -> Response:
    return problem_response(request, 400, "the URL is not valid UTF-8")


def unprocessable(request: Request, errors: list[ErrorItem]) -> Response:
    count = len(errors)
    detail = "1 field is invalid" if count == 1 else f"{count} fields are invalid"
    return problem_response(request, 422, detail, errors=errors)


def body_errors(exc: DomainError, kind: str) -> list[ErrorItem]:
    """A domain error's fields, as the problem's ``errors``: in the body."""
    return [
        {"loc": ["body", *field.path], "msg": field.message, "type": kind}
        for field in exc.fields
    ]


@exception_view_config(InvalidRequest)
def invalid_request(exc: InvalidRequest, request: Request) -> Response:
    return unprocessable(request, exc.errors)


@exception_view_config(InvalidFields)
def invalid_fields(exc: InvalidFields, request: Request) -> Response:
    return unprocessable(request, body_errors(exc, "value_error"))


@exception_view_config(NotFound)
def not_found_row(exc: NotFound, request: Request) -> Response:
    return problem_response(request, 404, exc.detail)


@exception_view_config(Conflict)
def conflict(exc: Conflict, request: Request) -> Response:
    errors = body_errors(exc, "conflict") or None
    return problem_response(request, 409, exc.detail, errors=errors)


@exception_view_config(Exception)
def server_error(exc: Exception, request: Request) -> Response:
    """The last resort. A transient database error is marked retryable first.

    pyramid_retry then discards this response and runs the request again; only
    on the last attempt does the client see the 503. Everything else is a 500
    whose traceback goes to the log, never to the client.
    """
    if is_transient(exc):
        mark_error_retryable(exc)
        attempt = request.environ.get("retry.attempt", 0) + 1
        log.warning(
            "request %s: transient database error on attempt %d%s: %s",
            request.request_id,
            attempt,
            " (giving up)" if is_last_attempt(request) else ", retrying",
            type(exc.orig if hasattr(exc, "orig") else exc).__name__,
        )
        return problem_response(
            request,
            503,
            "the database is busy; try again shortly",
            headers={"Retry-After": str(retry_after_seconds(request))},
        )
    if is_unavailable(exc):
        log.warning(
            "request %s: the database is unavailable: %s",
            request.request_id,
            type(getattr(exc, "orig", None) or exc).__name__,
        )
        return problem_response(
            request,
            503,
            "the database is unavailable; try again shortly",
            headers={"Retry-After": str(retry_after_seconds(request))},
        )
    log.error(
        "request %s failed: %s %r",
        request.request_id,
        request.environ.get("REQUEST_METHOD"),
        request.environ.get("PATH_INFO"),  # raw: decoding it may be what failed
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return problem_response(request, 500, "the server failed to answer this request")
