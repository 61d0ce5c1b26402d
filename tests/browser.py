"""Headless Chromium (Debian's package) for looking at pages as a person would.

No driver and no browser download: the browser's own `--dump-dom` (the DOM after scripts ran,
with virtual time advanced so timers fire) and `--screenshot`. `scripts/ensure_chromium.sh`
installs it; `scripts/test.sh` sets CATALYST_REQUIRE_BROWSER=1 so a missing browser fails the
suite there instead of skipping the pages' tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# The flags this machine needs: no sandbox as root, no GPU, and no background traffic (its
# connections to Google's hosts are refused here, many at a time).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
)
TIMEOUT_SECONDS = 120  # a page on this machine takes 1-3 s; a loaded machine many times that


def chromium() -> str:
    """The browser's path, or the test is skipped (failed where the suite requires it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Chromium is not installed (scripts/ensure_chromium.sh installs it)"
        if os.environ.get("CATALYST_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=True,
        )


def rendered_dom(url: str, *, virtual_time_ms: int = 1_000) -> str:
    """The page's DOM after its scripts ran for `virtual_time_ms` of virtual time."""
    return _run(url, f"--virtual-time-budget={virtual_time_ms}", "--dump-dom").stdout


def screenshot(url: str, path: Path, *, width: int = 1280, height: int = 1600) -> Path:
    """A PNG of the page at `width` x `height` CSS pixels."""
    _run(url, f"--window-size={width},{height}", f"--screenshot={path}")
    return path
