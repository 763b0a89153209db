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
ORCHESTRATOR_DEPLOYMENT = "christmas-orchestrator"
CANCEL_DEPLOYMENT = "christmas-cancel"
DEPLOYMENT_TAGS = (CAMPAIGN,)

# The global concurrency limit every Notion call of a flow run draws from (a rate limit).
NOTION_RATE_LIMIT = "notion-api"
# How many Notion calls may start back to back before the decay rate paces them.
NOTION_BURST_SLOTS = 5

# Flow-run processes one worker host runs at once (`prefect worker start --limit`). A run spends
# about 3 CPU-seconds starting Python and Prefect, then mostly waits on Notion; six per 2-core
# host overlap the start-up of some with the waiting of others without thrashing.
WORKER_PROCESS_LIMIT = 6


@dataclass(frozen=True)
class QueueSpec:
    """A work queue of the pool and how many of its runs may run at once."""

    name: str
    concurrency_limit: int


def step_deployment(email_number: int) -> str:
    """The deployment (and its work queue) of one send step: `christmas-email-<n>`."""
    return f"christmas-email-{email_number}"


CANCEL_QUEUE = QueueSpec("christmas-cancel", concurrency_limit=2)
ORCHESTRATOR_QUEUE = QueueSpec("christmas-orchestrator", concurrency_limit=3)


def step_queue(email_number: int) -> QueueSpec:
    """One queue per step, so pausing it holds that step alone (pausing a deployment does not)."""
    return QueueSpec(step_deployment(email_number), concurrency_limit=3 if email_number == 1 else 2)


def queues_by_priority() -> list[QueueSpec]:
    """The pool's queues, served in this order: stops, then email 1 (it answers a signup),
    then new signups, then emails 2..7 in step order, so a backlog drains oldest step first."""
    later_steps = [step_queue(n) for n in range(2, EMAIL_COUNT + 1)]
    return [CANCEL_QUEUE, step_queue(1), ORCHESTRATOR_QUEUE, *later_steps]


def deployment_path(flow_name: str, deployment: str) -> str:
    """`flow/deployment`, the name Prefect reads a deployment by."""
    return f"{flow_name}/{deployment}"


ORCHESTRATOR_PATH = deployment_path(ORCHESTRATOR_FLOW_NAME, ORCHESTRATOR_DEPLOYMENT)


def step_path(email_number: int) -> str:
    return deployment_path(SEND_FLOW_NAME, step_deployment(email_number))


def contact_tag(email: str) -> str:
    """The tag every run of one contact carries (hashed: tags are shown everywhere in the UI)."""
    return f"contact:{contact_ref(email)}"


def step_tag(email_number: int) -> str:
    return f"email-{email_number}"


def run_tags(email: str, email_number: int | None = None) -> list[str]:
    """The tags of a contact's run: the campaign, the contact and, for a send, its step."""
    tags = [CAMPAIGN, contact_tag(email)]
    return tags if email_number is None else [*tags, step_tag(email_number)]
