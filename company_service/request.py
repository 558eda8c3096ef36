"""The request class: what a request of this app knows, each computed once.

Pyramid's ``add_request_method(..., reify=True)`` makes a new class for
every request to hang such properties on, and that class alone cost more
than the request's token and headers together. A request factory whose class
defines them costs nothing per request: Pyramid's documented alternative.
So pyramid_tm's ``request.tm`` is defined here too, with pyramid_tm's own
``create_tm``, and db.py registers pyramid_tm's tween itself instead of
including pyramid_tm, whose includeme would add it as a request method.
"""

from typing import Any

import pyramid_tm
from pyramid.decorator import reify
from pyramid.request import Request as PyramidRequest
from sqlalchemy.orm import Session

from . import db, request_id, security


class Request(PyramidRequest):  # type: ignore[misc]  # Pyramid is untyped
    """Each property is computed on first use, then kept for the request.
    (Pyramid's ``reify`` is untyped: mypy is told the type of each.)"""

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
