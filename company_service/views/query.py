"""Reading the query string: every problem collected, then reported at once."""

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import Request

from ..schemas.types import ISO_DATE, MAX_ID
from ..services.errors import InvalidInput

Null = Literal["null"]


def is_small_number(text: str) -> bool:
    """Plain digits, few enough for int() (which refuses over 4300 digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


class QueryParams:
    """Typed access to ``request.GET``; unknown or repeated names are errors.

    A misspelt filter silently ignored would answer a different question
    than the client asked, so it is refused instead.
    """

    def __init__(self, request: Request, allowed: Iterable[str]) -> None:
        self.errors: list[dict[str, Any]] = []
        self.values: dict[str, str] = {}
        allowed = set(allowed)
        try:
            query = request.GET  # WebOb decodes the query string on first use
        except UnicodeDecodeError:
            raise HTTPBadRequest(detail="the query string is not valid UTF-8") from None
        for name in dict.fromkeys(query.keys()):
            given = query.getall(name)
            if name not in allowed:
                self.error(name, f"unknown query parameter; known: {sorted(allowed)}")
            elif len(given) > 1:
                self.error(name, "given more than once")
            else:
                self.values[name] = given[0]

    def error(self, name: str, message: str) -> None:
        self.errors.append(
            {"loc": ["query", name], "msg": message, "type": "value_error"}
        )

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)

    def text(self, name: str, *, max_length: int = 200) -> str | None:
        value = self.values.get(name)
        if value is not None and not 1 <= len(value) <= max_length:
            self.error(name, f"must be 1 to {max_length} characters")
            return None
        if value is not None and any(c < " " or "\x7f" <= c <= "\x9f" for c in value):
            self.error(name, "must not contain control characters")
            return None
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        raw = self.values.get(name)
        if raw is None:
            return default
        if not is_small_number(raw) or not minimum <= int(raw) <= maximum:
            self.error(name, f"must be an integer from {minimum} to {maximum}")
            return default
        return int(raw)

    def id_or_null(self, name: str) -> int | Null | None:
        raw = self.values.get(name)
        if raw is None or raw == "null":
            return raw  # type: ignore[return-value]
        if not is_small_number(raw) or not 1 <= int(raw) <= MAX_ID:
            self.error(name, "must be an id or null")
            return None
        return int(raw)

    def boolean(self, name: str) -> bool | None:
        raw = self.values.get(name)
        if raw is None:
            return None
        if raw not in ("true", "false"):
            self.error(name, "must be true or false")
            return None
        return raw == "true"

    def iso_date(self, name: str) -> date | None:
        raw = self.values.get(name)
        if raw is None:
            return None
        try:
            if not ISO_DATE.fullmatch(raw):
                raise ValueError
            return date.fromisoformat(raw)
        except ValueError:
            self.error(name, "must be an ISO date, YYYY-MM-DD")
            return None
