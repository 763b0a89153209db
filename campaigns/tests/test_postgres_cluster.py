"""A Prefect server of the local stack on a throwaway PostgreSQL cluster, with two workers."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from campaigns.christmas_campaign.topology import WORK_POOL
from campaigns.local_stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


def _pool_workers(api_url: str) -> set[str]:
    with (
        temporary_settings(updates={PREFECT_API_URL: api_url}),
        get_client(sync_client=True) as client,
    ):
        return {worker.name for worker in client.read_workers_for_work_pool(WORK_POOL)}


def test_server_on_postgres_with_two_workers(postgres_url: str, tmp_path: Path) -> None:
    """The server runs on the cluster, not SQLite, and both workers register with the pool."""
    stack = LocalStack(tmp_path / "stack", database_url=postgres_url, workers=2)
    try:
        stack.start(worker=True)
        health = httpx.get(f"{stack.api_url}/health", timeout=10)
        assert health.status_code == 200 and health.json() is True
        assert not list((tmp_path / "stack" / "prefect").glob("*.db")), "server used SQLite"
        assert stack.processes["worker"] is stack.processes["worker-1"]

        deadline = time.monotonic() + 90
        while (names := _pool_workers(stack.api_url)) != {"worker-1", "worker-2"}:
            assert time.monotonic() < deadline, f"workers registered with {WORK_POOL}: {names}"
            time.sleep(1)
        assert all(stack.processes[f"worker-{i}"].poll() is None for i in (1, 2))
        assert stack.log_path("worker-2").exists()
    finally:
        stack.stop()
