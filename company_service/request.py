"""The request class: what a request of this app knows, each computed once.

Properties on the class instead of ``add_request_method``, which builds a
class per request (docs/transactions.md, "Why the app has its own request
class").
"""

from typing import Any

import pyramid_tm
from pyramid.decorator import reify
from pyramid.request import Request as PyramidRequest
from sqlalchemy.orm import Session

from . import db, request_id, security


class Request(PyramidRequest):  # type: ignore[misc]  # Pyramid is untyped
    """Pyramid's ``reify`` is untyped: mypy is told the type of each."""

    @reify  # type: ignore[untyped-decorator]
    def tm(self) -> Any:
        """The transaction manager pyramid_tm's tween begins and ends."""
        return pyramid_tm.create_tm(self)

    @reify  # type: ignore[untyped-decorator]
    def dbsession(self) -> Session:
        return db.request_dbsession(self)

    @reify  # type: ignore[untyped-decorator]
    def request_id(self) -> str:
        return request_id.request_id(self)

    @reify  # type: ignore[untyped-decorator]
    def token_identity(self) -> security.Identity | None:
        return security.find_identity(self)
