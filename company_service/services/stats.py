"""Per-department headcount and salary statistics, in one aggregate query."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Department, Employee

CENT = Decimal("0.01")


def money(cents: Any) -> str | None:
    return None if cents is None else f"{Decimal(int(cents)).scaleb(-2):.2f}"


def department_stats(session: Session) -> list[dict[str, Any]]:
    """One row per department, empty ones included.

    The average is total / count in exact decimals, rounded half-up: each
    database's own AVG rounds (or floats) differently.
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
    items = []
    for department_id, name, headcount, active, total, low, high in rows:
        average = None
        if active:
            mean = Decimal(int(total)) / active / 100
            average = f"{mean.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"
        items.append(
            {
                "department_id": department_id,
                "name": name,
                "headcount": headcount,
                "active_headcount": active,
                "total_salary": money(total),
                "avg_salary": average,
                "min_salary": money(low),
                "max_salary": money(high),
            }
        )
    return items
