"""What item views share: the id from the URL, and the answers with an ETag."""

from typing import TypeVar

from pydantic import BaseModel
from pyramid.request import Request
from pyramid.response import Response

from ..schemas.types import MAX_ID
from ..services.errors import NotFound
from .conditional import check_read, set_etag

M = TypeVar("M", bound=BaseModel)


def item_id(request: Request) -> int:
    """The route's ``{id}``; past the id column's range it cannot exist."""
    digits = request.matchdict["id"]  # the route admits only digits
    if len(digits) > 10 or int(digits) > MAX_ID:
        raise NotFound(f"nothing with id {digits[:20]}")
    return int(digits)


def shown(request: Request, body: M, tag: str) -> M:
    """200 with the ETag; 304 when the client already has this state, 412
    when it expected another one (RFC 9110 §13.2.2, views/conditional.py)."""
    check_read(request, tag)
    set_etag(request, tag)
    return body


def created(request: Request, route_name: str, item_id: int, body: M, tag: str) -> M:
    request.response.status_code = 201
    request.response.headers["Location"] = request.route_url(route_name, id=item_id)
    set_etag(request, tag)
    return body


def changed(request: Request, body: M, tag: str) -> M:
    set_etag(request, tag)
    return body


def deleted(request: Request) -> Response:
    return Response(status=204)
