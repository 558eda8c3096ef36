"""The shape every collection response shares: items, cursor, Link, total."""

from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel
from pyramid.request import Request

from ..cursors import CursorCodec
from ..paging import Sort
from ..problems import invalid
from ..schemas.rows import from_rows
from ..services.listing import Page, PageRequest


class PagedQuery(Protocol):
    """What a collection's query model has (see schemas/query.py)."""

    @property
    def limit(self) -> int: ...
    @property
    def cursor(self) -> str | None: ...
    @property
    def sort(self) -> Sort: ...
    @property
    def count(self) -> bool: ...


def read_page_request(request: Request, query: PagedQuery, scope: str) -> PageRequest:
    """The page asked for; the cursor is checked here, after the query model,
    since only the registry's codec can tell whether this service signed it
    for this collection and this sort."""
    after = None
    if query.cursor is not None:
        codec: CursorCodec = request.registry["cursor_codec"]
        try:
            after = codec.decode(query.cursor, scope, query.sort)
        except ValueError as error:
            raise invalid(("query", "cursor"), str(error)) from None
    return PageRequest(
        scope=scope, sort=query.sort, limit=query.limit, after=after, count=query.count
    )


P = TypeVar("P", bound=BaseModel)


def page_body(
    request: Request,
    page: Page[Any],
    page_request: PageRequest,
    page_model: type[P],
    item_model: type[BaseModel],
) -> P:
    """The page's representation (``page_model`` of ``item_model`` items);
    also sets ``Link: <...>; rel="next"`` when more follow."""
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
    fields: dict[str, Any] = {
        "items": from_rows(item_model, page.items),
        "next_cursor": next_cursor,
    }
    if page.total is not None:  # unset, it is left out of the body
        fields["total"] = page.total
    return page_model.model_construct(**fields)
