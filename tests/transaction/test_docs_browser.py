"""The docs page in a real browser, with every host but this one unreachable."""

import shutil
import subprocess
import tempfile

import pytest

from company_service.testing import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any host other than the server's fails to resolve: a CDN could not load.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=15000",
    "--window-size=1280,2400",
]


def chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
    return result.stdout


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)"
)
def test_the_docs_page_renders_every_operation_offline(server, engine):
    url = f"http://{server.host}:{server.port}/api/v1/docs"
    dom = chromium("--dump-dom", url)
    operations = server.request("GET", "/api/v1/openapi.json").json["paths"]
    expected = sum(len(methods) for methods in operations.values())
    assert dom.count('class="opblock opblock-') == expected
    assert "/api/v1/employees/{id}/reports" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    # One file per database: .ci/run runs two suites at once.
    screenshot = ARTIFACTS / f"docs-{engine.dialect.name}.png"
    screenshot.unlink(missing_ok=True)  # an old one must not pass for a new one
    chromium(f"--screenshot={screenshot}", url)
    assert screenshot.stat().st_size > 10_000
