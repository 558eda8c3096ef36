"""Reports and management chains: right answers, each in one SQL statement."""

import pytest
from sqlalchemy import event

from company_service.testing import bearer
from tests.support.factories import EmployeeFactory

API = "/api/v1/employees"


@pytest.fixture
def tree(dbsession) -> dict[str, int]:
    """ceo -> (vp1, vp2); vp1 -> lead; lead -> (dev1, dev2); vp2 -> ops."""
    shape = {
        "ceo": None, "vp1": "ceo", "vp2": "ceo", "lead": "vp1",
        "dev1": "lead", "dev2": "lead", "ops": "vp2",
    }  # fmt: skip
    ids: dict[str, int] = {}
    for name, manager in shape.items():
        ids[name] = EmployeeFactory(first_name=name, manager_id=ids.get(manager)).id
    return ids


@pytest.fixture
def statements(engine):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def names(items) -> list[str]:
    return [item["first_name"] for item in items]


def test_direct_reports(testapp, reader_token, tree):
    items = testapp.get(
        f"{API}/{tree['ceo']}/reports", headers=bearer(reader_token)
    ).json["items"]
    assert names(items) == ["vp1", "vp2"]
    assert "depth" not in items[0]


def test_recursive_reports_carry_their_depth(testapp, reader_token, tree):
    items = testapp.get(
        f"{API}/{tree['ceo']}/reports?recursive=true", headers=bearer(reader_token)
    ).json["items"]
    assert [(i["first_name"], i["depth"]) for i in items] == [
        ("vp1", 1), ("vp2", 1), ("lead", 2), ("ops", 2), ("dev1", 3), ("dev2", 3),
    ]  # fmt: skip


def test_someone_with_no_reports_has_an_empty_list(testapp, reader_token, tree):
    answer = testapp.get(
        f"{API}/{tree['dev1']}/reports?recursive=true", headers=bearer(reader_token)
    )
    assert answer.json == {"items": []}


def test_the_chain_lists_managers_from_the_nearest_up(testapp, reader_token, tree):
    items = testapp.get(
        f"{API}/{tree['dev2']}/chain", headers=bearer(reader_token)
    ).json["items"]
    assert names(items) == ["lead", "vp1", "ceo"]
    assert testapp.get(
        f"{API}/{tree['ceo']}/chain", headers=bearer(reader_token)
    ).json == {"items": []}


@pytest.mark.parametrize("path", ["reports", "reports?recursive=true", "chain"])
def test_an_unknown_employee_is_404(testapp, reader_token, tree, path):
    answer = testapp.get(
        f"{API}/999999/{path}", headers=bearer(reader_token), status=404
    )
    assert answer.content_type == "application/problem+json"


def test_a_bad_recursive_flag_is_422(testapp, reader_token, tree):
    answer = testapp.get(
        f"{API}/{tree['ceo']}/reports?recursive=yes",
        headers=bearer(reader_token),
        status=422,
    )
    assert answer.json["errors"][0]["loc"] == ["query", "recursive"]


@pytest.mark.parametrize("path", ["reports?recursive=true", "chain"])
def test_each_walk_is_one_statement(testapp, reader_token, tree, statements, path):
    deepest = tree["dev1"] if path == "chain" else tree["ceo"]
    testapp.get(f"{API}/{deepest}/{path}", headers=bearer(reader_token))
    walks = [s for s in statements if "RECURSIVE" in s.upper()]
    lookups = [s for s in statements if "api_tokens" in s]
    assert len(walks) == 1
    assert len(statements) == len(walks) + len(lookups)
