"""Field types shared by the request and response models.

Strict where JSON is unambiguous: an id is a JSON integer (not "3", not
true), a flag is a JSON boolean. Dates are ISO strings and nothing else.
"""

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails

from ..models import email_key

# ASCII digits everywhere: \d, int() and Decimal() also take other scripts'
# digits ("١٢٣" is 123 to them), which no client means.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# One grammar for a number written as a string, and the one JSON's numbers
# follow: ASCII digits, an optional fraction and exponent. Range and
# precision are the fields' own checks, each with its own message.
NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on every database


def parse_iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO date, YYYY-MM-DD")
    return date.fromisoformat(value)


_NUMBER = re.compile(NUMBER_TEXT)


# Far beyond any field's range or precision, and far inside what Decimal
# arithmetic takes: "0e3816637521029101671766996008" is 0, but scaling it
# raised InvalidOperation (found by the fuzzer).
MAX_EXPONENT = 100


def parse_decimal(value: Any) -> Any:
    """A JSON number (parsed as Decimal, see views/body.py) or a string in
    the same grammar; the field then checks its range and decimal places."""
    if isinstance(value, bool):
        raise ValueError("must be a number or a numeric string")
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        try:
            value = Decimal(value)
        except ArithmeticError:  # an exponent beyond what Decimal takes
            raise ValueError("must be a number of a sensible size") from None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > MAX_EXPONENT:
            raise ValueError("must be a number of a sensible size")
        return value
    raise ValueError("must be a number or a numeric string")


def has_visible_character(value: str) -> str:
    """A name made only of spaces, invisible or format characters (U+200B,
    U+FEFF, U+202E...) names nobody."""
    if not any(unicodedata.category(c)[0] in "LNPS" for c in value):
        raise ValueError("must contain a visible character")
    return value


# --- the one place that spells money and time ------------------------------


def utc_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a Z, as the contract shows."""
    if value.tzinfo is not UTC:  # what the database gives back already is
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def naive_utc_timestamp(value: datetime) -> str:
    """``utc_timestamp`` of a naive UTC value as stored: the CSV export reads
    timestamps that way, since making each one aware only to format it
    again took a third of the export's time."""
    return f"{value.isoformat()}Z"


def cents_text(cents: int) -> str:
    """Whole cents as the contract spells money ("1234.50"), exactly."""
    return f"{cents // 100}.{cents % 100:02d}"


# The representations' read-only fields: a client may send back what it got
# (input models ignore these), any other unknown field is an error.
READ_ONLY = frozenset({"id", "created_at", "updated_at", "version", "employee_count"})


def document_read_only(schema: dict[str, Any]) -> None:
    """Say in the JSON schema (so in the OpenAPI document) what
    ``InputModel`` does: read-only fields are accepted, whatever their
    value, and ignored."""
    for name in sorted(READ_ONLY):
        schema["properties"].setdefault(
            name, {"readOnly": True, "description": "ignored on input"}
        )


class InputModel(BaseModel):
    """A request body's model: strict about unknown fields, except that the
    read-only fields of a representation are dropped here, the one place."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=document_read_only,
    )

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in READ_ONLY}
        return data


Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Flag = Annotated[bool, Strict()]
IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
# PostgreSQL cannot store NUL; a one-line field has no control characters
# and none of Unicode's line and paragraph separators (U+0085 is among the
# controls).
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
NO_NUL = r"^[^\x00]*$"
# What a client is told when a pattern refuses a value: what the pattern
# means, not the regular expression.
PATTERN_MESSAGES = {
    ONE_LINE: "must be one line, with no control characters",
    NO_NUL: "must not contain the NUL character (U+0000)",
}


def contract_message(error: ErrorDetails) -> str:
    """pydantic's message for ``error``, in JSON's words rather than naming a
    model class (a body or item that is not an object) or a Python type, never
    showing a regular expression (a pattern), and without the "Value error, "
    before a validator's own words. Needs the error's context."""
    kind, context = error["type"], error.get("ctx", {})
    if kind == "model_type":
        return "must be a JSON object"
    if kind == "list_type":
        return "must be a JSON array"
    if kind == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(
            str(context.get("pattern")), "contains a character that is not allowed here"
        )
    if kind == "value_error" and isinstance(context.get("error"), ValueError):
        return str(context["error"])
    return error["msg"]


def as_email_key(value: str) -> str:
    """The address as stored, still within the column once lower-cased
    (which lengthens a few characters)."""
    key = email_key(value)
    if len(key) > 254:
        raise ValueError("the address is too long")
    return key


Name = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=100, pattern=ONE_LINE),
    AfterValidator(has_visible_character),
]
Line = Annotated[str, Strict(), Field(max_length=200, pattern=ONE_LINE)]
Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(as_email_key)]
Money = Annotated[
    Decimal,
    BeforeValidator(parse_decimal),
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
                {"type": "string", "pattern": NUMBER_TEXT},
            ],
            "description": "0 <= salary < 10^10, at most 2 decimal places",
        }
    ),
]
# Money out: whole cents in, "1234.50" out.
Cents = Annotated[
    int,
    PlainSerializer(cents_text, return_type=str),
    # Any number of digits: a department's total can pass 10^10.
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(utc_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
