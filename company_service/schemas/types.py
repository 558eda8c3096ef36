"""Field types shared by the request and response models.

Strict where JSON is unambiguous: an id is a JSON integer (not "3", not
true), a flag is a JSON boolean. Dates are ISO strings and nothing else.
"""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONEY_TEXT = r"^\d{1,10}(\.\d{1,2})?$"
MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on every database


def parse_iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO date, YYYY-MM-DD")
    return date.fromisoformat(value)


def decimal_parser(text_pattern: str) -> Callable[[Any], Any]:
    """A JSON number (parsed as Decimal, see views/body.py) or a string of
    exactly the documented shape, so the schema and the code agree."""
    shape = re.compile(text_pattern)

    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number or a numeric string")
        if isinstance(value, Decimal | int):
            return Decimal(value)
        if isinstance(value, str) and shape.fullmatch(value):
            return Decimal(value)
        raise ValueError("must be a number or a numeric string")

    return parse


def utc_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a Z, as the contract shows."""
    if value.tzinfo is not UTC:  # what the database gives back already is
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def two_places(value: Decimal) -> str:
    return f"{value:.2f}"


def cents_text(cents: int) -> str:
    """Whole cents as MoneyText ("1234.50"), exactly, without a Decimal."""
    return f"{cents // 100}.{cents % 100:02d}"


Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Flag = Annotated[bool, Strict()]
IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
# PostgreSQL cannot store NUL; a one-line field has no control characters.
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
NO_NUL = r"^[^\x00]*$"


def lower_email(value: str) -> str:
    lowered = value.lower()
    if len(lowered) > 254:  # lower() can lengthen a few characters
        raise ValueError("the address is too long")
    return lowered


Name = Annotated[str, Strict(), Field(min_length=1, max_length=100, pattern=ONE_LINE)]
Line = Annotated[str, Strict(), Field(max_length=200, pattern=ONE_LINE)]
Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(lower_email)]
Money = Annotated[
    Decimal,
    BeforeValidator(decimal_parser(MONEY_TEXT)),
    Field(ge=0, lt=10**10, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "exclusiveMaximum": 10**10,
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": MONEY_TEXT},
            ],
            "description": "0 <= salary < 10^10, at most 2 decimal places",
        }
    ),
]
MoneyText = Annotated[
    Decimal,
    PlainSerializer(two_places, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,10}\.\d{2}$"}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(utc_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
