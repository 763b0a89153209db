"""Headless Chromium, for the outbox page's browser test and the README's screenshots.

Debian's `chromium` package; every run gets a fresh profile and no network chatter of its own
(no sync, no component updates, no QUIC), so it only loads the page it is pointed at.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from campaigns.errors import CommandError

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = [
    "--headless",
    "--no-sandbox",  # Chromium's own sandbox needs user namespaces a CI container lacks
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
]


def find_chromium() -> str | None:
    """The first Chromium found (the Debian path first), or None."""
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def _run(args: list[str], timeout: float) -> str:
    binary = find_chromium()
    if binary is None:
        raise CommandError("Chromium is not installed: `apt-get install -y chromium`.")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        result = subprocess.run(  # noqa: S603 - a fixed binary with our own arguments
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise CommandError(f"Chromium failed ({result.returncode}): {result.stderr[-500:]}")
    return result.stdout


def dump_dom(url: str, *, budget_ms: int = 5000, timeout: float = 120) -> str:
    """The page's DOM after load (and after `budget_ms` of virtual time for scripts)."""
    return _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout)


def screenshot(
    url: str,
    path: Path,
    *,
    width: int = 1280,
    height: int = 900,
    budget_ms: int = 8000,
    timeout: float = 120,
) -> Path:
    """A PNG of the page's first `width` x `height` pixels."""
    path = path.resolve()
    args = [f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}"]
    _run([*args, f"--screenshot={path}", url], timeout)
    if not path.exists():
        raise CommandError(f"Chromium wrote no screenshot to {path}.")
    return path
