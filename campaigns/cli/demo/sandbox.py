"""The demo's sandbox: a state folder that keeps its data between runs, used by one demo at a time.

`LocalStack` keeps everything under the folder (Prefect's SQLite database, the stand-ins' JSON
files, the database ids, logs). The demo adds a run counter: the first run enrolls the three
sample contacts as they are; a later run enrolls them again under plus-addresses
(`maria+demo2@...`), because the first ones have Completed and are never re-enrolled.
`--fresh` empties the folder first, removing only the entries the demo itself creates.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.errors import SandboxError
from campaigns.models import Segment, Signup

DEFAULT_STATE_DIR = Path(".campaign-state")
COUNTER = "demo.json"
LOCK = "demo.lock"
# Everything the demo (through LocalStack) writes; `--fresh` removes these and nothing else.
OWN_ENTRIES = (
    "notion.json",
    "resend.json",
    "databases.json",
    COUNTER,
    "prefect",
    "logs",
    "previews",
)


class Sandbox:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()

    def wipe(self) -> list[str]:
        """Remove what earlier demos stored here; return the names removed."""
        removed = []
        for name in OWN_ENTRIES:
            path = self.root / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            else:
                continue
            removed.append(name)
        return removed

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder for this demo; a second demo on the same folder is refused."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SandboxError(
                    f"Another `campaign demo` is using {self.root}. Stop it (Ctrl-C) or give "
                    "this one its own folder with --state-dir."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def next_run(self) -> int:
        """Count this run (1 for a new sandbox) and remember it."""
        path = self.root / COUNTER
        runs = 0
        if path.exists():
            try:
                runs = int(json.loads(path.read_text(encoding="utf-8")).get("runs", 0))
            except (ValueError, AttributeError):
                runs = 0
        path.write_text(json.dumps({"runs": runs + 1}), encoding="utf-8")
        return runs + 1

    def has_data(self) -> bool:
        return (self.root / "databases.json").exists()


def demo_signups(run: int) -> list[Signup]:
    """One sample contact per segment; plus-addressed after the first run."""
    signups = []
    for segment in Segment:
        sample = SAMPLE_SIGNUPS[segment]
        if run > 1:
            local, domain = sample.email.split("@", 1)
            address = f"{local}+demo{run}@{domain}"
            sample = Signup.model_validate(sample.model_dump() | {"email": address})
        signups.append(sample)
    return signups
