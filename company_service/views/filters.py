"""The employee filters from a query string: shared by the list, a
department's list and the CSV export, which no view module imports from
another."""

from typing import Literal

from ..schemas.query import EmployeeFilterQuery
from ..services.employees import EmployeeFilters


def employee_filters(
    params: EmployeeFilterQuery, department_id: int | Literal["null"] | None
) -> EmployeeFilters:
    """The filters of the list, the export and a department's list (whose
    department comes from the URL, not the query)."""
    return EmployeeFilters(
        department_id=department_id,
        manager_id=params.manager_id,
        active=params.active,
        hired_after=params.hired_after,
        hired_before=params.hired_before,
        q=params.q,
    )
