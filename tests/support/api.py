"""Assertions the API tests share."""

from datetime import datetime, timedelta

WRITES = ["PUT", "PATCH", "DELETE"]
SUCCESS = {"PUT": 200, "PATCH": 200, "DELETE": 204}


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
