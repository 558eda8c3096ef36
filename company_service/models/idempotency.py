"""Stored answers to POSTs that carried an Idempotency-Key."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import TABLE_ARGS, Base, UTCDateTime, long_text, text, utcnow


class IdempotencyKey(Base):
    """One per (token, key): written in the same transaction as the effect.

    If the request fails, its transaction is aborted and this row with it,
    so the key stays free; if it succeeds, the effect and the stored answer
    commit together. Keys are scoped to the token that used them.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("token_id", "key"),
        Index(None, "created_at"),  # for purging expired keys
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(text(200))
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(text(64))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(long_text())
    location: Mapped[str | None] = mapped_column(text(2000))
    etag: Mapped[str | None] = mapped_column(text(40))
    # X-Request-ID of the request that claimed the key and produced the answer.
    # NULL for a key claimed before revision c8e1a4f2d6b3 (expand/contract:
    # NOT NULL once those have expired).
    request_id: Mapped[str | None] = mapped_column(text(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
