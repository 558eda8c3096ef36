"""The cursor secret: production.ini refuses to start without one; the other
ini files carry a fixed one, so cursors outlive a restart everywhere.

(That a cursor made by one process pages on in another behind the load
balancer, and after both restarted, is in tests/cluster/test_balancer.py.)
"""

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_appsettings

from company_service.cursors import CursorCodec, cursor_secret
from company_service.paging import parse_sort
from company_service.schemas.query import DEPARTMENT_SORTS
from company_service.testing import ROOT, live_server


@pytest.fixture(autouse=True)
def no_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURSOR_SECRET", raising=False)


def settings_of(ini: str) -> dict:
    return dict(get_appsettings(str(ROOT / ini)))


def test_production_ini_requires_a_secret_and_names_the_setting():
    with pytest.raises(ConfigurationError, match=r"api\.cursor_secret is not set"):
        cursor_secret(settings_of("production.ini"))


def test_the_environment_variable_satisfies_production_ini(monkeypatch):
    monkeypatch.setenv("CURSOR_SECRET", "from-the-environment")
    assert cursor_secret(settings_of("production.ini")) == b"from-the-environment"


def test_the_environment_variable_wins_over_the_ini(monkeypatch):
    monkeypatch.setenv("CURSOR_SECRET", "from-the-environment")
    assert cursor_secret(settings_of("testing.ini")) == b"from-the-environment"


@pytest.mark.parametrize("ini", ["development.ini", "testing.ini"])
def test_the_other_ini_files_sign_with_a_fixed_not_secret_key(ini):
    """Two processes (or one before and after a restart) agree."""
    first, second = (CursorCodec(cursor_secret(settings_of(ini))) for _ in "12")
    sort = parse_sort("name", DEPARTMENT_SORTS)
    cursor = first.encode("departments", sort, ["A", 1])
    assert second.decode(cursor, "departments", sort) == ["A", 1]


def test_without_a_required_secret_each_process_has_its_own():
    assert cursor_secret({}) != cursor_secret({})


def test_pserve_production_ini_without_a_secret_does_not_start(
    database_url, engine, tmp_path
):
    """A clear startup error naming the setting, not a service whose cursors
    break at every restart."""
    with (
        pytest.raises(RuntimeError, match=r"api\.cursor_secret is not set") as failed,
        live_server(
            ROOT / "production.ini",
            database_url,
            tmp_path,
            {"api.cursor_secret": ""},
        ),
    ):
        pass
    assert "CURSOR_SECRET" in str(failed.value)
