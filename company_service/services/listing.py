"""What a service needs to serve one page of a collection."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from ..paging import Sort

T = TypeVar("T")
# A row of selected columns, however many: what reads return.
Record = Row[*tuple[Any, ...]]


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


def fetch_page(
    session: Session, statement: Select[Any], page: PageRequest
) -> Page[Record]:
    """Run ``statement`` (columns, already filtered) as one keyset page.

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
    next_after = page.sort.values_of(rows[-1]) if more else None
    return Page(items=rows, next_after=next_after, total=total)
