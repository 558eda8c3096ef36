"""GET /api/v1/employees.csv: every matching employee, streamed as CSV."""

from collections.abc import Mapping
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..schemas.query import EmployeeExportQuery
from ..security import VIEW
from ..services.employee_csv import DEFAULT_BATCH_SIZE, export_statement, stream_csv
from .config import api_view
from .filters import employee_filters
from .query import query


def csv_batch_size(settings: Mapping[str, Any]) -> int:
    """Rows per chunk and per fetch: ``api.csv_batch_size``, default 1000."""
    return max(1, int(settings.get("api.csv_batch_size", DEFAULT_BATCH_SIZE)))


@api_view(
    "employees_csv",
    permission=VIEW,
    query=EmployeeExportQuery,
    summary="Every matching employee as CSV, streamed",
    media_type="text/csv",
)
def export_employees(request: Request) -> Response:
    """The list's filters and ``sort``, unpaged. The query is checked here,
    before any byte of CSV; the rows are read on a connection of their own
    as the body streams (docs/transactions.md, "When the request's
    transaction is not enough")."""
    params = query(request, EmployeeExportQuery)
    filters = employee_filters(params, params.department_id)
    rows = stream_csv(
        request.registry["db.export_engine"],
        export_statement(filters, params.sort),
        csv_batch_size(request.registry.settings),
    )
    response = Response(app_iter=rows, content_type="text/csv", charset="utf-8")
    response.content_disposition = 'attachment; filename="employees.csv"'
    return response
