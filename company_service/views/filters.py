"""The employee filters from a query string: the list's, a department's
list's and the CSV export's."""

from typing import Literal

from ..schemas.query import EmployeeFilterQuery
from ..services.employees import EmployeeFilters


def employee_filters(
    params: EmployeeFilterQuery, department_id: int | Literal["null"] | None
) -> EmployeeFilters:
    return EmployeeFilters(
        department_id=department_id,
        manager_id=params.manager_id,
        active=params.active,
        hired_after=params.hired_after,
        hired_before=params.hired_before,
        q=params.q,
    )
