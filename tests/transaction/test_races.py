"""Every race, over real sockets against one real server, each repeated many times.

Each scenario (tests/support/race_scenarios.py) sets up fresh rows, lets two
to twenty clients send their requests at the same moment (a barrier
releases them together), and then holds two things against each other: what
the clients were told, and what the database stored, read through a
connection of the test's own. A race that the service handles by luck
passes once; repeated REPETITIONS times, an unguarded window shows up as a
violation.

Contention is the service's problem, not the client's: on one server no
request may give up with 503, so the writes must lock before they read and
queue, the retries being only a backstop. The server is a pserve of
development.ini with as many waitress threads and pooled connections as the
largest race has clients, so the requests really run side by side inside
the database, not one after another in the server's queue.

``pytest -s`` prints one line per race: the runs, the statuses seen, the
retries the server logged, and the violations (which fail the test).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from company_service.testing import ROOT, LiveServer, bearer, live_server
from tests.support.race_scenarios import SCENARIOS
from tests.support.races import Racers, Scenario, play

REPETITIONS = 25
CROWD = 20


@pytest.fixture(scope="module")
def race_server(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Path]]:
    workdir = tmp_path_factory.mktemp("races")
    with live_server(
        ROOT / "development.ini",
        database_url,
        workdir,
        app_options={
            "sqlalchemy.pool_size": str(CROWD),
            "sqlalchemy.max_overflow": "5",
            # Twenty raises of one department queue on its rows' locks; on a
            # loaded CI machine the last can wait past the default 5 s, which
            # is a limit on time, not what these races prove.
            "db.statement_timeout_ms": "60000",
        },
        server_options={"threads": str(CROWD)},
    ) as running:
        (log,) = workdir.glob("server-*.log")
        yield running, log


@pytest.fixture
def env(
    race_server: tuple[LiveServer, Path],
    clean_database: Engine,
    committed_editor_token: str,
) -> Racers:
    server, log = race_server
    return Racers(
        name=clean_database.dialect.name,
        servers=[server],
        logs=[log],
        engines=[clean_database],
        headers=bearer(committed_editor_token),
        repetitions=REPETITIONS,
        crowd=CROWD,
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_race(env: Racers, scenario: Scenario) -> None:
    play(env, scenario)
