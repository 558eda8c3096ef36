"""The one way a view reads a request body: type, size, JSON, validation.

Each step fails with its own status (415, 413, 400, 422) and a message that
names what was wrong, so no view ever parses a body by hand.
"""

import json
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pyramid.httpexceptions import (
    HTTPBadRequest,
    HTTPRequestEntityTooLarge,
    HTTPUnsupportedMediaType,
)
from pyramid.request import Request

from ..body_limit import max_body_bytes
from ..problems import InvalidRequest
from ..schemas.types import contract_message

JSON = frozenset({"application/json"})
MERGE_PATCH = frozenset({"application/json", "application/merge-patch+json"})

M = TypeVar("M", bound=BaseModel)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def exact_number(text: str) -> Decimal:
    """98000.10 stays exactly that, never a binary float. A number whose
    exponent Decimal cannot hold (1e38166375210291016717669960080) is not one
    the service could use: refused like malformed JSON, not a 500."""
    try:
        return Decimal(text)
    except ArithmeticError:
        raise ValueError(f"the number {text[:40]} is out of range") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse ``{"a": 1, "a": 2}``: which value was meant is anybody's guess."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def read_json(request: Request, media_types: Collection[str] = JSON) -> Any:
    """The request's body decoded as JSON, or the right 4xx."""
    if request.content_type.strip().lower() not in media_types:  # RFC 9110: any case
        raise HTTPUnsupportedMediaType(
            detail=f"send the body as {' or '.join(sorted(media_types))}"
        )
    if request.charset != "UTF-8":  # WebOb's spelling of any UTF-8, or none given
        raise HTTPUnsupportedMediaType(detail="the body must be UTF-8")
    limit = max_body_bytes(request.registry.settings)
    if (request.content_length or 0) > limit:
        raise HTTPRequestEntityTooLarge(detail=f"the body exceeds {limit} bytes")
    # request.body, not body_file: it rewinds, and a retried request must
    # read the same body again. pyramid_retry has already buffered it.
    raw = request.body
    if len(raw) > limit:
        raise HTTPRequestEntityTooLarge(detail=f"the body exceeds {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPBadRequest(
            detail=f"the body is not UTF-8 (byte {error.start})"
        ) from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_reject_constant,
            parse_float=exact_number,
        )
    except RecursionError:
        raise HTTPBadRequest(detail="the body is nested too deeply") from None
    except ValueError as error:
        raise HTTPBadRequest(detail=f"the body is not valid JSON: {error}") from None


def validate(
    model: type[M],
    data: Any,
    *,
    loc: tuple[Any, ...] = ("body",),
    explain: Callable[[ErrorDetails], str] = contract_message,
) -> M:
    """Validate ``data`` against ``model``, reporting every error at once.

    The one place a ValidationError becomes ``errors[]``, for bodies and
    query strings alike (``loc``); ``explain`` may word a message better.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidRequest(
            [
                {"loc": [*loc, *e["loc"]], "msg": explain(e), "type": e["type"]}
                for e in error.errors(include_url=False)
            ]
        ) from None


def parse_body(
    request: Request, model: type[M], *, media_types: Collection[str] = JSON
) -> M:
    """Read, decode and validate the body."""
    return validate(model, read_json(request, media_types))
