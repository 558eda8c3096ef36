"""Keyset pagination: sorts, signed cursors and the seek condition.

A page never uses OFFSET: it asks for the rows that sort after the last row
of the previous page, which an index on (field, id) finds directly, so page
1,000 costs what page 1 costs. The cursor carries that last row's sort values
and the sort it was made for, signed so a client cannot forge or reuse it.
"""

import base64
import binascii
import hmac
import json
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pyramid.config import Configurator
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

log = logging.getLogger(__name__)

SIGNATURE_BYTES = 16


@dataclass(frozen=True, slots=True)
class SortField:
    """A sortable API field: its column and the Python type of its values."""

    column: InstrumentedAttribute[Any] | ColumnElement[Any]
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
            return column < value if key.descending else column > value
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


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _from_json(value: Any, kind: type) -> Any:
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed
    if kind is date:
        return date.fromisoformat(value)
    if type(value) is not kind:
        raise ValueError(f"expected {kind.__name__}")
    return value


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Signs cursors with HMAC-SHA256 so that tampering is detected."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.digest(self._secret, payload, "sha256")[:SIGNATURE_BYTES]

    def encode(self, scope: str, sort: Sort, values: Sequence[Any]) -> str:
        payload = json.dumps(
            [scope, sort.text, [_json_value(v) for v in values]], separators=(",", ":")
        ).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}"

    def decode(self, cursor: str, scope: str, sort: Sort) -> list[Any]:
        """The values in ``cursor``; ValueError unless it is intact and was
        made for this collection (``scope``) and this sort."""
        try:
            body, _, signature = cursor.partition(".")
            payload = _b64decode(body)
            if not hmac.compare_digest(_b64decode(signature), self._sign(payload)):
                raise ValueError("bad signature")
            made_for, sort_text, values = json.loads(payload)
        except (ValueError, TypeError, binascii.Error):
            raise ValueError("not a cursor this service issued") from None
        if made_for != scope:
            raise ValueError("this cursor was made for another collection")
        if sort_text != sort.text:
            raise ValueError(f"this cursor was made for sort={sort_text}")
        if not isinstance(values, list) or len(values) != len(sort.keys):
            raise ValueError("not a cursor this service issued")
        try:
            return [
                _from_json(v, key.field.kind)
                for v, key in zip(values, sort.keys, strict=True)
            ]
        except (ValueError, TypeError):
            raise ValueError("not a cursor this service issued") from None


def cursor_secret(settings: Mapping[str, Any]) -> bytes:
    """``CURSOR_SECRET`` or ``api.cursor_secret``; else a secret for this process.

    Processes behind one load balancer must share a secret, or a cursor made
    by one is refused by the next.
    """
    secret = os.environ.get("CURSOR_SECRET") or settings.get("api.cursor_secret")
    if secret:
        return secret.encode()
    log.info("no api.cursor_secret set: cursors are valid in this process only")
    return secrets.token_bytes(32)


def includeme(config: Configurator) -> None:
    config.registry["cursor_codec"] = CursorCodec(cursor_secret(config.get_settings()))
