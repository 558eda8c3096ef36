"""API tokens: only a hash of each is stored; the token is shown once."""

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import TABLE_ARGS, Base, UTCDateTime, text, utcnow

ROLES = ("reader", "editor")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("role IN ('reader', 'editor')", name="role"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(text(100), unique=True)
    role: Mapped[str] = mapped_column(text(20))
    # SHA-256 hex of the token: tokens carry 256 random bits, so a fast hash
    # is as safe as a slow one and keeps the per-request lookup cheap.
    token_hash: Mapped[str] = mapped_column(text(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ApiToken {self.name!r} {self.role}>"
