"""ETags and the If-Match / If-None-Match preconditions (RFC 9110 §13).

An ETag is a strong validator naming one state of one item; clients treat it
as opaque. A read evaluates the preconditions on the row it shows; a write's
service evaluates them (``expect``) on the row it has locked, so no other
writer can move the state between the check and the change.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from pyramid.httpexceptions import HTTPNotModified, HTTPPreconditionFailed
from pyramid.request import Request
from webob.etag import AnyETag, ETagMatcher

OWS = " \t"  # around a field value, not part of it (RFC 9110 §5.5)


@dataclass(frozen=True, slots=True)
class Tags:
    """What one header names: any current state (``*``), or these opaque-tags."""

    tags: frozenset[str] = frozenset()
    any_state: bool = False

    def match(self, current: str) -> bool:
        return self.any_state or current in self.tags


def header_tags(request: Request, key: str, *, strong: bool) -> Tags | None:
    """The tags a header names; None when the request does not carry it.

    If-Match compares strongly (``strong``: a ``W/`` tag never matches),
    If-None-Match weakly (``W/`` is dropped). A present but empty header
    matches nothing, where WebOb would read it as ``*``.
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


def evaluate(request: Request, current: str, *, safe: bool) -> bool:
    """RFC 9110 §13.2.2 in its order, on the item's ``current`` tag: 412 when
    the method must not be performed; True when a ``safe`` one (GET, HEAD)
    should answer 304. Steps 2 and 4 need a Last-Modified, which this service
    does not send; step 5 is for ranges, which it does not serve.
    """
    if_match = header_tags(request, "HTTP_IF_MATCH", strong=True)
    if if_match is not None and not if_match.match(current):
        raise HTTPPreconditionFailed(detail=f'the current state is "{current}"')
    if_none_match = header_tags(request, "HTTP_IF_NONE_MATCH", strong=False)
    if if_none_match is None or not if_none_match.match(current):
        return False
    if safe:
        return True
    if if_none_match.any_state:
        raise HTTPPreconditionFailed(detail="If-None-Match is * and the item exists")
    raise HTTPPreconditionFailed(
        detail=f'If-None-Match names the current state "{current}"'
    )


def expect(request: Request) -> Callable[[str], object]:
    """The request's preconditions, for a write's service to evaluate."""
    return partial(evaluate, request, safe=False)


def set_etag(request: Request, tag: str) -> None:
    request.response.etag = tag  # WebOb quotes it: a strong validator


def check_read(request: Request, tag: str) -> None:
    """A GET or HEAD: 412 when If-Match names another state; 304, with the
    ETag, when If-None-Match names this one (or is ``*``)."""
    if evaluate(request, tag, safe=True):
        raise HTTPNotModified(headers={"ETag": f'"{tag}"'})
