"""What every route accepts after the ``?``, and what it refuses (422 naming
the parameter; 400 when the query string is not UTF-8)."""

from types import SimpleNamespace
from urllib.parse import quote

import pytest

from company_service.schemas.query import DepartmentListQuery, EmployeeListQuery
from company_service.views.query import query

API = "/api/v1"


@pytest.fixture
def ids(testapp, editor) -> dict[str, int]:
    department = testapp.post_json(
        f"{API}/departments", {"name": "Query"}, headers=editor
    ).json["id"]
    employee = testapp.post_json(
        f"{API}/employees",
        {
            "first_name": "Q",
            "last_name": "S",
            "email": "qs@example.com",
            "salary": "1",
            "department_id": department,
        },
        headers=editor,
    ).json["id"]
    return {"department": department, "employee": employee}


def refused(response, name: str) -> str:
    """The one error's message, after checking it names ``name``."""
    assert response.status_int == 422
    assert response.content_type == "application/problem+json"
    (error,) = response.json["errors"]
    assert error["loc"] == ["query", name]
    return error["msg"]


ITEM_ROUTES = [
    ("GET", "employees/{employee}"),
    ("HEAD", "employees/{employee}"),
    ("PUT", "employees/{employee}"),
    ("PATCH", "employees/{employee}"),
    ("DELETE", "employees/{employee}"),
    ("GET", "employees/{employee}/chain"),
    ("GET", "departments/{department}"),
    ("DELETE", "departments/{department}"),
    ("POST", "departments/{department}/raise"),
    ("POST", "employees"),
    ("POST", "employees/bulk"),
    ("POST", "departments"),
    ("GET", "stats/departments"),
]


@pytest.mark.parametrize(("method", "path"), ITEM_ROUTES)
def test_routes_without_parameters_refuse_any(testapp, editor, ids, method, path):
    url = f"{API}/{path.format(**ids)}?foo=bar"
    answer = testapp.request(url, method=method, headers=editor, expect_errors=True)
    if method == "HEAD":  # no body to read the problem from
        assert answer.status_int == 422
        return
    assert refused(answer, "foo") == "unknown query parameter; this address takes none"


def test_a_refused_delete_deletes_nothing(testapp, editor, ids):
    testapp.delete(
        f"{API}/employees/{ids['employee']}?foo=1", headers=editor, status=422
    )
    testapp.get(f"{API}/employees/{ids['employee']}", headers=editor, status=200)


def test_the_health_routes_and_the_document_take_no_parameters_either(testapp):
    for path in ("/healthz", f"{API}/openapi.json", f"{API}/docs"):
        assert refused(testapp.get(f"{path}?x=1", status=422), "x")


def test_an_empty_query_string_is_no_parameter(testapp, editor, ids):
    for suffix in ("?", "?&", "?&&"):
        testapp.get(f"{API}/employees/{ids['employee']}{suffix}", headers=editor)


def test_an_item_route_query_that_is_not_utf8_is_a_400(testapp, editor, ids):
    answer = testapp.get(
        f"{API}/employees/{ids['employee']}?q=%ff", headers=editor, status=400
    )
    assert answer.content_type == "application/problem+json"


def test_an_unknown_parameter_of_a_list_names_the_known_ones(testapp, editor):
    message = refused(
        testapp.get(f"{API}/departments?colour=red", headers=editor, status=422),
        "colour",
    )
    assert (
        message
        == "unknown query parameter; known: ['count', 'cursor', 'limit', 'sort']"
    )


DIGITS = {
    "fullwidth": str.maketrans("0123456789", "０１２３４５６７８９"),
    "arabic-indic": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
    "extended-arabic-indic": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"),
    "devanagari": str.maketrans("0123456789", "०१२३४५६७८९"),
}


@pytest.mark.parametrize("script", DIGITS)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("employees", "limit"),
        ("employees", "department_id"),
        ("employees", "manager_id"),
        ("departments", "limit"),
        ("departments/{department}/employees", "limit"),
        ("departments/{department}/employees", "manager_id"),
        ("employees.csv", "department_id"),
    ],
)
def test_ids_and_numbers_are_ascii_digits_only(
    testapp, editor, ids, script, path, name
):
    value = str(ids["department"] if name == "department_id" else 5)
    url = f"{API}/{path.format(**ids)}"
    testapp.get(url, {name: value}, headers=editor, status=200)
    answer = testapp.get(
        url, {name: value.translate(DIGITS[script])}, headers=editor, status=422
    )
    assert refused(answer, name).startswith("must be an")


def test_leading_zeros_are_still_the_number(testapp, editor, ids):
    body = testapp.get(
        f"{API}/employees",
        {"department_id": f"000{ids['department']}", "limit": "0" * 30 + "1"},
        headers=editor,
    ).json
    assert [e["id"] for e in body["items"]] == [ids["employee"]]


@pytest.mark.parametrize(
    "date", ["２０２４-01-01", "2024-1-01", "20240101", "2024-02-30"]
)
def test_dates_are_iso_in_ascii(testapp, editor, date):
    answer = testapp.get(
        f"{API}/employees", {"hired_after": date}, headers=editor, status=422
    )
    assert refused(answer, "hired_after") == "must be an ISO date, YYYY-MM-DD"


def test_a_repeated_parameter_is_refused(testapp, editor):
    answer = testapp.get(f"{API}/employees?limit=5&limit=5", headers=editor, status=422)
    assert refused(answer, "limit") == "given more than once"


@pytest.mark.parametrize("name", ["limit", "cursor", "count"])
def test_the_export_says_why_it_takes_no_paging(testapp, editor, name):
    answer = testapp.get(f"{API}/employees.csv?{name}=1", headers=editor, status=422)
    assert refused(answer, name) == "the export has no pages: it returns every row"


@pytest.mark.parametrize("sort", ["last_name, first_name", " id", "id "])
def test_a_sort_is_spelled_as_documented_without_spaces(testapp, editor, sort):
    answer = testapp.get(f"{API}/employees", {"sort": sort}, headers=editor, status=422)
    assert refused(answer, "sort")


def test_a_sort_names_what_may_be_sorted_by(testapp, editor):
    answer = testapp.get(f"{API}/departments?sort={{x}}", headers=editor, status=422)
    assert refused(answer, "sort") == (
        "cannot sort by '{x}'; choose from id, name, created_at"
    )


def test_q_refuses_control_characters_and_keeps_the_length(testapp, editor):
    for value in ("a\x85b", "a\x1fb", "", "x" * 201):
        answer = testapp.get(
            f"{API}/employees", {"q": value}, headers=editor, status=422
        )
        assert refused(answer, "q").startswith("must be 1 to 200 characters")
    testapp.get(f"{API}/employees", {"q": "x" * 200}, headers=editor, status=200)


def test_a_view_must_read_the_model_its_route_checks():
    request = SimpleNamespace(validated_query=DepartmentListQuery())
    assert query(request, DepartmentListQuery) is request.validated_query
    with pytest.raises(TypeError, match="EmployeeListQuery"):
        query(request, EmployeeListQuery)


@pytest.mark.parametrize("script", DIGITS)
@pytest.mark.parametrize("path", ["employees/{employee}", "departments/{department}"])
def test_ids_in_the_path_are_ascii_digits_only_too(testapp, editor, ids, script, path):
    testapp.get(f"{API}/{path.format(**ids)}", headers=editor, status=200)
    other = {kind: str(value).translate(DIGITS[script]) for kind, value in ids.items()}
    url = quote(f"{API}/{path.format(**other)}")
    testapp.get(url, headers=editor, status=404)
