"""A complete local installation on one machine: stand-ins, a Prefect server, deployments, workers.

Used by the end-to-end tests, the benchmarks and the no-account demo. Everything lives under one
state folder (Prefect's SQLite database unless `database_url` names another, the stand-ins' data,
logs), so a run is isolated from the user's own Prefect profile, and processes are started in
their own process groups so they stop on SIGTERM (a worker started from a non-interactive shell
otherwise ignores it).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from campaigns.christmas_campaign.seed_templates import seed_templates
from campaigns.christmas_campaign.topology import WORK_POOL, WORKER_PROCESS_LIMIT
from campaigns.cli.orchestration import prefect_executable, worker_path
from campaigns.errors import CampaignError
from campaigns.notion_api import NotionApi
from campaigns.notion_crm import NotionCRM
from campaigns.notion_schema import create_databases
from campaigns.settings import Settings, load_settings
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import NOTION_TOKEN, PUBLIC_BASE_URL, RESEND_KEY, standin_env

REPO_ROOT = Path(__file__).resolve().parents[1]
DEPLOY_SCRIPT = REPO_ROOT / "campaigns" / "christmas_campaign" / "deployments" / "deploy_all.py"
PARENT_PAGE = "00000000-0000-4000-8000-0000000000aa"
FIRST_WORKER = "worker"  # the key of the first worker in `processes` and `log_path`


def free_port(preferred: int = 0) -> int:
    """`preferred` when it is free on 127.0.0.1 (0: none), else any free port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


@dataclass
class LocalStack:
    """Start with `start()`, stop with `stop()` (or use as a context manager)."""

    state_dir: Path
    time_scale: float = 45.0
    testing_mode: bool = True
    ui: bool = False
    worker_limit: int = WORKER_PROCESS_LIMIT  # per worker process
    workers: int = 1  # worker processes on the pool, named worker-1, worker-2, ...
    database_url: str | None = None  # the Prefect server's database; None: SQLite in state_dir
    notion_rate: float | None = None  # requests/s of the Notion stand-in and of the campaign
    public_base_url: str = PUBLIC_BASE_URL
    resend_port: int = 0  # the Resend stand-in's port, which also serves the outbox page
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state_dir = self.state_dir.resolve()
        self.notion = NotionStandIn(token=NOTION_TOKEN, state_path=self.state_dir / "notion.json")
        self.resend = ResendStandIn(
            api_key=RESEND_KEY, state_path=self.state_dir / "resend.json", port=self.resend_port
        )
        self.prefect_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.prefect_port}/api"
        self.database_ids: dict[str, str] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *, worker: bool = True) -> None:
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.notion.start()
        self.resend.start()
        self._prepare_notion()
        if self.notion_rate is not None:  # after the setup, which is not what is measured
            self.notion.set_rate_limit(self.notion_rate)
        self._start_server()
        self.deploy()
        if worker:
            for index in range(1, self.workers + 1):
                self.start_worker(index)

    def stop(self) -> None:
        # Workers before the server: a worker whose server is gone retries for a long time.
        for name in sorted(self.processes, key=lambda n: n == "server"):
            _terminate(self.processes[name])  # returns at once for an already stopped alias
        self.processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
        self.resend.stop()
        self.notion.stop()

    # --- what the parts need -----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every process of the stack (and of the test process's settings)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NOTION_"))}
        env.update(
            {
                "PREFECT_HOME": str(self.state_dir / "prefect"),
                "PREFECT_API_URL": self.api_url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "5",
                "PREFECT_RUNNER_POLL_FREQUENCY": "1",
                "PREFECT_LOGGING_EXTRA_LOGGERS": "campaigns",
                **standin_env(
                    self.database_ids,
                    self.notion.url,
                    self.resend.url,
                    public_base_url=self.public_base_url,
                    testing_mode=self.testing_mode,
                    time_scale=self.time_scale,
                    notion_rate=self.notion_rate,
                ),
                "PYTHONUNBUFFERED": "1",
                "PATH": worker_path(os.environ),  # the runs' `python` is this environment's
                "CAMPAIGN_ENV_FILE": "none",  # the checkout's own .env must not leak in
            }
        )
        env.update(self.extra_env)
        return env

    def settings(self) -> Settings:
        """The campaign settings of this stack, built without reading any `.env` file."""
        env = self.env()
        names = Settings.model_fields
        return load_settings(
            env_file=None, **{k.lower(): env[k] for k in env if k.lower() in names}
        )

    def crm(self) -> NotionCRM:
        return NotionCRM.from_settings(self.settings(), requests_per_second=None)

    # --- steps -------------------------------------------------------------------------------

    def _prepare_notion(self) -> None:
        """Create the three databases once (kept in the sandbox) and seed the templates."""
        ids_file = self.state_dir / "databases.json"
        if ids_file.exists():
            self.database_ids = json.loads(ids_file.read_text())
        else:
            api = NotionApi(NOTION_TOKEN, self.notion.url, requests_per_second=None)
            self.database_ids = create_databases(api, PARENT_PAGE)
            ids_file.write_text(json.dumps(self.database_ids))
        seed_templates(self.crm())

    def _start_server(self) -> None:
        args = ["server", "start", "--host", "127.0.0.1", "--port", str(self.prefect_port)]
        args += ["--analytics-off", "--ui" if self.ui else "--no-ui"]
        database: dict[str, str] = {}
        if self.database_url is not None:
            database["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = self.database_url
        self.spawn("server", [prefect_executable(), *args], extra_env=database)
        self._wait_healthy(timeout=180)

    def stop_worker(self, index: int = 1) -> None:
        """Stop worker `worker-<index>` if it runs (SIGTERM, then SIGKILL after 15 s)."""
        name = f"worker-{index}"
        if name in self.processes:
            _terminate(self.processes[name])

    def stop_server(self) -> None:
        """Stop the Prefect server (workers keep running and retry); `start_server` resumes."""
        _terminate(self.processes.pop("server"))

    def start_server(self) -> None:
        """Start the Prefect server again on the same port and database."""
        self._start_server()

    def deploy(self) -> str:
        result = subprocess.run(  # noqa: S603 - our own script, our own interpreter
            [sys.executable, str(DEPLOY_SCRIPT)],
            env=self.env(),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise CampaignError(f"deploy_all.py failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start_worker(
        self,
        index: int = 1,
        *,
        queues: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start worker `worker-<index>` on the pool (on `queues` only, when given), stopping
        that worker first if it runs; `extra_env` reaches the runs it starts."""
        name = f"worker-{index}"
        self.stop_worker(index)
        command = ["worker", "start", "--pool", WORK_POOL, "--limit", str(self.worker_limit)]
        for queue in queues or []:
            command += ["--work-queue", queue]
        process = self.spawn(
            name, [prefect_executable(), *command, "--name", name], extra_env=extra_env
        )
        if index == 1:
            self.processes[FIRST_WORKER] = process
        return process

    def spawn(
        self, name: str, command: list[str], extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a process of the stack (own process group, log in `logs/<name>.log`)."""
        log = self.log_path(name).open("ab")
        self._logs.append(log)
        self.processes[name] = subprocess.Popen(  # noqa: S603
            command,
            env=self.env() | (extra_env or {}),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.processes[name]

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["server"].poll() is not None:
                raise CampaignError(f"Prefect server exited; see {self.log_path('server')}.")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise CampaignError(f"Prefect server not healthy after {timeout:.0f} s.")

    def log_path(self, name: str) -> Path:
        """The log file of process `name` ("worker" is the first worker, `worker-1`)."""
        if name == FIRST_WORKER:
            name = "worker-1"
        return self.state_dir / "logs" / f"{name}.log"


def _terminate(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def running_stack(state_dir: Path, **options: Any) -> Iterator[LocalStack]:
    """A started stack, with this process's Prefect client aimed at its server; stopped after."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    stack = LocalStack(state_dir, **options)
    try:
        stack.start()
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            yield stack
    finally:
        stack.stop()
