"""RFC 9457 problem details: the one shape every error response takes."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from .renderers import model_json
from .schemas.responses import Problem

PROBLEM_JSON = "application/problem+json"

ErrorItem = Mapping[str, Any]  # {"loc": [...], "msg": "...", "type": "..."}

# RFC 9110's reason phrases; Python's changed between versions (422).
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class InvalidRequest(Exception):
    """Parts of the request (body, query, a header) that cannot be used: a
    422 naming each."""

    def __init__(self, errors: Sequence[ErrorItem]) -> None:
        super().__init__(errors)
        self.errors = list(errors)


def invalid(loc: Sequence[str | int], message: str) -> InvalidRequest:
    """A 422 naming one part of the request."""
    return InvalidRequest([{"loc": list(loc), "msg": message, "type": "value_error"}])


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    errors: Sequence[ErrorItem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The problem+json response for ``status``; ``detail`` is written for the
    client: never an exception's text, SQL or a traceback."""
    fields: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": request.request_id,
    }
    if errors is not None:  # left unset otherwise, so left out of the body
        fields["errors"] = errors
    response = Response(
        status=status,
        content_type=PROBLEM_JSON,
        charset="utf-8",
        body=model_json(Problem.model_validate(fields)),
    )
    if headers:
        response.headers.update(headers)
    return response


def retry_after_seconds(request: Request) -> int:
    """``api.retry_after_seconds``: what a 503 tells the client to wait."""
    return int(request.registry.settings.get("api.retry_after_seconds", 1))
