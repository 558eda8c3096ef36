"""``api_view``: how a view of this API is registered, and declares its operation.

What the OpenAPI document says of an operation is declared once, here, on
its view; openapi.py reads it back from Pyramid's introspector and derives
the rest (the problems a permission, a body, an ``{id}`` or a precondition
can cause).
"""

from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.view import view_config

from ..schemas.query import NoQuery
from ..security import EDIT

JSON = "application/json"
# Headers a success answer may carry; openapi.py has their schemas.
ETAG = "ETag"
LOCATION = "Location"
LINK = "Link"
CREATED = (ETAG, LOCATION)


@dataclass(frozen=True)
class Operation:
    """One view's operation, beyond its route, method, permission and query."""

    summary: str
    status: int = 200
    body: type[BaseModel] | None = None
    patch: bool = False  # the body is a JSON merge patch of ``body``
    media_type: str = JSON  # of the success answer; JSON is the returned model
    preconditions: bool = False  # If-Match and If-None-Match are evaluated
    response_headers: tuple[str, ...] = ()
    problems: tuple[int, ...] = ()  # those openapi.py cannot derive


def api_view(
    route_name: str,
    request_method: str = "GET",
    *,
    summary: str,
    status: int = 200,
    body: type[BaseModel] | None = None,
    patch: bool = False,
    media_type: str = JSON,
    preconditions: bool = False,
    response_headers: tuple[str, ...] = (),
    problems: tuple[int, ...] = (),
    **settings: Any,
) -> view_config:
    """Register a view of the API.

    ``query`` names the model of its query string (none by default). A JSON
    answer is the pydantic model the view is annotated to return. An ``edit``
    view ``writes`` (db.declared_writes) unless it says not. Other options go
    to ``view_config`` as they are.
    """
    settings.update(route_name=route_name, request_method=request_method)
    settings["operation"] = Operation(
        summary=summary, status=status, body=body, patch=patch,
        media_type=media_type, preconditions=preconditions,
        response_headers=response_headers, problems=problems,
    )  # fmt: skip
    settings.setdefault("renderer", "json")
    settings.setdefault("query", NoQuery)
    settings.setdefault("writes", settings.get("permission") == EDIT)
    return view_config(**settings)


def returned_model(view: Any) -> type[BaseModel] | None:
    """The pydantic model ``view`` is annotated to return, if it is one."""
    returned = get_type_hints(view).get("return")
    if isinstance(returned, type) and issubclass(returned, BaseModel):
        return returned
    return None


def checked_operation(view: Any, info: Any) -> Any:
    """View deriver: at start-up, a view that answers JSON must be annotated
    with the model it returns, the one its document names. Adds no work to a
    request."""
    operation: Operation | None = info.options.get("operation")
    if (
        operation is not None
        and operation.media_type == JSON
        and operation.status != 204
        and returned_model(info.original_view) is None
    ):
        raise ConfigurationError(
            f"view {info.original_view!r} answers JSON but is not annotated "
            "to return a pydantic model"
        )
    return view


checked_operation.options = ("operation",)  # type: ignore[attr-defined]


def includeme(config: Configurator) -> None:
    config.add_view_deriver(checked_operation, name="operation")
