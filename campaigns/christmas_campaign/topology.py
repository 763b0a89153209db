"""Every Prefect name of the campaign, and how much of the machine each part may use.

Flow, deployment, pool, queue, tag and concurrency-limit names live here and only here (docs/
contract.md §4); the flows, `deploy_all.py`, the `campaign` command and the webhook service
import them. Pure data: importing this module imports nothing from Prefect.

Capacity, sized for one Notion integration (about 3 requests/s) and a 2-core worker host:

- Every Notion call of a flow run takes one slot of the global concurrency limit
  `NOTION_RATE_LIMIT`, which `deploy_all.py` creates with `slot_decay_per_second` set to the
  flows' share of the Notion budget. That, not the number of processes, sets the pace.
- Queue priorities decide which due run a worker takes first (`queues_by_priority`), so a
  backlog drains oldest step first and a contact's later email does not overtake an earlier one.
- Queue concurrency limits keep a burst queued in Prefect (Scheduled/Late, visible in the UI)
  instead of hundreds of processes polling the rate limit at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.christmas_campaign.sequence import CAMPAIGN, EMAIL_COUNT
from campaigns.idempotency import contact_ref

WORK_POOL = "christmas-pool"
ORCHESTRATOR_FLOW_NAME = "christmas-email-sequence-orchestrator"
SEND_FLOW_NAME = "christmas-send-email"
CANCEL_FLOW_NAME = "christmas-cancel-sequence"
RECONCILER_FLOW_NAME = "christmas-reconcile"
REPORT_FLOW_NAME = "christmas-report"
# The flows that do a contact's work (the reconciler only watches them; its own runs are
# always scheduled ahead, so "nothing left to run" means none of these).
CONTACT_FLOWS = (ORCHESTRATOR_FLOW_NAME, SEND_FLOW_NAME, CANCEL_FLOW_NAME)
ORCHESTRATOR_DEPLOYMENT = "christmas-orchestrator"
CANCEL_DEPLOYMENT = "christmas-cancel"
RECONCILER_DEPLOYMENT = "christmas-reconciler"
REPORT_DEPLOYMENT = "christmas-report"
# The tag of a run that failed for a reason a person must fix (a Draft template, a bad signup):
# its retries are cancelled and the reconciler reports it instead of starting it again.
PERMANENT_FAILURE_TAG = "failure:permanent"
# The automation that marks a run Crashed when its heartbeats stop (deploy_all.py creates it).
SILENT_RUN_AUTOMATION = "christmas-crash-silent-runs"
DEPLOYMENT_TAGS = (CAMPAIGN,)

# The global concurrency limit every Notion call of a flow run draws from (a rate limit).
NOTION_RATE_LIMIT = "notion-api"
# How many Notion calls may start back to back before the decay rate paces them.
NOTION_BURST_SLOTS = 5

# Flow-run processes one worker host runs at once (`prefect worker start --limit`). A run spends
# about 3 CPU-seconds starting Python and Prefect, then mostly waits on Notion; six per 2-core
# host overlap the start-up of some with the waiting of others without thrashing.
WORKER_PROCESS_LIMIT = 6

# The command a process worker starts each run with (the deployments' `command` job variable).
# Left unset, Prefect 3.9 starts a workspace-supervisor Python process that then starts this
# command: two interpreters per run, about 1.5 CPU-seconds more. The worker's PATH must find the
# project's `python` first (`campaign worker` and `worker_path` see to it).
FLOW_RUN_COMMAND = "python -m prefect.engine"


@dataclass(frozen=True)
class QueueSpec:
    """A work queue of the pool and how many of its runs may run at once."""

    name: str
    concurrency_limit: int | None  # None: no limit


def step_deployment(email_number: int) -> str:
    """The deployment (and its work queue) of one send step: `christmas-email-<n>`."""
    return f"christmas-email-{email_number}"


CANCEL_QUEUE = QueueSpec("christmas-cancel", concurrency_limit=2)
# No limit on the reconciler's queue: a pass left Pending by a killed worker would hold a limit's
# only slot for ever, and nothing would heal it. Two passes at once are safe: every run they
# create has a key derived from what it replaces, so they create it once between them.
RECONCILER_QUEUE = QueueSpec(RECONCILER_DEPLOYMENT, concurrency_limit=None)
ORCHESTRATOR_QUEUE = QueueSpec("christmas-orchestrator", concurrency_limit=3)
# The report reads and writes nothing of a contact; it comes last, and a pass left Pending by a
# killed worker must not hold the next day's (so no limit either).
REPORT_QUEUE = QueueSpec(REPORT_DEPLOYMENT, concurrency_limit=None)


def step_queue(email_number: int) -> QueueSpec:
    """One queue per step, so pausing it holds that step alone (pausing a deployment does not)."""
    return QueueSpec(step_deployment(email_number), concurrency_limit=3 if email_number == 1 else 2)


def queues_by_priority() -> list[QueueSpec]:
    """The pool's queues, served in this order: stops, the reconciler (it heals the rest), then
    email 1 (it answers a signup), then new signups, then emails 2..7 in step order, so a
    backlog drains oldest step first, then the report."""
    later_steps = [step_queue(n) for n in range(2, EMAIL_COUNT + 1)]
    first = [CANCEL_QUEUE, RECONCILER_QUEUE, step_queue(1), ORCHESTRATOR_QUEUE]
    return [*first, *later_steps, REPORT_QUEUE]


def deployment_path(flow_name: str, deployment: str) -> str:
    """`flow/deployment`, the name Prefect reads a deployment by."""
    return f"{flow_name}/{deployment}"


ORCHESTRATOR_PATH = deployment_path(ORCHESTRATOR_FLOW_NAME, ORCHESTRATOR_DEPLOYMENT)
RECONCILER_PATH = deployment_path(RECONCILER_FLOW_NAME, RECONCILER_DEPLOYMENT)


def step_path(email_number: int) -> str:
    return deployment_path(SEND_FLOW_NAME, step_deployment(email_number))


def contact_tag(email: str) -> str:
    """The tag every run of one contact carries (hashed: tags are shown everywhere in the UI)."""
    return f"contact:{contact_ref(email)}"


def step_tag(email_number: int) -> str:
    return f"email-{email_number}"


def step_run_name(email: str, email_number: int, suffix: str | None = None) -> str:
    """A send run's name in the UI: `email-<n>-<contact ref>`, then `-<suffix>` for a run that
    replaces another (`deferred`, `redrive-<attempt>`)."""
    name = f"{step_tag(email_number)}-{contact_ref(email)[:8]}"
    return name if suffix is None else f"{name}-{suffix}"


def run_tags(email: str, email_number: int | None = None) -> list[str]:
    """The tags of a contact's send run: the campaign, the contact and, for a send, its step."""
    tags = [CAMPAIGN, contact_tag(email)]
    return tags if email_number is None else [*tags, step_tag(email_number)]


def orchestrator_tags(email: str, source: str) -> list[str]:
    """The tags of a signup's orchestrator run: the campaign, the contact, who started it
    (`signup-webhook`, `cli`, `reconciler`, ...). The contact tag lets the reconciler find a
    later run of the same signup."""
    return [CAMPAIGN, contact_tag(email), f"source:{source}"]
