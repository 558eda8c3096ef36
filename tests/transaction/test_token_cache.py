"""Token identities kept per process: a revoked token is refused by every
process within ``auth.token_cache_seconds``, a new one works at once.

Two real servers on the suite's database, as two processes of a deployment
behind one balancer; the token is made and revoked by the real command.
"""

import time

import pytest

from company_service.testing import TESTING_INI, bearer, live_server
from tests.support.cli import run

CACHE_SECONDS = 1
# The bound the contract states, plus what a loaded machine needs to deliver
# a request and its answer: a bound on correctness, not a speed target.
GRACE_SECONDS = 5
WHOAMI = "/api/v1/_probe/whoami"


@pytest.fixture
def two_servers(database_url, clean_database, tmp_path):
    options = {
        "auth.token_cache_seconds": str(CACHE_SECONDS),
        "pyramid.includes": "tests.support.probes",
    }
    with (
        live_server(TESTING_INI, database_url, tmp_path, options) as first,
        live_server(TESTING_INI, database_url, tmp_path, options) as second,
    ):
        yield first, second


def command(database_url, *args):
    result = run("company-service", *args, database_url=database_url)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def status(server, token):
    return server.request("GET", WHOAMI, headers=bearer(token)).status


def test_a_new_token_works_at_once_in_every_process(two_servers, database_url):
    """An unknown token is never kept: asked before it exists, then made,
    it works in both processes with no wait."""
    name = "made-now"
    token = "x" * 43  # well formed, unknown yet
    assert [status(s, token) for s in two_servers] == [401, 401]
    token = command(
        database_url, "create-token", TESTING_INI, "--role", "reader", "--name", name
    )
    assert [status(s, token) for s in two_servers] == [200, 200]


def test_a_revoked_token_is_refused_by_every_process_within_the_bound(
    two_servers, database_url
):
    token = command(
        database_url, "create-token", TESTING_INI, "--role", "reader", "--name", "old"
    )
    assert [status(s, token) for s in two_servers] == [200, 200]  # both keep it
    command(database_url, "revoke-token", TESTING_INI, "old")
    revoked_at = time.monotonic()
    refused_after = {}
    while len(refused_after) < len(two_servers):
        elapsed = time.monotonic() - revoked_at
        assert elapsed < CACHE_SECONDS + GRACE_SECONDS, refused_after
        for number, server in enumerate(two_servers):
            if number not in refused_after and status(server, token) == 401:
                refused_after[number] = elapsed
        time.sleep(0.05)
    # Refused for good once refused: no process serves it again.
    time.sleep(CACHE_SECONDS)
    assert [status(s, token) for s in two_servers] == [401, 401]
