"""What the business rules refuse, naming the fields; views/errors.py turns
each into its problem."""

from collections.abc import Sequence
from typing import NamedTuple

from transaction.interfaces import TransientError


class FieldError(NamedTuple):
    """One refused field: its path in the request body, and why."""

    path: tuple[str | int, ...]
    message: str


class DomainError(Exception):
    """``detail`` is written for the client."""

    def __init__(self, detail: str, fields: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = list(fields)


class NotFound(DomainError):
    """The addressed row does not exist."""


class Conflict(DomainError):
    """The change collides with stored state: a unique value, a dependant row."""


class InvalidFields(DomainError):
    """Well-formed input that breaks a rule."""

    def __init__(self, fields: Sequence[FieldError]) -> None:
        super().__init__("invalid fields", fields)


class Contended(DomainError, TransientError):  # type: ignore[misc]
    """Another transaction got there first: not the client's fault, so the
    request is run again, and sees the other's result."""
