"""Bearer-token authentication and role-based permissions.

``reader`` may view; ``editor`` may also edit. A request with no usable token
has no identity: a protected view then answers 401, and a known token without
the permission answers 403 (see ``views/errors.py``).
"""

from dataclasses import dataclass

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.security import Allowed, Denied
from sqlalchemy import bindparam, select

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


def find_identity(request: Request) -> Identity | None:
    token = bearer_token(request)
    if token is None:
        return None
    digest = hash_token(token)
    # On the request's own connection: the first statement of its transaction.
    # With standbys, the session binds this table to the primary (replicas.py):
    # a revoked token is refused at once, whatever a standby has replayed.
    connection = request.dbsession.connection(bind_arguments={"mapper": ApiToken})
    row = connection.execute(TOKEN_BY_HASH, {"digest": digest}).first()
    if row is None or not same_hash(row.token_hash, digest):
        return None
    return Identity(token_id=row.id, name=row.name, role=row.role)


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
    # Looked up once per request, inside the request's transaction.
    config.add_request_method(find_identity, "token_identity", reify=True)
    config.set_security_policy(BearerTokenSecurityPolicy())
