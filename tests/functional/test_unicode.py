"""Names in any script, and a search that ignores case in all of them."""

import pytest

from company_service.testing import bearer

# (first name, last name, the searches that find this person and no other)
PEOPLE = [
    ("Σοφία", "Παπαδοπούλου", ["ΣΟΦΊΑ", "σοφία"]),
    ("Анна", "Петрова", ["АННА"]),
    ("José", "Núñez", ["josé", "NÚÑEZ"]),
    ("Nguyễn", "Thị Minh", ["NGUYỄN"]),
    ("山田", "太郎", ["山"]),
    ("Zoë", "Straße", ["STRASSE", "zoë"]),
    ("Ada", "100%_real", ["%", "0%_r", "_"]),  # % and _ are plain characters
]


@pytest.fixture
def people(testapp, editor_token) -> dict[str, int]:
    ids = {}
    for i, (first, last, _) in enumerate(PEOPLE):
        answer = testapp.post_json(
            "/api/v1/employees",
            {
                "first_name": first,
                "last_name": last,
                "email": f"p{i}@unicode.example",
                "salary": 1,
            },
            headers=bearer(editor_token),
        )
        ids[first] = answer.json["id"]
    return ids


def test_names_come_back_exactly_as_sent(testapp, reader_token, people):
    for first, last, _ in PEOPLE:
        body = testapp.get(
            f"/api/v1/employees/{people[first]}", headers=bearer(reader_token)
        ).json
        assert (body["first_name"], body["last_name"]) == (first, last)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        *((q, {first}) for first, _, searches in PEOPLE for q in searches),
        ("jose", set()),  # accents matter; only case is ignored
    ],
)
def test_search_ignores_case_in_every_script(
    testapp, reader_token, people, q, expected
):
    items = testapp.get(
        "/api/v1/employees", {"q": q, "limit": "500"}, headers=bearer(reader_token)
    ).json["items"]
    assert {item["first_name"] for item in items} == expected


def test_sorting_by_a_non_latin_name_follows_code_points(testapp, reader_token, people):
    items = testapp.get(
        "/api/v1/employees",
        {"sort": "first_name", "limit": "500"},
        headers=bearer(reader_token),
    ).json["items"]
    firsts = [item["first_name"] for item in items]
    assert firsts == sorted(firsts)


def test_department_names_in_other_scripts_are_unique_regardless_of_case(
    testapp, editor_token
):
    testapp.post_json(
        "/api/v1/departments", {"name": "Отдел продаж"}, headers=bearer(editor_token)
    )
    answer = testapp.post_json(
        "/api/v1/departments",
        {"name": "ОТДЕЛ ПРОДАЖ"},
        headers=bearer(editor_token),
        status=409,
    )
    assert answer.json["errors"][0]["loc"] == ["body", "name"]
