"""Stored answers to POSTs that carried an Idempotency-Key."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import TABLE_ARGS, Base, UTCDateTime, long_text, text, utcnow


class IdempotencyKey(Base):
    """One per (token, key), written in the transaction of the effect: a
    failed request leaves the key free."""

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
    # The claiming request's X-Request-ID; NULL for keys older than revision
    # c8e1a4f2d6b3 (expand now, NOT NULL once they expire).
    request_id: Mapped[str | None] = mapped_column(text(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
