"""Drive a server with wrk (Debian's package) and read what it measured."""

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk.lua")
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Load:
    """What one wrk run measured; latencies in milliseconds."""

    requests_per_second: float  # answered with 2xx: failures are not throughput
    p50: float
    p99: float
    requests: int
    failed: int  # non-2xx answers


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("make bench needs wrk: apt-get install wrk (Debian's package)")
    return found


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def run_wrk(
    url: str,
    *,
    mode: str,
    headers: dict[str, str],
    seconds: int,
    connections: int,
    max_id: int = 1,
    targets: str | None = None,
    tag: str = "run",
    may_fail: bool = False,
) -> Load:
    """Run wrk against ``url``. Only 2xx answers count as throughput; a
    non-2xx answer ends the benchmark unless ``may_fail`` (the baseline's
    failures are reported, not hidden), and a socket error always does.
    ``targets`` (ids, comma-separated) replaces 1..``max_id`` as the ids
    the get and patch modes pick from."""
    command = [
        wrk_binary(), "--latency", "-t1", f"-c{connections}", f"-d{seconds}s",
        "-s", str(SCRIPT),
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    # Every run its own tag: POSTed emails must never repeat an earlier run's.
    command += [url, "--", mode, targets or str(max_id), f"{tag}-{time.time_ns()}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = int(failed[1]) if failed else 0
    if "Socket errors" in output or (failed and not may_fail):
        raise SystemExit(f"wrk saw failed requests at {url}:\n{output}")
    latency = dict(re.findall(r"^\s*(50|99)%\s+([\d.]+\w+)\s*$", output, re.MULTILINE))
    if len(latency) != 2:
        raise SystemExit(f"no latency distribution in wrk's output:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output)[1])
    all_per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    return Load(
        requests_per_second=all_per_second * (requests - failed) / requests,
        p50=milliseconds(latency["50"]),
        p99=milliseconds(latency["99"]),
        requests=requests,
        failed=failed,
    )
