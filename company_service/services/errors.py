"""What the business rules can refuse. The views turn these into HTTP."""

from collections.abc import Sequence
from typing import Any

from transaction.interfaces import TransientError


class DomainError(Exception):
    """Base of every refusal a service may raise; ``detail`` is for the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The addressed row does not exist."""


class Conflict(DomainError):
    """The change collides with stored state (a unique value, a dependant row).

    ``errors`` lists every colliding field (a bulk request may have many);
    ``loc`` is the shorthand for one.
    """

    def __init__(
        self,
        detail: str,
        loc: Sequence[Any] = (),
        errors: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().__init__(detail)
        self.errors = list(errors) or (
            [{"loc": list(loc), "msg": detail, "type": "conflict"}] if loc else []
        )


class PreconditionFailed(DomainError):
    """A precondition (If-Match, If-None-Match) is false for the current state."""


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule; ``errors`` names each field."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        count = len(errors)
        super().__init__(
            "1 field is invalid" if count == 1 else f"{count} fields are invalid"
        )
        self.errors = list(errors)


class Contended(DomainError, TransientError):  # type: ignore[misc]
    """Another transaction got there first (a key or email it just stored).

    Not the client's fault: a transient error, so the request is run again
    (pyramid_retry, db.is_transient), and the new attempt sees the other
    transaction's result.
    """
