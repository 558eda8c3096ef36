"""A GET finds its view first: no other view of the route is tried before
it (company_service/views/__init__.py says why and how)."""

import pyramid.config.views
import pytest

from company_service.testing import bearer

READS = [
    "/api/v1/employees",
    "/api/v1/employees/{employee}",
    "/api/v1/departments",
    "/api/v1/departments/{department}",
]


@pytest.fixture
def mismatches(monkeypatch):
    raised = []

    class CountedMismatch(pyramid.config.views.PredicateMismatch):
        def __init__(self, *args):
            raised.append(args)
            super().__init__(*args)

    monkeypatch.setattr(pyramid.config.views, "PredicateMismatch", CountedMismatch)
    return raised


@pytest.mark.parametrize("path", READS)
def test_a_read_tries_no_other_view_first(testapp, editor_token, mismatches, path):
    headers = bearer(editor_token)
    department = testapp.post_json(
        "/api/v1/departments", {"name": "Ordered"}, headers=headers
    ).json["id"]
    employee = testapp.post_json(
        "/api/v1/employees",
        {"first_name": "O", "last_name": "Rder", "email": "o@example.com",
         "salary": "1.00"},
        headers=headers,
    ).json["id"]  # fmt: skip
    mismatches.clear()
    testapp.get(path.format(employee=employee, department=department), headers=headers)
    assert mismatches == []
