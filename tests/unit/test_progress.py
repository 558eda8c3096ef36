"""The import's progress: plain lines every few seconds in a log, a redrawn
line on a terminal; the clock is the test's."""

import io

import pytest

from company_service.progress import Progress, duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_off_a_terminal_a_plain_line_every_interval(clock):
    stream = io.StringIO()
    read = iter([0.1, 0.2, 0.3, 0.5, 1.0])
    progress = Progress(stream, lambda: next(read), interval=5, clock=clock)
    assert progress.terminal is False  # StringIO is no terminal

    for rows, at in [(1000, 2), (2000, 5), (3000, 7), (4000, 10.5), (5000, 12)]:
        clock.now = 100 + at
        progress(rows)
    progress.clear()

    # 5 s after the start, then 5 s after that line; nothing in between.
    assert stream.getvalue().splitlines() == [
        "importing: 2000 rows, 400 rows/s, 10% of the file, about 45 s left",
        "importing: 4000 rows, 381 rows/s, 20% of the file, about 42 s left",
    ]


def test_on_a_terminal_each_call_redraws_the_line_and_clear_removes_it(clock):
    stream = io.StringIO()
    read = iter([0.25, 0.5])
    progress = Progress(
        stream, lambda: next(read), clock=clock, terminal=True, interval=5
    )

    clock.now = 101
    progress(1000)
    clock.now = 102
    progress(2000)
    progress.clear()
    progress.clear()  # once only

    assert stream.getvalue() == (
        "\rimporting: 1000 rows, 1000 rows/s, 25% of the file, about 3 s left\x1b[K"
        "\rimporting: 2000 rows, 1000 rows/s, 50% of the file, about 2 s left\x1b[K"
        "\r\x1b[K"
    )


def test_without_a_size_there_is_no_time_left(clock):
    stream = io.StringIO()
    progress = Progress(stream, clock=clock, terminal=True)
    clock.now = 104
    progress(1000)
    assert stream.getvalue() == "\rimporting: 1000 rows, 250 rows/s\x1b[K"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0 s"), (59.4, "59 s"), (61, "1 min 1 s"), (3725, "1 h 2 min")],
)
def test_a_time_left_reads_as_a_person_says_it(seconds, text):
    assert duration(seconds) == text
