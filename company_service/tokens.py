"""Making, hashing and checking bearer tokens (security policy and CLI)."""

import hashlib
import hmac
import re
import secrets

# 32 random bytes: 256 bits, well past the contract's 128.
TOKEN_BYTES = 32
# What a token of ours can look like; anything else is refused before any lookup.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,256}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 hex digest: what the database stores and looks up."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return TOKEN_SHAPE.fullmatch(token) is not None


def same_hash(stored: str, presented: str) -> bool:
    """Constant-time comparison, so timing reveals nothing about a stored hash."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))
