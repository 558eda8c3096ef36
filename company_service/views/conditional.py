"""ETags and the If-Match / If-None-Match preconditions, on WebOb's parsing.

An ETag is a strong validator holding a state tag (services/versions.py):
``"7-3"`` is employee 7 at version 3; ``"1-4-12"`` is department 1 at
version 4 with 12 employees. Clients treat it as opaque.

This module only reads the headers; services/versions.py evaluates them
(RFC 9110 §13.2.2), for a GET here on the row about to be shown, for a
write in the service on the row it has locked. WebOb parses the tag lists
and writes the ETag header.
"""

from pyramid.httpexceptions import HTTPNotModified
from pyramid.request import Request
from webob.etag import AnyETag, ETagMatcher

from ..services.versions import Expected, Tags, check_state

# A field whose whole value is "*" names any current representation; space
# and tab around a field value are not part of it (RFC 9110 §5.5).
OWS = " \t"


def _tags(request: Request, key: str, *, strong: bool) -> Tags | None:
    """The tags one header names; None when the request does not carry it.

    ``strong`` keeps strong tags only: If-Match compares strongly (a ``W/``
    tag never matches), If-None-Match weakly (``W/`` is dropped). A header
    that is present but empty, or has no tag WebOb can read, is an empty
    list: it matches nothing. (WebOb itself reads an empty If-Match as
    ``*``, which would let a blank header through as "any state".)
    """
    raw = request.environ.get(key)
    if raw is None:
        return None
    value = raw.strip(OWS)
    if not value:
        return Tags()
    matcher = ETagMatcher.parse(value, strong=strong)
    if matcher is AnyETag:
        return Tags(any_state=True)
    return Tags(tags=frozenset(matcher.etags))


def expected_state(request: Request) -> Expected | None:
    """The request's preconditions; None when it has neither header."""
    if_match = _tags(request, "HTTP_IF_MATCH", strong=True)
    if_none_match = _tags(request, "HTTP_IF_NONE_MATCH", strong=False)
    if if_match is None and if_none_match is None:
        return None
    return Expected(if_match=if_match, if_none_match=if_none_match)


def set_etag(request: Request, tag: str) -> None:
    request.response.etag = tag  # WebOb quotes it: a strong validator


def check_read(request: Request, tag: str) -> None:
    """The preconditions of a GET or HEAD, on the state about to be shown.

    412 (PreconditionFailed) when If-Match names no current state; 304,
    with the ETag and no body, when If-None-Match names it (or is ``*``: the
    item exists); otherwise nothing, and the view answers 200.
    """
    if check_state(tag, expected_state(request), safe=True):
        raise HTTPNotModified(headers={"ETag": f'"{tag}"'})
