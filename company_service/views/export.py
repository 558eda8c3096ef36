"""GET /api/v1/employees.csv: every matching employee, streamed as CSV."""

from collections.abc import Mapping
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..paging import parse_sort
from ..security import VIEW
from ..services.employee_csv import DEFAULT_BATCH_SIZE, export_statement, stream_csv
from ..services.employees import SORT_FIELDS
from .config import api_view
from .employees import FILTERS, employee_filters
from .query import QueryParams

NO_PAGING = ("limit", "cursor", "count")


def csv_batch_size(settings: Mapping[str, Any]) -> int:
    """Rows per chunk and per fetch: ``api.csv_batch_size``, default 1000."""
    return max(1, int(settings.get("api.csv_batch_size", DEFAULT_BATCH_SIZE)))


@api_view(route_name="employees_csv", request_method="GET", permission=VIEW)
def export_employees(request: Request) -> Response:
    """The list's filters and ``sort``; no paging, since it is every row.

    The token and the query are checked here, inside the request's
    transaction, so a bad request gets its 401 or 422 before any byte of
    CSV. The rows themselves are read only when the server iterates the
    body, after pyramid_tm has committed and closed the request's session:
    ``stream_csv`` therefore reads them on a connection of its own.
    """
    params = QueryParams(request, [*FILTERS, "sort", *NO_PAGING])
    for name in NO_PAGING:
        if name in params.values:
            params.error(name, "the export has no pages: it returns every row")
    filters = employee_filters(params)
    try:
        sort = parse_sort(params.values.get("sort"), SORT_FIELDS)
    except ValueError as error:
        params.error("sort", str(error))
        sort = parse_sort(None, SORT_FIELDS)
    params.check()
    rows = stream_csv(
        request.registry["db.export_engine"],
        export_statement(filters, sort),
        csv_batch_size(request.registry.settings),
    )
    response = Response(app_iter=rows, content_type="text/csv", charset="utf-8")
    response.content_disposition = 'attachment; filename="employees.csv"'
    return response
