"""`campaign demo` and `campaign outbox`: the whole product on this machine, no accounts.

The bodies live beside them in this package (`run`, `progress`, `report`, `sandbox`) and are
imported when a command runs, so `campaign --help` does not load Prefect.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from campaigns.cli.demo.sandbox import DEFAULT_STATE_DIR
from campaigns.cli.output import handled, out
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
    from campaigns.cli.demo.run import DemoOptions, run_demo

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
    from campaigns.local_stack import free_port
    from campaigns.standins.resend import ResendStandIn

    state = state_dir.expanduser().resolve() / "resend.json"
    if not state.exists():
        raise CommandError(f"No outbox in {state.parent}: run `campaign demo` first.")
    # The Resend stand-in on the demo's saved outbox: it serves the page itself.
    standin = ResendStandIn(state_path=state, port=free_port(port))
    standin.start()
    try:
        count = len(standin.emails)
        out.print(f"Outbox of {state.parent}: {count} emails at {standin.outbox_url}", markup=False)
        out.print("Ctrl-C stops it." if serve_for is None else f"Serving for {serve_for:g} s.")
        deadline = None if serve_for is None else time.monotonic() + serve_for
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        out.print("Stopped.")
    finally:
        standin.stop()
