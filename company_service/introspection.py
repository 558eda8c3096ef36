"""What the registered views say about the routes, read from Pyramid's
introspector: the methods each answers."""

from typing import Any

from pyramid.registry import Registry


def route_views(registry: Registry) -> list[dict[str, Any]]:
    """Every view registered on a route, with its permission (or None)."""
    views = []
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        if view["route_name"] is None:
            continue
        permissions = [
            related["value"]
            for related in item["related"]
            if related.category_name == "permissions"
        ]
        views.append({**view, "permission": permissions[0] if permissions else None})
    return views


def view_methods(view: dict[str, Any]) -> tuple[str, ...]:
    """The methods a registered view answers (a string or a tuple, as given)."""
    methods = view["request_methods"] or ("GET",)
    return (methods,) if isinstance(methods, str) else tuple(methods)


def allowed_methods(registry: Registry, route_name: str) -> frozenset[str]:
    """The methods some view of ``route_name`` answers, for 405's ``Allow``."""
    table: dict[str, frozenset[str]] | None = registry.get("allowed_methods")
    if table is None:
        collected: dict[str, set[str]] = {}
        for view in route_views(registry):
            methods = view_methods(view)
            if "GET" in methods:  # Pyramid answers HEAD wherever it answers GET
                methods = (*methods, "HEAD")
            collected.setdefault(view["route_name"], set()).update(methods)
        table = {name: frozenset(methods) for name, methods in collected.items()}
        registry["allowed_methods"] = table
    return table.get(route_name, frozenset())
