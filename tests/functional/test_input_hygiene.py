"""Input hygiene, in one place (schemas/types.py): names that name somebody,
one-line fields on one line, numbers in one grammar of ASCII digits, and
errors that say whether the range or the precision was wrong."""

import json

import pytest

from company_service.testing import bearer

EMPLOYEES = "/api/v1/employees"


def employee(**fields) -> dict:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "salary": "1.00",
        **fields,
    }


def errors(testapp, token: str, body: dict) -> list[dict]:
    answer = testapp.post_json(EMPLOYEES, body, headers=bearer(token), status=422)
    return answer.json["errors"]


@pytest.mark.parametrize(
    "name",
    [
        "\u200b",  # zero width space
        "\ufeff",  # byte order mark
        "\u202e",  # right-to-left override
        "\u200b\u2060\u200d",  # only invisible and format characters
        " \u00a0 ",  # only spaces (trimmed, then non-breaking)
    ],
)
def test_a_name_without_a_visible_character_is_refused(testapp, editor_token, name):
    [error] = errors(testapp, editor_token, employee(first_name=name))
    assert error["loc"] == ["body", "first_name"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\n"])
def test_a_one_line_field_refuses_line_separators(testapp, editor_token, separator):
    body = employee(last_name=f"Love{separator}lace", title=f"a{separator}b")
    locs = [error["loc"] for error in errors(testapp, editor_token, body)]
    assert locs == [["body", "last_name"], ["body", "title"]]


def test_visible_names_with_format_characters_are_kept(testapp, editor_token):
    """Format characters are part of real names (Persian uses U+200C)."""
    created = testapp.post_json(
        EMPLOYEES,
        employee(first_name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
        headers=bearer(editor_token),
        status=201,
    )
    assert (
        created.json["first_name"] == "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )


@pytest.mark.parametrize(
    "salary",
    ["\u0661\u0662\u0663", "\uff11\uff12\uff13", "12\u0663", "1,5", "1e", " 1"],
)
def test_salary_strings_take_ascii_digits_only(testapp, editor_token, salary):
    [error] = errors(testapp, editor_token, employee(salary=salary))
    assert error["loc"] == ["body", "salary"]
    assert error["msg"].endswith("must be a number or a numeric string")


def test_an_exponent_means_the_same_in_a_string_and_a_number(testapp, editor_token):
    headers = {**bearer(editor_token), "Content-Type": "application/json"}
    stored = []
    for n, raw in enumerate(['"1e3"', "1e3", '"12.5E1"', "12.5E1"]):
        body = json.dumps(employee(email=f"e{n}@example.com")).replace(
            '"salary": "1.00"', f'"salary": {raw}'
        )
        answer = testapp.post(EMPLOYEES, body, headers=headers, status=201)
        stored.append(answer.json["salary"])
    assert stored == ["1000.00", "1000.00", "125.00", "125.00"]


@pytest.mark.parametrize(
    ("salary", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("10000000000", "less than 10000000000"),
        ("1.001", "no more than 2 decimal places"),
        ("1e-3", "no more than 2 decimal places"),
    ],
)
def test_range_and_precision_are_told_apart(testapp, editor_token, salary, message):
    [error] = errors(testapp, editor_token, employee(salary=salary))
    assert error["loc"] == ["body", "salary"]
    assert message in error["msg"]


@pytest.mark.parametrize(
    "salary", ["0e3816637521029101671766996008", "7611.547e376423", "1e-999"]
)
def test_a_number_beyond_any_sensible_size_is_a_422_not_a_500(
    testapp, editor_token, salary
):
    """Found by the fuzzer: a zero with a huge exponent passed the range
    checks and then failed Decimal arithmetic."""
    [error] = errors(testapp, editor_token, employee(salary=salary))
    assert error["loc"] == ["body", "salary"]


def test_a_json_number_decimal_cannot_hold_is_a_400(testapp, editor_token):
    body = json.dumps(employee()).replace(
        '"salary": "1.00"', '"salary": 1e38166375210291016717669960080'
    )
    answer = testapp.post(
        EMPLOYEES,
        body,
        headers={**bearer(editor_token), "Content-Type": "application/json"},
        status=400,
    )
    assert "out of range" in answer.json["detail"]
