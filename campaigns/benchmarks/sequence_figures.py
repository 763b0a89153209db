"""Figures of the sequence on a real local Prefect server with a worker and the stand-ins.

Prints, each against a baseline measured in the same run on the same stack:
- seconds from triggering the orchestrator to email 1 at the Resend stand-in (median of 5),
  against seconds from triggering a no-op flow run to its completion (median of 5);
- Notion requests per email sent (whole sequences, orchestrator included);
- CPU seconds per flow run of the worker's children (process start included), against the
  same for a no-op flow run.

Run:  python -m campaigns.benchmarks.sequence_figures [--postgres]   (about 4 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

from prefect import Flow, get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from campaigns.benchmarks.noop_flow import noop
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.topology import FLOW_RUN_COMMAND, ORCHESTRATOR_PATH, WORK_POOL
from campaigns.local_stack import REPO_ROOT, LocalStack
from campaigns.models import Segment, Signup
from campaigns.postgres_cluster import PostgresCluster

RUNS = 5
TIME_SCALE = 45.0


def children_cpu(pid: int) -> float:
    """CPU seconds of the waited-for children of a process (Linux /proc: cutime + cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def trigger(deployment: str, parameters: dict[str, Any]) -> Any:
    with get_client(sync_client=True) as client:
        dep = client.read_deployment_by_name(deployment)
        return client.create_flow_run_from_deployment(dep.id, parameters=parameters).id


def wait_final(run_id: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                return
            time.sleep(0.1)
    raise TimeoutError(f"flow run {run_id} did not finish")


def signup(index: int) -> Signup:
    base = SAMPLE_SIGNUPS[list(Segment)[index % 3]]
    return base.model_copy(update={"email": f"bench{index}.{base.email}"})


def baseline(stack: LocalStack) -> tuple[float, float]:
    """Median seconds and worker-child CPU seconds of a no-op flow run."""
    flow = cast(
        Flow[..., Any], noop.from_source(str(REPO_ROOT), "campaigns/benchmarks/noop_flow.py:noop")
    )
    flow.deploy(
        name="noop",
        work_pool_name=WORK_POOL,
        job_variables={"command": FLOW_RUN_COMMAND},  # started as the campaign's runs are
        print_next_steps=False,
    )
    worker = stack.processes["worker"].pid
    seconds, cpu = [], []
    for i in range(RUNS):
        before, start = children_cpu(worker), time.monotonic()
        wait_final(trigger("benchmark-noop/noop", {"marker": str(i)}))
        seconds.append(time.monotonic() - start)
        time.sleep(1.5)  # the worker reaps the child a moment after the run is final
        cpu.append(children_cpu(worker) - before)
    return statistics.median(seconds), statistics.median(cpu)


def sequences(stack: LocalStack) -> tuple[float, int, int, float]:
    """Median trigger-to-email-1 seconds, emails sent, Notion requests, CPU per flow run."""
    worker = stack.processes["worker"].pid
    cpu_before, notion_before = children_cpu(worker), len(stack.notion.requests)
    latencies = []
    for i in range(RUNS):
        contact, start = signup(i), time.monotonic()
        trigger(ORCHESTRATOR_PATH, contact.model_dump(mode="json"))
        while not any(e["to"] == [contact.email] for e in stack.resend.emails):
            time.sleep(0.05)
        latencies.append(time.monotonic() - start)
    deadline = time.monotonic() + 240
    while len(stack.resend.emails) < 7 * RUNS and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(10)  # the last runs finish their Notion writes
    cpu = (children_cpu(worker) - cpu_before) / (RUNS * 8)  # 1 orchestrator + 7 sends each
    notion = len(stack.notion.requests) - notion_before
    return statistics.median(latencies), len(stack.resend.emails), notion, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="Prefect on PostgreSQL")
    args = parser.parse_args(argv)
    with ExitStack() as context:
        folder = Path(context.enter_context(tempfile.TemporaryDirectory()))
        database_url = None
        if args.postgres:
            cluster = PostgresCluster(Path(context.enter_context(tempfile.TemporaryDirectory())))
            database_url = context.enter_context(cluster).url
        stack = context.enter_context(LocalStack(folder, TIME_SCALE, database_url=database_url))
        context.enter_context(temporary_settings(updates={PREFECT_API_URL: stack.api_url}))
        base_seconds, base_cpu = baseline(stack)
        latency, sent, notion, cpu = sequences(stack)
    print(f"Prefect on {'PostgreSQL' if args.postgres else 'SQLite'}, one worker.")
    print(f"Emails sent: {sent} of {7 * RUNS} expected.")
    print(
        f"Trigger to email 1, median of {RUNS}: {latency:.2f} s; no-op flow run trigger to "
        f"completion: {base_seconds:.2f} s; ratio {latency / base_seconds:.2f}."
    )
    print(f"Notion requests per email sent: {notion / max(sent, 1):.1f} ({notion} for {sent}).")
    print(
        f"CPU seconds per flow run, process start included: {cpu:.2f} s; no-op flow run: "
        f"{base_cpu:.2f} s; ratio {cpu / base_cpu:.2f}."
    )


if __name__ == "__main__":
    main()
