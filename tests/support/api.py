"""Assertions, and a valid employee body, that the API tests share."""

from datetime import datetime, timedelta

WRITES = ["PUT", "PATCH", "DELETE"]
SUCCESS = {"PUT": 200, "PATCH": 200, "DELETE": 204}
# Every field a client writes but the references (department, manager).
EMPLOYEE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "title": "Engineer",
    "hire_date": "2024-03-01",
    "salary": "98000.00",
}


def problem(response, status: int) -> dict:
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == status
    return response.json


def error_locs(response, status: int = 422) -> list[list]:
    return [error["loc"] for error in problem(response, status)["errors"]]


def assert_utc(timestamp: str) -> datetime:
    assert timestamp.endswith("Z")
    parsed = datetime.fromisoformat(timestamp)
    assert parsed.utcoffset() == timedelta(0)
    return parsed


def created(response, collection: str, fields: set[str]) -> dict:
    """The body of a 201, after what every creation answers: the
    representation's fields, a Location that names the new item of
    ``collection``, version 1, created and updated at the same instant."""
    assert response.status_int == 201
    body = response.json
    assert set(body) == fields
    assert response.headers["Location"].endswith(f"{collection}/{body['id']}")
    assert body["version"] == 1
    assert assert_utc(body["created_at"]) == assert_utc(body["updated_at"])
    return body
