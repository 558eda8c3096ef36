"""Page cursors: the last row's sort values, with the collection and the sort
they were made for, signed with WebOb's SignedSerializer so a client can
neither forge one nor reuse it elsewhere. Which rows follow is paging.py's.
"""

import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool
from webob.cookies import SignedSerializer

from .paging import Sort

log = logging.getLogger(__name__)

NOT_OURS = "not a cursor this service issued"


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


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self.signer = SignedSerializer(secret, "company_service.cursor", "sha256")

    def encode(self, scope: str, sort: Sort, values: Sequence[Any]) -> str:
        payload = [scope, sort.text, [_json_value(v) for v in values]]
        return str(self.signer.dumps(payload), "ascii")

    def decode(self, cursor: str, scope: str, sort: Sort) -> list[Any]:
        """The values in ``cursor``; ValueError unless it is intact and was
        made for this collection (``scope``) and this sort."""
        try:
            made_for, sort_text, values = self.signer.loads(cursor)
        except (ValueError, TypeError):
            raise ValueError(NOT_OURS) from None
        if made_for != scope:
            raise ValueError("this cursor was made for another collection")
        if sort_text != sort.text:
            raise ValueError(f"this cursor was made for sort={sort_text}")
        if not isinstance(values, list) or len(values) != len(sort.keys):
            raise ValueError(NOT_OURS)
        try:
            return [
                _from_json(v, key.field.kind)
                for v, key in zip(values, sort.keys, strict=True)
            ]
        except (ValueError, TypeError):
            raise ValueError(NOT_OURS) from None


def cursor_secret(settings: Mapping[str, Any]) -> bytes:
    """``CURSOR_SECRET`` or ``api.cursor_secret``; else a secret for this process.

    Processes behind one balancer must share it, or one refuses another's
    cursors; with ``api.cursor_secret_required`` (production.ini) a missing
    secret stops the app rather than breaking paging at every restart.
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
