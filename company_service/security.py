"""Bearer-token authentication and role-based permissions.

``reader`` may view; ``editor`` may also edit; a view that names no
permission needs ``view`` (open ones say NO_PERMISSION_REQUIRED). No usable
token: 401; a token without the permission: 403 (views/errors.py). A valid
token is kept for ``auth.token_cache_seconds``, so a revoked one works that
long; an unknown one is never kept.
"""

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.request import Request
from pyramid.security import Allowed, Denied
from sqlalchemy import Connection, Engine, bindparam, select

from .db import TEST_SESSION
from .models import ApiToken
from .tokens import hash_token, same_hash, well_formed

# Built once: the statement's cache key is then computed once, not per request.
# Over the table's columns: no ORM entity, so no ORM compile step either.
tokens = ApiToken.__table__
TOKEN_BY_HASH = select(
    tokens.c.id, tokens.c.name, tokens.c.role, tokens.c.token_hash
).where(tokens.c.token_hash == bindparam("digest"), tokens.c.revoked_at.is_(None))

VIEW = "view"
EDIT = "edit"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": frozenset({VIEW}),
    "editor": frozenset({VIEW, EDIT}),
}


@dataclass(frozen=True, slots=True)
class Identity:
    token_id: int
    name: str
    role: str


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if well formed."""
    header: str = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not well_formed(token):
        return None
    return token


# Far more than a deployment has tokens: a bound, not a working size.
MAX_CACHED_TOKENS = 10_000


class TokenCache:
    """Identities of valid tokens by hash, each for ``seconds`` after it was read.

    Looked up on the primary (the readers' pool of ``sqlalchemy.url``, never
    a standby), on a connection of its own outside the request's
    transaction: the request's session is opened later, by its view, on the
    database its view declared (db.choose_bind).
    """

    def __init__(
        self,
        engine: Engine,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.seconds = seconds
        self.clock = clock
        self._kept: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()

    def identity(self, digest: str) -> Identity | None:
        now = self.clock()
        kept = self._kept.get(digest)
        if kept is not None and now < kept[1]:
            return kept[0]
        identity = self.read(digest)
        with self._lock:
            if identity is None:
                self._kept.pop(digest, None)
            elif self.seconds > 0:
                if len(self._kept) >= MAX_CACHED_TOKENS:
                    self._kept.clear()
                self._kept[digest] = (identity, now + self.seconds)
        return identity

    def read(self, digest: str) -> Identity | None:
        with self.engine.connect() as connection:
            return read_identity(connection, digest)


def read_identity(connection: Connection, digest: str) -> Identity | None:
    row = connection.execute(TOKEN_BY_HASH, {"digest": digest}).first()
    if row is None or not same_hash(row.token_hash, digest):
        return None
    return Identity(token_id=row.id, name=row.name, role=row.role)


def token_cache_seconds(settings: Mapping[str, Any]) -> float:
    """``auth.token_cache_seconds``: how long a revoked token may still work."""
    seconds = float(settings.get("auth.token_cache_seconds", 5))
    if not 0 <= seconds <= 60:
        raise ConfigurationError("auth.token_cache_seconds must be 0 to 60")
    return seconds


def find_identity(request: Request) -> Identity | None:
    token = bearer_token(request)
    if token is None:
        return None
    digest = hash_token(token)
    harness = request.environ.get(TEST_SESSION)
    if harness is not None:  # the test harness's uncommitted tokens, uncached
        return read_identity(harness.connection(), digest)
    cache: TokenCache = request.registry["token_cache"]
    return cache.identity(digest)


class BearerTokenSecurityPolicy:
    """A Pyramid 2 security policy over the ``api_tokens`` table."""

    def identity(self, request: Request) -> Identity | None:
        identity: Identity | None = request.token_identity
        return identity

    def authenticated_userid(self, request: Request) -> str | None:
        identity = request.token_identity
        return None if identity is None else f"token:{identity.name}"

    def permits(self, request: Request, context: object, permission: str) -> Allowed:
        identity = request.token_identity
        if identity is None:
            return Denied("no valid bearer token")
        if permission in ROLE_PERMISSIONS.get(identity.role, frozenset()):
            return Allowed(f"role {identity.role} has {permission}")
        return Denied(f"role {identity.role} lacks {permission}")

    # Both return the response headers to set: (name, value) pairs.
    def remember(
        self, request: Request, userid: str, **kw: object
    ) -> list[tuple[str, str]]:
        return []  # tokens are issued by the CLI, not by logging in

    def forget(self, request: Request, **kw: object) -> list[tuple[str, str]]:
        return []


def includeme(config: Configurator) -> None:
    registry = config.registry
    seconds = token_cache_seconds(config.get_settings())
    registry["token_cache"] = TokenCache(registry["db.engine"], seconds)
    config.set_security_policy(BearerTokenSecurityPolicy())
    config.set_default_permission(VIEW)
