"""Idempotency keys: find a stored answer, claim a key, record an answer.

Everything here runs on the request's own session, so the claim and the
answer commit or abort together with the request's effect.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import IdempotencyKey
from ..models.meta import utcnow
from .errors import Contended

# Purge expired keys on every Nth claim: no daemon, and a bounded cost.
PURGE_EVERY = 100


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    body: str
    location: str | None
    etag: str | None


class IdempotencyStore:
    def __init__(self, session: Session, ttl: timedelta) -> None:
        self.session = session
        self.ttl = ttl

    def find(self, token_id: int, key: str) -> IdempotencyKey | None:
        """The live record of this key; an expired one is removed on sight."""
        record = self.session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.token_id == token_id, IdempotencyKey.key == key
            )
        ).one_or_none()
        if record is not None and record.created_at < self._cutoff():
            self.session.delete(record)
            self.session.flush()
            return None
        return record

    def claim(
        self, token_id: int, key: str, print_: str, request_id: str
    ) -> IdempotencyKey:
        """Insert the key before the work, so a concurrent twin waits on it."""
        record = IdempotencyKey(
            token_id=token_id, key=key, fingerprint=print_, request_id=request_id
        )
        self.session.add(record)
        try:
            self.session.flush()
        except IntegrityError:
            # A twin request holds this key. Once it commits, the retry finds
            # its stored answer; if it aborts, the retry claims the key.
            raise Contended(f"idempotency key {key!r} is in use") from None
        if record.id % PURGE_EVERY == 0:
            self.session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.created_at < self._cutoff())
            )
        return record

    def record(self, record: IdempotencyKey, answer: StoredAnswer) -> None:
        record.status_code = answer.status_code
        record.body = answer.body
        record.location = answer.location
        record.etag = answer.etag
        self.session.flush()

    def _cutoff(self) -> datetime:
        return utcnow() - self.ttl
