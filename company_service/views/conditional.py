"""ETags and the If-Match / If-None-Match preconditions.

The ETag is the row's version, a strong validator: ``"3"``.
"""

from pyramid.request import Request
from pyramid.response import Response

from ..services.versions import ANY_VERSION


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def expected_versions(request: Request) -> frozenset[int] | None:
    """The versions ``If-Match`` accepts; None when it is absent.

    A tag that is not one of ours (weak, or not a version) matches nothing,
    so a request carrying only such tags fails with 412.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        return ANY_VERSION
    versions = set()
    for tag in tags:
        inner = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else ""
        if inner.isascii() and inner.isdigit() and len(inner) <= 18:
            versions.add(int(inner))
    return frozenset(versions) or frozenset({-1})


def not_modified(request: Request, version: int) -> Response | None:
    """A 304 when ``If-None-Match`` already names the current version."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return None
    current = etag(version)
    tags = [tag.removeprefix("W/") for tag in _tags(header)]  # weak comparison
    if "*" in tags or current in tags:
        return Response(status=304, headers={"ETag": current})
    return None
