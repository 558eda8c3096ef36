"""Page cursors: the last row's sort values, signed, for the client to return.

The cursor carries those values and the sort and collection it was made
for, signed with HMAC-SHA256 so a client cannot forge one or reuse it for
another sort. Which rows come after the values is ``paging.py``'s business.
"""

import base64
import binascii
import hmac
import json
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool

from .paging import Sort

log = logging.getLogger(__name__)

SIGNATURE_BYTES = 16


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
    by one is refused by the next, and one made before a restart is refused
    after it. So where ``api.cursor_secret_required`` is true (production.ini)
    a missing secret stops the app from starting, rather than letting every
    restart break the clients' paging.
    """
    secret = os.environ.get("CURSOR_SECRET") or settings.get("api.cursor_secret")
    if secret:
        return secret.encode()
    if asbool(settings.get("api.cursor_secret_required", False)):
        raise ConfigurationError(
            "api.cursor_secret is not set (nor the CURSOR_SECRET environment"
            " variable): every process serving this database must sign cursors"
            " with the same secret, e.g. the output of"
            " `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    log.info("no api.cursor_secret set: cursors are valid in this process only")
    return secrets.token_bytes(32)


def includeme(config: Configurator) -> None:
    config.registry["cursor_codec"] = CursorCodec(cursor_secret(config.get_settings()))
