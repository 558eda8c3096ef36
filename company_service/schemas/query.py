"""What each route accepts after the ``?``: one pydantic model per route,
also the document's query parameters.

Every value arrives as text (a list when repeated, which is refused). The
types accept only the documented spelling: ASCII digits (``int()`` also takes
other scripts' digits), ISO dates, ``true``/``false``; each says what it
expects in one message.
"""

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import ErrorDetails, PydanticCustomError, core_schema

from ..models import Department, Employee
from ..paging import Sort, SortField, parse_sort
from .types import MAX_ID, ONE_LINE, IsoDate, contract_message

employees = Employee.__table__
departments = Department.__table__
# The sortable fields of each collection: the API's name, its column, its type.
EMPLOYEE_SORTS = {
    "id": SortField(employees.c.id, int),
    "first_name": SortField(employees.c.first_name, str),
    "last_name": SortField(employees.c.last_name, str),
    "email": SortField(employees.c.email, str),
    "hire_date": SortField(employees.c.hire_date, date),
    "salary": SortField(employees.c.salary_cents, int),
    "created_at": SortField(employees.c.created_at, datetime),
}
DEPARTMENT_SORTS = {
    "id": SortField(departments.c.id, int),
    "name": SortField(departments.c.name, str),
    "created_at": SortField(departments.c.created_at, datetime),
}

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_TEXT = 200
TRUE_FALSE = ("true", "false")
ASCII_DIGITS = re.compile(r"[0-9]+")
MAX_DIGITS = 18  # past any bound here; int() refuses past 4300 digits anyway


def refusal(message: str) -> PydanticCustomError:
    """A ``value_error`` whose message is exactly ``message`` (no prefix, and
    braces in it are not a template)."""
    return PydanticCustomError("value_error", "{message}", {"message": message})


def one_value(message: str) -> WrapValidator:
    """Refuse a repeated parameter; replace any other error with ``message``,
    which says what is expected rather than which inner check failed."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, list):
            raise refusal("given more than once")
        try:
            return handler(value)
        except ValidationError:
            raise refusal(message) from None

    return WrapValidator(check)


def ascii_integer(value: Any) -> Any:
    """ASCII digits as an int; the bounds are checked after, by the schema."""
    if not isinstance(value, str) or not ASCII_DIGITS.fullmatch(value):
        raise ValueError("not ASCII digits")
    if len(value.lstrip("0")) > MAX_DIGITS:
        raise ValueError("too many digits")
    return int(value)


def true_or_false(value: Any) -> Any:
    if value not in TRUE_FALSE:
        raise ValueError("not true or false")
    return value == "true"


def sort_parser(fields: Mapping[str, SortField]) -> Callable[[Any], Sort]:
    """``paging.parse_sort``, held to the documented pattern (no spaces).

    A Sort is immutable, so the few spellings clients use are parsed once.
    """
    shape = re.compile(sort_pattern(fields))

    @lru_cache(maxsize=256)
    def parse_text(value: str) -> Sort:
        try:
            sort = parse_sort(value, fields)
        except ValueError as error:
            raise refusal(str(error)) from None
        if not shape.fullmatch(value):
            raise refusal("comma-separated fields, - for descending, no spaces")
        return sort

    def parse(value: Any) -> Sort:
        if not isinstance(value, str):
            raise refusal("given more than once")  # the only other input: a list
        return parse_text(value)

    return parse


def sort_pattern(fields: Mapping[str, SortField]) -> str:
    field = "-?(" + "|".join(re.escape(name) for name in fields) + ")"
    return f"^{field}(,{field})*$"


def sort_schema(fields: Mapping[str, SortField]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": sort_pattern(fields)})


Limit = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_LIMIT),
    BeforeValidator(ascii_integer),
    one_value(f"must be an integer from 1 to {MAX_LIMIT}"),
]
QueryId = Annotated[
    int, Strict(), Field(ge=1, le=MAX_ID), BeforeValidator(ascii_integer)
]
IdOrNull = Annotated[QueryId | Literal["null"], one_value("must be an id or null")]
Flag = Annotated[
    bool,
    Strict(),
    BeforeValidator(true_or_false),
    WithJsonSchema({"type": "string", "enum": list(TRUE_FALSE)}),
    one_value("must be true or false"),
]
Day = Annotated[IsoDate, one_value("must be an ISO date, YYYY-MM-DD")]
Text = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=MAX_TEXT, pattern=ONE_LINE),
    one_value(f"must be 1 to {MAX_TEXT} characters, none of them a control character"),
]
Cursor = Annotated[
    str, Strict(), Field(min_length=1), one_value("not a cursor this service issued")
]
EmployeeSort = Annotated[
    Sort, PlainValidator(sort_parser(EMPLOYEE_SORTS)), sort_schema(EMPLOYEE_SORTS)
]
DepartmentSort = Annotated[
    Sort, PlainValidator(sort_parser(DEPARTMENT_SORTS)), sort_schema(DEPARTMENT_SORTS)
]


class QueryParameterSchema(GenerateJsonSchema):
    """JSON schemas as a query parameter needs them: a parameter is absent or
    text, never null, so ``X | None = None`` is documented as ``X``."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


class QueryModel(BaseModel):
    """A route's query string. Unknown names are refused, not ignored: a
    misspelt filter silently dropped would answer another question.

    A default is written as a client would send it ("false", "id") and
    validated, so the document shows it in the parameter's own spelling.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Names refused with a reason of their own, rather than "unknown".
    refused: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def explain(cls, error: ErrorDetails) -> str:
        """The client's message for ``error``: an unknown name lists the known."""
        if error["type"] != "extra_forbidden":
            return contract_message(error)
        name = str(error["loc"][0])
        if name in cls.refused:
            return cls.refused[name]
        if not cls.model_fields:
            return "unknown query parameter; this address takes none"
        return f"unknown query parameter; known: {sorted(cls.model_fields)}"

    @classmethod
    def openapi_parameters(cls) -> list[dict[str, Any]]:
        """The OpenAPI parameter objects for this model's fields."""
        schema = cls.model_json_schema(schema_generator=QueryParameterSchema)
        if "$defs" in schema:  # a parameter's schema must stand alone
            raise TypeError(f"{cls.__name__}: query fields must not use $ref")
        parameters = []
        for name, field in schema["properties"].items():
            field = {k: v for k, v in field.items() if k != "title"}
            description = field.pop("description", None)
            parameter = {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", ()),
                "schema": field,
            }
            if description:
                parameter["description"] = description
            parameters.append(parameter)
        return parameters


class NoQuery(QueryModel):
    """Items and operations: nothing after the ``?``."""


class PageQuery(QueryModel):
    """Paging, shared by every collection; the sort is each collection's."""

    limit: Limit = Field(DEFAULT_LIMIT, description="page size")
    cursor: Cursor | None = Field(None, description="next_cursor of the last page")
    count: Flag = Field(
        "false", validate_default=True, description="add the number of rows as total"
    )


class EmployeeFilterQuery(QueryModel):
    """The filters of the employee list, its export and a department's list
    (which takes its department from the URL instead)."""

    manager_id: IdOrNull | None = Field(
        None, description="an id, or null for the top of the chart"
    )
    active: Flag | None = Field(None, description="only active (or inactive) ones")
    hired_after: Day | None = Field(None, description="inclusive")
    hired_before: Day | None = Field(None, description="inclusive")
    q: Text | None = Field(
        None, description="case-insensitive substring of first name, last name or email"
    )


SORT_DESCRIPTION = "fields, - for descending; the id breaks ties"


class DepartmentListQuery(PageQuery):
    sort: DepartmentSort = Field(
        "id", validate_default=True, description=SORT_DESCRIPTION
    )


class DepartmentEmployeesQuery(PageQuery, EmployeeFilterQuery):
    sort: EmployeeSort = Field(
        "id", validate_default=True, description=SORT_DESCRIPTION
    )


class EmployeeListQuery(DepartmentEmployeesQuery):
    department_id: IdOrNull | None = Field(None, description="an id, or null for none")


class EmployeeExportQuery(EmployeeFilterQuery):
    """The list's filters and sort; every row, so no paging."""

    refused = {
        name: "the export has no pages: it returns every row"
        for name in PageQuery.model_fields
    }

    department_id: IdOrNull | None = Field(None, description="an id, or null for none")
    sort: EmployeeSort = Field(
        "id", validate_default=True, description=SORT_DESCRIPTION
    )


class ReportsQuery(QueryModel):
    recursive: Flag = Field(
        "false", validate_default=True, description="every report, not only direct"
    )
