"""Keyset pagination: sorts and the seek condition.

A page never uses OFFSET: it asks for the rows that sort after the last row
of the previous page, which an index on (field, id) finds directly, so page
1,000 costs what page 1 costs. How the last row's values travel to the
client and back is ``cursors.py``'s business.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, and_, or_


@dataclass(frozen=True, slots=True)
class SortField:
    """A sortable API field: its column and the Python type of its values."""

    column: Column[Any]  # a table's column: rows are read by its key
    kind: type


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    field: SortField
    descending: bool

    @property
    def text(self) -> str:
        return f"-{self.name}" if self.descending else self.name


@dataclass(frozen=True, slots=True)
class Sort:
    keys: tuple[SortKey, ...]

    @property
    def text(self) -> str:
        """The canonical spelling, to which a cursor is bound."""
        return ",".join(key.text for key in self.keys)

    def order_by(self) -> list[ColumnElement[Any]]:
        return [
            key.field.column.desc() if key.descending else key.field.column.asc()
            for key in self.keys
        ]

    def values_of(self, row: object) -> list[Any]:
        return [getattr(row, key.field.column.key) for key in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``values`` in this order.

        (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., with < for descending
        keys, and a leading k1 >= v1 that gives the index a start point. On
        one key (the id) that is just k1 > v1, built with nothing around it.
        """
        if len(self.keys) == 1:
            key, value = self.keys[0], values[0]
            column = key.field.column
            beyond: ColumnElement[bool] = (
                column < value if key.descending else column > value
            )
            return beyond
        steps = []
        for i, key in enumerate(self.keys):
            column, value = key.field.column, values[i]
            beyond = column < value if key.descending else column > value
            equal_before = [self.keys[j].field.column == values[j] for j in range(i)]
            steps.append(and_(*equal_before, beyond))
        first, value = self.keys[0].field.column, values[0]
        start = first <= value if self.keys[0].descending else first >= value
        return and_(start, or_(*steps))


def parse_sort(raw: str | None, fields: Mapping[str, SortField]) -> Sort:
    """``-hire_date,last_name`` -> a Sort ending in ``id``; ValueError if bad.

    Every named field must be known and appear once. The id breaks ties in
    the direction of the last named field, so a sort on one field is served
    by one index read forwards or backwards; fields after an explicit id
    cannot change the order and are dropped.
    """
    keys: list[SortKey] = []
    for part in (raw if raw is not None else "id").split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.removeprefix("-")
        if name not in fields:
            allowed = ", ".join(fields)
            raise ValueError(f"cannot sort by {name!r}; choose from {allowed}")
        if any(key.name == name for key in keys):
            raise ValueError(f"{name!r} appears twice")
        keys.append(SortKey(name, fields[name], descending))
    names = [key.name for key in keys]
    if "id" in names:
        keys = keys[: names.index("id") + 1]
    else:
        keys.append(SortKey("id", fields["id"], keys[-1].descending))
    return Sort(tuple(keys))
