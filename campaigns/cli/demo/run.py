"""`campaign demo`: the whole product on one machine, without a Notion or Resend account.

It composes `LocalStack` (stand-ins, a Prefect server with its SQLite database in the sandbox,
the deployments, a worker), enrolls the three sample contacts through the orchestrator
deployment as the website would, follows the 21 emails, and ends with a summary, the campaign
report and where to look. Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from uuid import UUID

import httpx
from prefect.settings import PREFECT_API_URL, temporary_settings

from campaigns.cli import orchestration
from campaigns.cli.demo.progress import DemoWatch, LiveReporter, PlainReporter, Reporter, Snapshot
from campaigns.cli.demo.report import print_summary, upcoming_reader, where_to_look
from campaigns.cli.demo.sandbox import Sandbox, demo_signups
from campaigns.cli.output import out
from campaigns.cli.report import print_report, read_report
from campaigns.errors import CampaignError, CommandError, DemoTimeout
from campaigns.local_stack import LocalStack, free_port
from campaigns.models import SequenceStatus, Signup

DEFAULT_TIME_SCALE = 27.0  # the 27-minute TESTING_MODE table in 60 seconds
_FAILED = {"FAILED", "CRASHED", "CANCELLED", "CANCELLING"}


@dataclass(frozen=True)
class DemoOptions:
    state_dir: Path
    interactive: bool = True
    fresh: bool = False
    time_scale: float = DEFAULT_TIME_SCALE
    timeout: float = 300.0
    outbox_port: int = 8025


def run_demo(options: DemoOptions) -> Snapshot:
    """Run the demo; return the final snapshot (interactive: after Ctrl-C at the end)."""
    sandbox = Sandbox(options.state_dir)
    with sandbox.locked():
        if options.fresh:
            removed = sandbox.wipe()
            out.print(f"Emptied the sandbox {sandbox.root} ({', '.join(removed) or 'nothing'}).")
        run = sandbox.next_run()
        signups = demo_signups(run)
        stack = LocalStack(
            sandbox.root,
            time_scale=options.time_scale,
            ui=options.interactive,
            resend_port=free_port(options.outbox_port),
        )
        with contextlib.ExitStack() as cleanup, _signals_interrupt():
            cleanup.callback(_stop, stack)
            out.print(f"Sandbox: {sandbox.root} (demo run {run}).")
            _start(stack, options.interactive)
            outbox_url = stack.resend.outbox_url
            ui_url = stack.api_url.removesuffix("/api") + "/runs" if options.interactive else ""
            with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
                runs = _enroll(signups)
                snapshot = _follow(stack, signups, runs, options, outbox_url, ui_url)
            statuses = _final_statuses(stack, signups)
            print_summary(snapshot, statuses)
            print_report(*read_report(stack.crm()))
            where_to_look(sandbox.root, outbox_url, ui_url, interactive=options.interactive)
            if options.interactive:
                out.print("Everything keeps running so you can look around. Ctrl-C stops it all.")
                with contextlib.suppress(KeyboardInterrupt):  # the expected way to end
                    while True:
                        time.sleep(1)
        return snapshot


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP stop the demo, even when SIGINT came in ignored.

    A job started in the background of a non-interactive shell inherits SIGINT ignored, and so
    would the worker started from here (its own SIGTERM handling relies on SIGINT); a handler
    set here is reset to the default in every process started afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, interrupt) for sig in stops}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(stack: LocalStack) -> None:
    """Stop the stack; a second Ctrl-C meanwhile must not leave a server running."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        out.print("Stopping the worker, the Prefect server and the stand-ins...")
        stack.stop()
        out.print("Stopped everything the demo started.")
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _start(stack: LocalStack, interactive: bool) -> None:
    """`stack.start()`, narrating each phase from what the stack shows (its processes, health)."""
    started = time.monotonic()
    done = threading.Event()
    say = out.print

    def phase(stage: int) -> str:
        return [
            "Starting the Notion and Resend stand-ins, creating the databases, seeding templates",
            "Starting the Prefect server (a new sandbox creates its database: about 30 s)",
            "Registering the deployments (deploy_all.py)",
            "Starting a worker",
        ][stage]

    def watch() -> None:
        stage = 0
        say(f"  {phase(0)}...")
        while not done.wait(0.5):
            if stage == 0 and "server" in stack.processes:
                stage = 1
                say(f"  {phase(1)}...")
            if stage == 1 and _healthy(stack.api_url):
                stage = 2
                say(f"  {phase(2)}...")
            if stage == 2 and "worker" in stack.processes:
                stage = 3

    monitor = threading.Thread(target=watch, daemon=True, name="demo-phases")
    monitor.start()
    try:
        if interactive:
            with out.status("Starting the local stack..."):
                stack.start()
        else:
            stack.start()
    finally:
        done.set()
        monitor.join(timeout=2)
    say(f"Local stack up in {time.monotonic() - started:.0f} s (Prefect API {stack.api_url}).")


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _enroll(signups: list[Signup]) -> dict[UUID, str]:
    """Trigger one orchestrator run per sample contact; return run id -> contact email."""
    runs = {}
    for signup in signups:
        run = orchestration.trigger_orchestrator(signup, source="demo")
        runs[run.id] = signup.email
        out.print(f"Enrolled {signup.email}: orchestrator run {run.name}.")
    return runs


def _follow(
    stack: LocalStack,
    signups: list[Signup],
    runs: dict[UUID, str],
    options: DemoOptions,
    outbox_url: str,
    ui_url: str,
) -> Snapshot:
    watch = DemoWatch(signups, lambda: stack.resend.emails, upcoming_reader(signups))
    header = f"Outbox: {outbox_url}" + (f"   Prefect UI: {ui_url}" if ui_url else "")
    reporter: Reporter = PlainReporter()
    if options.interactive:
        reporter = LiveReporter(header + "   Ctrl-C stops everything")
    if not options.interactive:
        out.print(header, markup=False)
    deadline = time.monotonic() + options.timeout
    pending = dict(runs)
    try:
        while True:
            snapshot = watch.poll()
            reporter.update(snapshot)
            if snapshot.done:
                return snapshot
            pending = _check_orchestrators(pending, stack)
            if time.monotonic() > deadline:
                raise DemoTimeout(
                    f"Only {snapshot.sent} of {snapshot.expected} emails arrived within "
                    f"{options.timeout:.0f} s. The worker's log is {stack.log_path('worker')}; "
                    "a slower machine may need --timeout 600."
                )
            time.sleep(1)
    finally:
        reporter.close()


def _check_orchestrators(pending: dict[UUID, str], stack: LocalStack) -> dict[UUID, str]:
    """Fail fast when an enrollment failed; return the runs still to watch."""
    if not pending:
        return pending
    try:
        found = orchestration.read_runs(list(pending))
    except CampaignError:
        return pending
    still = dict(pending)
    for run in found:
        state = run.state
        if state is None:
            continue
        email = pending[run.id]
        message = state.message or ""
        if state.type.value in _FAILED:
            raise CommandError(
                f"Enrolling {email} failed: the orchestrator run ended {state.name}: {message} "
                f"(worker log: {stack.log_path('worker')})."
            )
        if state.type.value == "COMPLETED":
            if "not re-enrolled" in message:
                raise CommandError(f"{message} Start again with `campaign demo --fresh`.")
            still.pop(run.id, None)
    return still


def _final_statuses(stack: LocalStack, signups: list[Signup]) -> dict[str, str]:
    """Each contact's Sequence Status, waiting briefly for the last send to mark it Completed."""
    crm = stack.crm()
    deadline = time.monotonic() + 10
    while True:
        statuses = {s.email: crm.contact_status(s.email) for s in signups}
        finished = all(v == SequenceStatus.COMPLETED for v in statuses.values())
        if finished or time.monotonic() > deadline:
            return {email: v.value if v else "-" for email, v in statuses.items()}
        time.sleep(0.5)
