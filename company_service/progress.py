"""How far a long command has got, on stderr, for whoever is watching.

On a terminal one line is redrawn after each batch; anywhere else (a log, a
pipe, CI) a plain line every few seconds, since redraws would only pile up
there. Both say the rows done, the rate and, when the input's size is
known, the time left. Written here rather than with tqdm, which off a
terminal writes its redraws into the log instead of plain lines.
"""

import os
import stat
import time
from collections.abc import Callable
from typing import TextIO

DEFAULT_INTERVAL = 5.0  # seconds between plain lines off a terminal


def duration(seconds: float) -> str:
    """``seconds`` rounded as a person reads a remaining time."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, seconds_left = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {seconds_left} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class Progress:
    """Called with the rows done so far; ``fraction`` tells how much of the
    input has been read (None if unknown), from which the time left follows."""

    def __init__(
        self,
        stream: TextIO,
        fraction: Callable[[], float | None] = lambda: None,
        *,
        label: str = "importing",
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        terminal: bool | None = None,
    ) -> None:
        self.stream, self.fraction, self.label = stream, fraction, label
        self.interval, self.clock = interval, clock
        self.terminal = stream.isatty() if terminal is None else terminal
        self.started = self.last = clock()
        self.shown = False

    def describe(self, rows: int) -> str:
        elapsed = self.clock() - self.started
        parts = [f"{self.label}: {rows} rows"]
        if elapsed > 0:
            parts.append(f"{rows / elapsed:.0f} rows/s")
        done = self.fraction()
        if done is not None:
            done = min(max(done, 0.0), 1.0)
            parts.append(f"{100 * done:.0f}% of the file")
            if done > 0 and elapsed > 0:
                parts.append(f"about {duration(elapsed * (1 - done) / done)} left")
        return ", ".join(parts)

    def __call__(self, rows: int) -> None:
        if self.terminal:
            self.stream.write(f"\r{self.describe(rows)}\x1b[K")
            self.shown = True
        elif self.clock() - self.last >= self.interval:
            self.stream.write(f"{self.describe(rows)}\n")
            self.last = self.clock()
        else:
            return
        self.stream.flush()

    def clear(self) -> None:
        """Take the terminal's line away, so the command's last word stands
        alone; the plain lines stay, they are the log."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def file_fraction(handle: TextIO) -> Callable[[], float | None]:
    """The share of ``handle``'s bytes read so far (read ahead by at most a
    buffer), or None when it is not a regular file (a pipe has no size)."""
    status = os.fstat(handle.fileno())
    if not (stat.S_ISREG(status.st_mode) and status.st_size > 0):
        return lambda: None
    size = status.st_size
    return lambda: handle.buffer.tell() / size
