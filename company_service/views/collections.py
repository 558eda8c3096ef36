"""The shape every collection response shares: items, cursor, Link, total."""

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from pyramid.request import Request

from ..paging import CursorCodec, SortField, parse_sort
from ..services.listing import Page, PageRequest
from .query import QueryParams

PAGING_PARAMETERS = ("limit", "cursor", "sort", "count")
MAX_LIMIT = 500
DEFAULT_LIMIT = 50


def read_page_request(
    request: Request, params: QueryParams, scope: str, fields: Mapping[str, SortField]
) -> PageRequest:
    """limit, sort, count and cursor from the query string (errors collected)."""
    limit = params.integer("limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    count = params.boolean("count") or False
    try:
        sort = parse_sort(params.values.get("sort"), fields)
    except ValueError as error:
        params.error("sort", str(error))
        sort = parse_sort(None, fields)
    after = None
    cursor = params.values.get("cursor")
    if cursor is not None and "sort" not in [e["loc"][1] for e in params.errors]:
        codec: CursorCodec = request.registry["cursor_codec"]
        try:
            after = codec.decode(cursor, scope, sort)
        except ValueError as error:
            params.error("cursor", str(error))
    return PageRequest(scope=scope, sort=sort, limit=limit, after=after, count=count)


def page_body(
    request: Request,
    page: Page[Any],
    page_request: PageRequest,
    represent: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """The JSON body; also sets ``Link: <...>; rel="next"`` when more follow."""
    next_cursor = None
    if page.next_after is not None:
        codec: CursorCodec = request.registry["cursor_codec"]
        next_cursor = codec.encode(
            page_request.scope, page_request.sort, page.next_after
        )
        query = [(k, v) for k, v in request.GET.items() if k != "cursor"]
        query.append(("cursor", next_cursor))
        request.response.headers["Link"] = (
            f'<{request.path_url}?{urlencode(query)}>; rel="next"'
        )
    body: dict[str, Any] = {
        "items": [represent(row) for row in page.items],
        "next_cursor": next_cursor,
    }
    if page.total is not None:
        body["total"] = page.total
    return body
