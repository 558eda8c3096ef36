"""``api_view``: ``view_config`` that will not register a view without a permission."""

from typing import Any

from pyramid.view import view_config

from ..schemas.query import NoQuery
from ..security import EDIT


def api_view(**settings: Any) -> view_config:
    """Register a JSON view; ``permission`` is required.

    Open views say so with ``permission=NO_PERMISSION_REQUIRED``, so an open
    route is always a decision someone wrote down, never an omission.
    ``query`` names the model of its query string (see views/query.py):
    by default none is accepted. ``writes`` (db.declared_writes) gives the
    view a writer's session; an ``edit`` view is one unless it says not.
    """
    if settings.get("permission") is None:
        raise TypeError(
            f"view for route {settings.get('route_name')!r} declares no permission"
        )
    settings.setdefault("renderer", "json")
    settings.setdefault("query", NoQuery)
    settings.setdefault("writes", settings["permission"] == EDIT)
    return view_config(**settings)
