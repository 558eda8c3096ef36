"""Validators and optimistic concurrency: which state a client last saw.

A state tag (the inside of an ETag) names one state of one resource: its
id, its version and, for a department, its employee count. Ids are never
reused and a version only grows, so no tag can ever match another
resource, or another state of the same one.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm.exc import StaleDataError

from .errors import PreconditionFailed


def state_tag(*parts: int) -> str:
    """The tag of a state: ``state_tag(7, 3)`` is ``"7-3"``."""
    return "-".join(str(part) for part in parts)


@dataclass(frozen=True, slots=True)
class Expected:
    """The states an ``If-Match`` accepts: any current one (``*``), or these."""

    tags: frozenset[str] = frozenset()
    any_state: bool = False

    def allows(self, current: str) -> bool:
        return self.any_state or current in self.tags


def check_state(current: str, expected: Expected | None) -> None:
    """Refuse when the locked row is not in a state the client expected."""
    if expected is not None and not expected.allows(current):
        raise PreconditionFailed(f'the current state is "{current}"')


@contextmanager
def versioned_write(expected: Expected | None) -> Iterator[None]:
    """Around a flush whose UPDATE/DELETE says ``WHERE version = <loaded>``.

    The write paths lock the row before reading it, so another writer can
    only have moved the version first where a database does not take that
    lock (SQLite serialises writers instead). Kept as a backstop: a client
    that sent If-Match gets 412; without If-Match the error propagates and
    pyramid_retry runs the request again on the fresh row.
    """
    try:
        yield
    except StaleDataError:
        if expected is None:
            raise
        raise PreconditionFailed("the row changed while this request ran") from None
