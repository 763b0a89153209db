"""`campaign demo` end to end: a real Prefect server, worker and stand-ins, 21 emails and the
campaign report, twice; and Ctrl-C stops everything the demo started.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from campaigns.christmas_campaign.sequence import template_id_for
from campaigns.models import Segment
from campaigns.standins.outbox_page import recipient, tag
from campaigns.standins.resend import ResendStandIn
from campaigns.tests import chromium
from campaigns.tests.cli.conftest import run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def emails_from_state(state_dir: Path) -> list[dict[str, Any]]:
    """The outbox the demo's Resend stand-in saved in its sandbox."""
    data = json.loads((state_dir / "resend.json").read_text(encoding="utf-8"))
    return list(data["emails"])


def _by_recipient(emails: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for email in emails:
        grouped[recipient(email)].append(email)
    return grouped


def _assert_sequences(emails: list[dict[str, Any]], suffix: str) -> None:
    """Each sample contact got its segment's seven templates, in order."""
    grouped = _by_recipient(emails)
    for local, domain, segment in (
        ("maria", "harbourplumbing.example", Segment.CRITICAL),
        ("tom", "brightpathaccounting.example", Segment.URGENT),
        ("ava", "northlightstudio.example", Segment.OPTIMIZE),
    ):
        got = grouped[f"{local}{suffix}@{domain}"]
        assert [int(tag(e, "email_number")) for e in got] == [1, 2, 3, 4, 5, 6, 7]
        assert [tag(e, "template") for e in got] == [
            template_id_for(n, segment) for n in range(1, 8)
        ]


def test_demo_twice_in_one_sandbox(tmp_path: Path) -> None:
    """The first demo delivers 21 emails; the second, in the same sandbox, 21 more."""
    state = tmp_path / "sandbox"
    first = run("demo", "--no-ui", "--state-dir", str(state), "--outbox-port", "0")
    assert first.exit_code == 0, first.output
    assert "All 21 emails arrived." in first.output
    assert "Read 3 contacts and 21 send-log rows" in first.output  # the closing report
    assert "Stopped everything the demo started." in first.output
    emails = emails_from_state(state)
    assert len(emails) == 21
    _assert_sequences(emails, "")
    assert first.output.count("Completed") == 3

    if chromium.find_chromium() is not None:
        with ResendStandIn(state_path=state / "resend.json") as standin:
            dom = chromium.dump_dom(standin.outbox_url)
        assert len(re.findall(r'<article class="email"', dom)) == 21

    second = run(
        "demo", "--no-ui", "--state-dir", str(state), "--outbox-port", "0", "--time-scale", "60"
    )
    assert second.exit_code == 0, second.output
    assert "demo run 2" in second.output
    assert "Read 6 contacts and 42 send-log rows" in second.output
    emails = emails_from_state(state)
    assert len(emails) == 42
    _assert_sequences(emails, "+demo2")


def _port_open(url: str) -> bool:
    host, port = re.match(r"http://([\d.]+):(\d+)", url).groups()  # type: ignore[union-attr]
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def _processes_with_home(home: Path) -> list[int]:
    """Processes whose environment has this PREFECT_HOME: the demo's server and worker."""
    marker = f"PREFECT_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    """Ctrl-C while emails are flowing stops the server, the worker and the stand-ins."""
    state = tmp_path / "sandbox"
    command = [sys.executable, "-m", "campaigns.cli", "demo", "--no-ui", "--state-dir", str(state)]
    process = subprocess.Popen(  # noqa: S603
        [*command, "--outbox-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Enrolled ava@"):
                break
        api = re.search(r"Prefect API (http://\S+)\)", "".join(lines))
        assert api is not None, "".join(lines)
        assert _processes_with_home(state / "prefect")
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert "Stopped everything the demo started." in output and "Traceback" not in output
    assert not _port_open(api.group(1))
    assert _processes_with_home(state / "prefect") == []
