"""A small committed company, made through the API, for the CSV tests.

Through the API on purpose: the rows are exactly what clients create, and
their representation is what the export must reproduce.
"""

from typing import Any

DEPARTMENTS = "/api/v1/departments"
EMPLOYEES = "/api/v1/employees"
CSV = "/api/v1/employees.csv"
# API.md's representation, in order: the export's header.
HEADER = [
    "id",
    "first_name",
    "last_name",
    "email",
    "title",
    "hire_date",
    "salary",
    "department_id",
    "manager_id",
    "active",
    "created_at",
    "updated_at",
    "version",
]

# (key, first, last, email, title, hire_date, salary, department, manager, active)
PEOPLE = [
    ("ada", "Ada", "Lovelace", "ada@example.com", 'Engineer, "chief"',
     "2020-01-15", "98000.00", "eng", None, True),
    ("grace", "Grace", "Hopper", "GRACE@Example.com", None,
     "2021-06-01", "0", "eng", "ada", True),
    ("zoe", "Zoë", "Ødegaard", "zoe@example.com", "Ünïcode 🚀",
     "2022-02-02", "12.5", "sales", "ada", False),
    ("soren", "Søren", "O'Brien", "soren@example.com", "Line with, comma",
     "2022-09-09", "55000", "sales", "grace", True),
    ("linus", "Linus", "Torvalds", "linus@example.com", "Kernel",
     "2023-03-03", "1234567.89", None, "grace", True),
    ("barbara", "Barbara", "Liskov", "barbara@example.com", "Principal",
     "2024-04-04", "70000.10", "sales", "zoe", False),
    ("ken", "Ken", "Thompson", "ken@example.com", "Unix",
     "2025-05-05", "70000.10", "sales", "barbara", True),
    ("edsger", "Edsger", "Dijkstra", "edsger@example.com", "Structured",
     "2019-12-31", "120000", "eng", None, True),
]  # fmt: skip


def make_company(app: Any, headers: dict[str, str]) -> dict[str, int]:
    """Two departments and eight employees with a management hierarchy; one
    employee changed once (version 2, a later updated_at). Returns the ids."""
    ids = {}
    for key, name in (("eng", "Engineering"), ("sales", "Sales")):
        ids[key] = app.post_json(DEPARTMENTS, {"name": name}, headers=headers).json[
            "id"
        ]
    for key, first, last, email, title, hired, salary, dept, boss, active in PEOPLE:
        body = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "title": title,
            "hire_date": hired,
            "salary": salary,
            "department_id": ids.get(dept),
            "manager_id": ids.get(boss),
            "active": active,
        }
        ids[key] = app.post_json(EMPLOYEES, body, headers=headers, status=201).json[
            "id"
        ]
    app.patch_json(
        f"{EMPLOYEES}/{ids['grace']}", {"title": "Rear Admiral"}, headers=headers
    )
    return ids


# Text a spreadsheet would run as a formula, and text that starts with the
# quote the export puts in front of it; with each text field's exported cell.
TEXT_FIELDS = ["first_name", "last_name", "email", "title"]
FORMULA_PEOPLE = [
    (
        {"first_name": '=HYPERLINK("http://x","y")', "last_name": "+1",
         "email": "-cmd@example.com", "title": "@SUM(A1)"},
        ["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-cmd@example.com", "'@SUM(A1)"],
    ),
    (
        {"first_name": "-2", "last_name": "Plain", "email": "minus@example.com",
         "title": "-10%"},
        ["'-2", "Plain", "minus@example.com", "'-10%"],
    ),
    (
        {"first_name": "'quoted", "last_name": "O'Brien",
         "email": "'q@example.com", "title": "''twice"},
        ["''quoted", "O'Brien", "''q@example.com", "'''twice"],
    ),
]  # fmt: skip


def add_formula_people(app, headers: dict[str, str]) -> list[int]:
    """The FORMULA_PEOPLE, made through the API; their ids."""
    return [
        app.post_json(
            EMPLOYEES, {**body, "salary": "1"}, headers=headers, status=201
        ).json["id"]
        for body, _ in FORMULA_PEOPLE
    ]
