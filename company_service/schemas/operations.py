"""Bodies of the operations that show what a transaction is for."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from .employee import EmployeeIn
from .types import NUMBER_TEXT, Cents, InputModel, parse_decimal

MAX_BULK_ITEMS = 1000


class BulkIn(InputModel):
    items: list[EmployeeIn] = Field(min_length=1, max_length=MAX_BULK_ITEMS)


class RaiseIn(InputModel):
    percent: Annotated[
        Decimal,
        BeforeValidator(parse_decimal),
        Field(ge=-50, le=100, decimal_places=4),
        WithJsonSchema(
            {
                "anyOf": [
                    {
                        "type": "number",
                        "minimum": -50,
                        "maximum": 100,
                        "multipleOf": 0.0001,
                    },
                    {"type": "string", "pattern": NUMBER_TEXT},
                ],
                "description": "-50 <= percent <= 100, at most 4 decimal places",
            }
        ),
    ]


class RaiseOut(BaseModel):
    updated: int


class DepartmentStats(BaseModel):
    department_id: int
    name: str
    headcount: int
    active_headcount: int
    total_salary: Cents | None
    avg_salary: Cents | None
    min_salary: Cents | None
    max_salary: Cents | None
