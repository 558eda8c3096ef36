"""ETags and the If-Match / If-None-Match preconditions.

An ETag is a strong validator holding a state tag (services/versions.py):
``"7-3"`` is employee 7 at version 3; ``"1-4-12"`` is department 1 at
version 4 with 12 employees. Clients treat it as opaque.
"""

from pyramid.request import Request
from pyramid.response import Response

from ..services.versions import Expected


def etag(tag: str) -> str:
    return f'"{tag}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def expected_state(request: Request) -> Expected | None:
    """The states ``If-Match`` accepts; None when it is absent.

    If-Match compares strongly: a weak tag, or anything not quoted, matches
    nothing, so a request carrying only such tags fails with 412.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        return Expected(any_state=True)
    return Expected(
        tags=frozenset(
            tag[1:-1] for tag in tags if len(tag) >= 2 and tag[0] == tag[-1] == '"'
        )
    )


def not_modified(request: Request, tag: str) -> Response | None:
    """A 304 when ``If-None-Match`` already names the current state."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return None
    current = etag(tag)
    tags = [tag.removeprefix("W/") for tag in _tags(header)]  # weak comparison
    if "*" in tags or current in tags:
        return Response(status=304, headers={"ETag": current})
    return None
