"""The query string, checked against the route's model before the view runs:
a view deriver, so no view can forget to, and no route lets an unknown
parameter through. The view reads the result with ``query(request, Model)``.
"""

from typing import Any, TypeVar

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import Request

from ..schemas.query import QueryModel
from .body import validate

Q = TypeVar("Q", bound=QueryModel)
View = Any  # Pyramid's view callables: (context, request) -> response


def query_values(request: Request) -> dict[str, str | list[str]]:
    """``request.GET`` as a dict: a repeated name maps to a list (refused)."""
    values: dict[str, str | list[str]] = {}
    try:  # WebOb decodes the query string on first use
        for name, value in request.GET.items():
            given = values.get(name)
            if given is None:
                values[name] = value
            else:
                values[name] = (
                    [*given, value] if isinstance(given, list) else [given, value]
                )
    except UnicodeDecodeError:
        raise HTTPBadRequest(detail="the query string is not valid UTF-8") from None
    return values


def read_query(request: Request, model: type[Q]) -> Q:
    """The query string as ``model``, or a 422 naming every problem."""
    return validate(model, query_values(request), loc=("query",), explain=model.explain)


def query(request: Request, model: type[Q]) -> Q:
    """The view's validated query; ``model`` must be the one its route declares."""
    found = request.validated_query
    if type(found) is not model:
        raise TypeError(
            f"the view reads {model.__name__}, its route checks {type(found).__name__}"
        )
    return found


def checked_query(view: View, info: Any) -> View:
    """View deriver: validate the query string with the ``query`` option."""
    model: type[QueryModel] | None = info.options.get("query")
    if model is None:  # not an api_view: Pyramid's static files, say
        return view
    empty = model()  # frozen: one instance for every request without a query

    def query_checked_view(context: Any, request: Request) -> Any:
        request.validated_query = (
            read_query(request, model) if request.query_string else empty
        )
        return view(context, request)

    return query_checked_view


checked_query.options = ("query",)  # type: ignore[attr-defined]


def includeme(config: Configurator) -> None:
    config.add_view_deriver(checked_query, name="query")
