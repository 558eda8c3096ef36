"""Per-department headcount and salary statistics, in one aggregate query."""

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Department, Employee


def department_stats(session: Session) -> list[dict[str, Any]]:
    """One row per department, empty ones included; money in whole cents.

    The average is total / count in exact integers, rounded half-up to a
    cent: each database's own AVG rounds (or floats) differently.
    """
    active_salary = case((Employee.active.is_(True), Employee.salary_cents))
    rows = session.execute(
        select(
            Department.id,
            Department.name,
            func.count(Employee.id),
            func.count(active_salary),
            func.sum(active_salary),
            func.min(active_salary),
            func.max(active_salary),
        )
        .outerjoin(Employee, Employee.department_id == Department.id)
        .group_by(Department.id, Department.name)
        .order_by(Department.id)
    )
    return [
        {
            "department_id": department_id,
            "name": name,
            "headcount": headcount,
            "active_headcount": active,
            "total_salary": None if total is None else int(total),
            "avg_salary": (2 * int(total) + active) // (2 * active) if active else None,
            "min_salary": low,
            "max_salary": high,
        }
        for department_id, name, headcount, active, total, low, high in rows
    ]
