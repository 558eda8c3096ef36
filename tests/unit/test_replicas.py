"""Which server a read goes to (replicas.py), decided without a database.

The lag checks and replay waits are stubbed; the clock is the test's. The
same decisions against a real primary and standby: tests/cluster/test_standby.py.
"""

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import ITweens

from company_service.db import make_engine
from company_service.problems import InvalidRequest
from company_service.replicas import (
    HEADER,
    TOKEN_TWEEN,
    Replica,
    ReplicaSet,
    make_replicas,
    parse_token,
    wal_position,
)
from company_service.testing import TESTING_INI, app_settings_from, make_app


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stubbed(ReplicaSet):
    """Lags and replayed positions come from dicts; checks are counted."""

    def __init__(self, names: list[str], clock: Clock) -> None:
        super().__init__(
            [Replica(name=n, engine=None) for n in names],  # type: ignore[arg-type]
            max_lag_seconds=5,
            check_seconds=1,
            down_seconds=10,
            wait_seconds=0.05,
            clock=clock,
        )
        self.lags: dict[str, float | None] = dict.fromkeys(names, 0.0)
        self.replayed_up_to: dict[str, int] = dict.fromkeys(names, 0)
        self.checks = 0

    def check(self, replica: Replica) -> None:
        self.checks += 1
        replica.lag_seconds = self.lags[replica.name]
        replica.checked_at = self.clock()

    def replayed(self, replica: Replica, lsn: str, deadline: float) -> bool:
        return self.replayed_up_to[replica.name] >= int(lsn.split("/")[1], 16)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def names(replicas: list[Replica]) -> list[str]:
    return [r.name for r in replicas]


def test_reads_take_turns_among_the_usable_standbys(clock):
    replicas = Stubbed(["a", "b"], clock)
    picked = [replicas.pick(None) for _ in range(4)]
    assert [r.name for r in picked if r] == ["a", "b", "a", "b"]


def test_a_standby_lagging_past_the_bound_is_skipped_until_it_catches_up(clock):
    replicas = Stubbed(["a"], clock)
    replicas.lags["a"] = 5.5
    assert replicas.pick(None) is None  # the primary
    replicas.lags["a"] = 0.2
    assert replicas.pick(None) is None  # the last check holds for a second
    clock.now += 1
    assert names(replicas.usable()) == ["a"]


def test_a_standby_whose_state_is_unknown_is_not_used(clock):
    replicas = Stubbed(["a"], clock)
    replicas.lags["a"] = None  # promoted, or never replayed a transaction
    assert replicas.pick(None) is None


def test_a_failed_standby_is_skipped_for_down_seconds_then_checked_again(clock):
    replicas = Stubbed(["a", "b"], clock)
    replicas.failed(replicas.replicas[0])
    assert names(replicas.usable()) == ["b"]
    clock.now += 9.9
    assert names(replicas.usable()) == ["b"]
    checks = replicas.checks
    clock.now += 0.1
    assert names(replicas.usable()) == ["a", "b"]
    assert replicas.checks == checks + 1  # a's, as it came back


def test_checks_run_at_most_once_per_interval(clock):
    replicas = Stubbed(["a"], clock)
    for _ in range(5):
        replicas.usable()
    assert replicas.checks == 1


def test_a_token_picks_a_standby_that_replayed_it_else_the_primary(clock):
    replicas = Stubbed(["a", "b"], clock)
    replicas.replayed_up_to = {"a": 0x10, "b": 0x30}
    assert all(replicas.pick("0/20").name == "b" for _ in range(3))  # type: ignore[union-attr]
    assert replicas.pick("0/40") is None


@pytest.mark.parametrize("token", ["0/16B3748", "16/b374d848", " 0/0 ", "FFFFFFFF/1"])
def test_wal_positions_are_tokens(token):
    assert parse_token(token) == token.strip().upper()


@pytest.mark.parametrize(
    "token", ["", "0", "0/", "/1", "1/2/3", "123456789/0", "0/-1", "g/1", "0x1/2"]
)
def test_anything_else_is_refused_naming_the_header(token):
    with pytest.raises(InvalidRequest) as refused:
        parse_token(token)
    assert [e["loc"] for e in refused.value.errors] == [["header", HEADER]]


def test_without_standbys_nothing_of_this_is_installed(tmp_path):
    app = make_app(app_settings_from(TESTING_INI, f"sqlite:///{tmp_path / 'a.db'}"))
    assert "db.replicas" not in app.registry
    tweens = app.registry.queryUtility(ITweens)
    assert TOKEN_TWEEN not in [name for name, _ in tweens.implicit()]


def test_standbys_need_a_postgresql_primary(tmp_path):
    settings = app_settings_from(TESTING_INI, f"sqlite:///{tmp_path / 'a.db'}")
    standby = "postgresql+psycopg://postgres@127.0.0.1:1/x"
    with pytest.raises(ConfigurationError):
        make_app(settings, **{"db.replica_url": standby})


def test_readyz_reports_what_reads_see_without_checking_a_down_standby(clock):
    replicas = Stubbed(["a", "b"], clock)
    replicas.lags["b"] = 7.0
    replicas.failed(replicas.replicas[0])
    report = replicas.states()
    assert [(r["name"], r["state"], r["lag_seconds"]) for r in report] == [
        ("a", "down", None),
        ("b", "lagging", 7.0),
    ]
    assert replicas.checks == 1  # b's only
    replicas.states()
    assert replicas.checks == 1  # not again within the interval


NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # nothing listens on port 1


def test_only_postgresql_standbys_are_accepted():
    settings = {"sqlalchemy.url": NOWHERE, "db.replica_url": "sqlite:///x.db"}
    with pytest.raises(ConfigurationError, match="only PostgreSQL standbys"):
        make_replicas(settings)


def test_a_standby_that_fails_while_asked_for_a_token_is_skipped(clock):
    settings = {"sqlalchemy.url": NOWHERE, "db.connect_timeout_seconds": 1}
    replicas = make_replicas({**settings, "db.replica_url": NOWHERE})
    replicas.clock = clock
    (standby,) = replicas.replicas
    try:
        assert replicas.replayed(standby, "0/1", deadline=clock() + 1) is False
        assert standby.state(clock(), replicas.max_lag) == "down"
    finally:
        replicas.dispose()


def test_a_write_whose_position_cannot_be_read_gets_no_token(caplog):
    engine = make_engine({"sqlalchemy.url": NOWHERE, "db.connect_timeout_seconds": 1})
    try:
        assert wal_position(engine) is None
    finally:
        engine.dispose()
    assert f"no {HEADER}" in caplog.text
