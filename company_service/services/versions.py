"""Optimistic concurrency: the database decides whether a version still holds."""

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from .errors import PreconditionFailed

# "If-Match: *": any current version will do, as long as the row exists.
ANY_VERSION: frozenset[int] = frozenset()


def check_version(current: int, expected: Collection[int] | None) -> None:
    """Refuse early when the loaded row is already not what the client expected."""
    if expected is not None and expected is not ANY_VERSION and current not in expected:
        raise PreconditionFailed(f"the current version is {current}")


@contextmanager
def versioned_write(expected: Collection[int] | None) -> Iterator[None]:
    """Around a flush whose UPDATE/DELETE says ``WHERE version = <loaded>``.

    If another transaction moved the version first, SQLAlchemy finds no row
    and raises StaleDataError. A client that sent If-Match gets 412; without
    If-Match the error propagates and pyramid_retry runs the request again
    on the fresh row.
    """
    try:
        yield
    except StaleDataError:
        if expected is None:
            raise
        raise PreconditionFailed("the row changed while this request ran") from None
