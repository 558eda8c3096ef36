"""What a service needs to serve one page of a collection."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import Session

from ..paging import Sort

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    scope: str  # the collection; a cursor is valid only for the one it came from
    sort: Sort
    limit: int
    after: Sequence[Any] | None = None  # the previous page's last sort values
    count: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_after: list[Any] | None  # sort values to continue from, None on the last page
    total: int | None


def first_column(row: Any) -> Any:
    return row[0]


def fetch_page(
    session: Session | Connection,
    statement: Select[Any],
    page: PageRequest,
    entity: Callable[[Any], Any] = first_column,
) -> Page[Any]:
    """Run ``statement`` (already filtered) as one keyset page. The cursor's
    sort values are read from ``entity(row)``: by default the first column
    (an ORM entity, from a session), or the row itself when it holds the
    columns (a Core statement, on the session's connection).

    One statement for the rows (limit + 1, to learn whether more follow) and,
    when asked, one for the total: the same two whatever the page size.
    """
    total = None
    if page.count:
        total = session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
    ordered = statement.order_by(*page.sort.order_by()).limit(page.limit + 1)
    if page.after is not None:
        ordered = ordered.where(page.sort.after(page.after))
    rows = list(session.execute(ordered))
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_after = page.sort.values_of(entity(rows[-1])) if more else None
    return Page(items=rows, next_after=next_after, total=total)
