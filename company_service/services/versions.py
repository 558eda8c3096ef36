"""Validators and optimistic concurrency: which state a client last saw.

A state tag (the inside of an ETag) names one state of one resource: its
id, its version and, for a department, its employee count. Ids are never
reused and a version only grows, so no tag can ever match another
resource, or another state of the same one.

The preconditions (If-Match, If-None-Match) are evaluated here, against
such a tag, in the order RFC 9110 §13.2.2 gives; views/conditional.py
reads them from the request.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.orm.exc import StaleDataError

from .errors import PreconditionFailed


def state_tag(*parts: int) -> str:
    """The tag of a state: ``state_tag(7, 3)`` is ``"7-3"``."""
    return "-".join(str(part) for part in parts)


@dataclass(frozen=True, slots=True)
class Tags:
    """What one precondition header names: any current state (``*``), or these.

    The tags are opaque-tags, unquoted, already reduced by the header's
    comparison function (views/conditional.py): If-Match keeps strong tags
    only (strong comparison), If-None-Match drops ``W/`` (weak comparison).
    Every ETag this service sends is strong, so what is left to compare is
    plain string equality.
    """

    tags: frozenset[str] = frozenset()
    any_state: bool = False

    def match(self, current: str) -> bool:
        """``*`` matches any current state: the caller has found the item."""
        return self.any_state or current in self.tags


class Verdict(Enum):
    """What RFC 9110 §13.2.2 concludes for one state of one item."""

    PROCEED = "proceed"
    IF_MATCH_FAILED = "If-Match names no current state"  # step 1: 412
    IF_NONE_MATCH_MATCHED = "If-None-Match names it"  # step 3: 304 or 412


@dataclass(frozen=True, slots=True)
class Expected:
    """A request's preconditions: what the client expects of the current state.

    ``if_match`` is None when the request has no If-Match header, as
    ``if_none_match`` is for If-None-Match; an empty Tags is a header that
    names nothing (it is there, and matches no state).
    """

    if_match: Tags | None = None
    if_none_match: Tags | None = None

    def verdict(self, current: str) -> Verdict:
        """RFC 9110 §13.2.2, in its order. Steps 2 and 4 (If-Unmodified-Since,
        If-Modified-Since) need a Last-Modified validator, which this service
        does not send, so those headers are ignored; step 5 (If-Range) is for
        range requests, which it does not serve. The "unless the change has
        already been made" clause of step 1 is not taken: a request is never
        known to repeat one that already succeeded.
        """
        if self.if_match is not None and not self.if_match.match(current):
            return Verdict.IF_MATCH_FAILED
        if self.if_none_match is not None and self.if_none_match.match(current):
            return Verdict.IF_NONE_MATCH_MATCHED
        return Verdict.PROCEED


def check_state(current: str, expected: Expected | None, *, safe: bool = False) -> bool:
    """Evaluate the preconditions against the item's current state.

    The one place they are evaluated, for reads and writes alike: a write
    calls it on the row it has locked (FOR UPDATE), so no other writer can
    move the state between this check and the change; a read calls it on the
    row it is about to show. Raises PreconditionFailed (412) when the method
    must not be performed. Returns True when a ``safe`` method (GET, HEAD)
    should answer 304 Not Modified instead: the client's copy is current.
    """
    if expected is None:
        return False
    verdict = expected.verdict(current)
    if verdict is Verdict.IF_MATCH_FAILED:
        raise PreconditionFailed(f'the current state is "{current}"')
    if verdict is Verdict.IF_NONE_MATCH_MATCHED:
        if safe:
            return True
        if expected.if_none_match is not None and expected.if_none_match.any_state:
            raise PreconditionFailed("If-None-Match is * and the item exists")
        raise PreconditionFailed(f'If-None-Match names the current state "{current}"')
    return False


@contextmanager
def versioned_write(expected: Expected | None) -> Iterator[None]:
    """Around a flush whose UPDATE/DELETE says ``WHERE version = <loaded>``.

    The write paths lock the row before reading it, so another writer can
    only have moved the version first where a database does not take that
    lock (SQLite serialises writers instead). Kept as a backstop: a client
    that sent If-Match gets 412; without If-Match the error propagates and
    pyramid_retry runs the request again on the fresh row. A request with
    If-None-Match only is retried too: its condition passed on a state that
    is gone, and the retry evaluates it again on the new one.
    """
    try:
        yield
    except StaleDataError:
        if expected is None or expected.if_match is None:
            raise
        raise PreconditionFailed("the row changed while this request ran") from None
