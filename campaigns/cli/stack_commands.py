"""The commands that run things: `demo`, `outbox`, `deploy`, `worker`, `serve`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Annotated

import typer

from campaigns.christmas_campaign.topology import WORKER_PROCESS_LIMIT
from campaigns.cli.output import handled, out
from campaigns.cli.sandbox import DEFAULT_STATE_DIR
from campaigns.errors import CommandError

StateDir = Annotated[
    Path,
    typer.Option("--state-dir", help="The sandbox folder (kept between runs; git-ignored)."),
]


@handled
def demo(
    no_ui: Annotated[
        bool,
        typer.Option(
            "--no-ui",
            help="Plain progress lines, no Prefect UI, and exit when the 21 emails are in "
            "(status 1 on timeout): for CI and scripts.",
        ),
    ] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Empty the sandbox first (its data, runs, logs).")
    ] = False,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    time_scale: Annotated[
        float,
        typer.Option(help="SEQUENCE_TIME_SCALE: 27 runs the 27-minute test table in 60 s."),
    ] = 27.0,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the 21 emails after enrolling.")
    ] = 300.0,
    outbox_port: Annotated[
        int, typer.Option(help="Port of the outbox page (another is used if it is taken).")
    ] = 8025,
) -> None:
    """See the product work: local Prefect, Notion and Resend stand-ins, three sample contacts."""
    from campaigns.cli.demo import DemoOptions, run_demo

    if time_scale <= 0 or timeout <= 0:
        raise CommandError("--time-scale and --timeout must be positive.")
    options = DemoOptions(
        state_dir=state_dir,
        interactive=not no_ui,
        fresh=fresh,
        time_scale=time_scale,
        timeout=timeout,
        outbox_port=outbox_port,
    )
    snapshot = run_demo(options)
    out.print(f"All {snapshot.sent} emails arrived.")


@handled
def outbox(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    port: Annotated[int, typer.Option(help="Port of the page (another if taken).")] = 8025,
    serve_for: Annotated[
        float | None,
        typer.Option("--for", help="Stop after this many seconds (default: until Ctrl-C)."),
    ] = None,
) -> None:
    """Serve the sandbox's outbox page: every email of the demo, as the recipient sees it."""
    from campaigns.cli.outbox import OutboxServer, emails_from_state

    state = state_dir.expanduser().resolve()
    if not (state / "resend.json").exists():
        raise CommandError(f"No outbox in {state}: run `campaign demo` first.")
    server = OutboxServer(lambda: emails_from_state(state), port=port, live=True)
    url = server.start()
    try:
        count = len(emails_from_state(state))
        out.print(f"Outbox of {state}: {count} emails at {url}", markup=False)
        out.print("Ctrl-C stops it." if serve_for is None else f"Serving for {serve_for:g} s.")
        deadline = None if serve_for is None else time.monotonic() + serve_for
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        out.print("Stopped.")
    finally:
        server.stop()


@handled
def deploy(
    pool: Annotated[str, typer.Option(help="Work pool (created if missing).")] = "christmas-pool",
) -> None:
    """Register the pool, queues, limits, automation and deployments (as deploy_all.py)."""
    from campaigns.christmas_campaign.deployments.deploy_all import register
    from campaigns.cli.orchestration import prefect_errors, require_api
    from campaigns.settings import load_settings

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
