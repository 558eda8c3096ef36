"""make bench --base: the base commit must really be what its server runs,
and the rounds must take turns and flag a regression.

Bench's own test, run by ``make test`` (pytest's testpaths include bench/)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.run import FLAG_BELOW, ROOT, Row, Running, Side, checkout, format_row, rounds
from company_service.testing import LiveServer


def worktrees() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "list"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs a git checkout",
)
def test_the_base_is_served_from_its_worktree_which_is_removed_afterwards():
    with checkout("HEAD") as tree:  # checks what a server would import
        assert (tree / "company_service" / "__init__.py").exists()
        assert str(tree) in worktrees()
    assert not tree.exists()
    assert str(tree) not in worktrees()


def test_rounds_take_turns_and_a_regression_is_flagged():
    def running(name: str, reference: bool) -> Running:
        side = Side(name, Path("production.ini"), {})
        return Running(side, LiveServer("127.0.0.1", 1), 0, reference)

    servers = [running("base", True), running("current", False)]
    order: list[str] = []
    rates = {"base": iter([100.0, 90.0, 110.0]), "current": iter([80, 85, 70.0])}

    def measure(server: Running) -> float:
        order.append(server.side.name)
        return next(rates[server.side.name])

    row = rounds(Row("sqlite", 10, "GET one"), servers, 3, measure)
    assert order == ["base", "current", "current", "base", "base", "current"]
    assert row.reference == [100, 90, 110] and row.current == [80, 85, 70]
    assert row.ratio == 80 / 100 < FLAG_BELOW
    assert f"**0.80x** (below {FLAG_BELOW:.2f})" in format_row(row)
