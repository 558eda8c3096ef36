"""A cursor that is signed but does not fit its sort is refused like a forged
one (cursors.py): a client can only send back what a page handed it."""

import pytest

from company_service.cursors import CursorCodec
from company_service.paging import parse_sort
from company_service.schemas.query import EMPLOYEE_SORTS

CODEC = CursorCodec(b"unit-test-key")
BY_ID = parse_sort(None, EMPLOYEE_SORTS)
BY_CREATED = parse_sort("created_at", EMPLOYEE_SORTS)
BY_HIRED = parse_sort("hire_date", EMPLOYEE_SORTS)


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        (BY_ID, ["7"]),  # a string where the id is a number
        (BY_ID, [7, 8]),  # more values than the sort has keys
        (BY_CREATED, ["2026-01-01T00:00:00", 7]),  # a timestamp without its zone
        (BY_HIRED, ["not a date", 7]),
    ],
)
def test_a_signed_cursor_that_does_not_fit_its_sort_is_refused(sort, values):
    cursor = CODEC.encode("employees", sort, values)
    with pytest.raises(ValueError, match="not a cursor this service issued"):
        CODEC.decode(cursor, "employees", sort)


def test_a_cursor_that_fits_gives_its_values_back():
    cursor = CODEC.encode("employees", BY_HIRED, ["2024-03-01", 7])
    (hired, last_id) = CODEC.decode(cursor, "employees", BY_HIRED)
    assert (hired.isoformat(), last_id) == ("2024-03-01", 7)
