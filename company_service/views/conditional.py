"""ETags and the If-Match / If-None-Match preconditions, on WebOb's parsing.

An ETag is a strong validator holding a state tag (services/versions.py):
``"7-3"`` is employee 7 at version 3; ``"1-4-12"`` is department 1 at
version 4 with 12 employees. Clients treat it as opaque.

WebOb parses both headers (``request.if_match`` keeps strong tags only, as
If-Match compares strongly; ``request.if_none_match`` drops ``W/``, as
If-None-Match compares weakly) and writes the ETag header.
"""

from pyramid.httpexceptions import HTTPNotModified
from pyramid.request import Request
from webob.etag import AnyETag

from ..services.versions import Expected


def expected_state(request: Request) -> Expected | None:
    """The states ``If-Match`` accepts; None when the header is absent.

    A request carrying only weak or malformed tags accepts no state, so it
    fails with 412.
    """
    if "If-Match" not in request.headers:
        return None
    matcher = request.if_match
    if matcher is AnyETag:  # "*"
        return Expected(any_state=True)
    return Expected(tags=frozenset(matcher.etags))


def set_etag(request: Request, tag: str) -> None:
    request.response.etag = tag  # WebOb quotes it: a strong validator


def check_not_modified(request: Request, tag: str) -> None:
    """Answer 304 when ``If-None-Match`` already names the current state
    (or is ``*``: the item exists)."""
    matcher = request.if_none_match
    if matcher is AnyETag or tag in matcher:
        raise HTTPNotModified(headers={"ETag": f'"{tag}"'})
