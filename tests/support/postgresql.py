"""A throw-away database on the shared PostgreSQL, for the tests that run
several processes against one server (SQLite would test its own locking)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from bench.seed import drop_database

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new, empty database named for ``prefix`` and this process (so two
    runs do not share one), dropped afterwards with whatever still connects
    to it; its SQLAlchemy URL."""
    url = f"{SERVER}/{prefix}_{os.getpid()}"
    drop_database(url, create=True)
    try:
        yield url
    finally:
        drop_database(url)
