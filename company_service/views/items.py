"""What item views share: the id from the URL, and the answers with an ETag."""

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..schemas.types import MAX_ID
from ..services.errors import NotFound
from .conditional import etag, not_modified


def item_id(request: Request) -> int:
    """The route's ``{id}``; past the id column's range it cannot exist."""
    digits = request.matchdict["id"]  # the route admits only digits
    if len(digits) > 10 or int(digits) > MAX_ID:
        raise NotFound(f"nothing with id {digits[:20]}")
    return int(digits)


def shown(
    request: Request, body: dict[str, Any], tag: str
) -> dict[str, Any] | Response:
    """200 with the ETag, or 304 when the client already has this state."""
    unchanged = not_modified(request, tag)
    if unchanged is not None:
        return unchanged
    request.response.headers["ETag"] = etag(tag)
    return body


def created(
    request: Request, route_name: str, item_id: int, body: dict[str, Any], tag: str
) -> dict[str, Any]:
    request.response.status_code = 201
    request.response.headers["Location"] = request.route_url(route_name, id=item_id)
    request.response.headers["ETag"] = etag(tag)
    return body


def changed(request: Request, body: dict[str, Any], tag: str) -> dict[str, Any]:
    request.response.headers["ETag"] = etag(tag)
    return body


def deleted(request: Request) -> Response:
    return Response(status=204)
