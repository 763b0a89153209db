"""The commands that run the campaign on a Prefect server: `deploy`, `worker`, `serve`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from campaigns.christmas_campaign.topology import WORKER_PROCESS_LIMIT
from campaigns.cli.output import handled, out
from campaigns.errors import CommandError
from campaigns.settings import load_settings


@handled
def deploy(
    pool: Annotated[str, typer.Option(help="Work pool (created if missing).")] = "christmas-pool",
) -> None:
    """Register the pool, queues, limits, automation and deployments (as deploy_all.py)."""
    from campaigns.christmas_campaign.deployments.deploy_all import register
    from campaigns.cli.orchestration import prefect_errors, require_api

    url = require_api()
    out.print(f"Prefect API reachable at {url}.", markup=False)
    with prefect_errors("registering the deployments"):
        lines = register(load_settings(), pool)
    for line in lines:
        out.print(line, markup=False)
    out.print(f"Next: start a worker with `campaign worker --pool {pool}`.", markup=False)


@handled
def worker(
    pool: Annotated[str, typer.Option(help="Work pool to poll.")] = "christmas-pool",
    limit: Annotated[int, typer.Option(min=1, help="Flow runs at once.")] = WORKER_PROCESS_LIMIT,
    run_once: Annotated[bool, typer.Option(help="Poll once and exit.")] = False,
) -> None:
    """Start a Prefect worker on the campaign's work pool (runs the deployed flows)."""
    from campaigns.cli.orchestration import require_api, run_worker

    url = require_api()
    out.print(f"Worker for pool {pool} on {url}; Ctrl-C stops it.", markup=False)
    status = run_worker(pool, limit, run_once)
    if status != 0:
        raise CommandError(f"The worker exited with status {status}; see its output above.")


@handled
def serve(
    limit: Annotated[int, typer.Option(min=1, help="Flow runs at once.")] = WORKER_PROCESS_LIMIT,
) -> None:
    """Serve all deployments from this process (local use: no work pool, no worker)."""
    from campaigns.christmas_campaign.deployments.deploy_all import serve_all
    from campaigns.cli.orchestration import prefect_errors, require_api

    url = require_api()
    out.print(f"Serving the campaign's deployments on {url}; Ctrl-C stops.", markup=False)
    # Ctrl-C is the normal way to stop, whenever it comes: while the runner is still starting,
    # asyncio.run can surface it as CancelledError instead of KeyboardInterrupt.
    with (
        prefect_errors("serving the deployments"),
        contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError),
    ):
        serve_all(limit=limit)
    out.print("Stopped serving.")
