"""A flow that does nothing: the baseline for what Prefect itself costs per run."""

from __future__ import annotations

from prefect import flow


@flow(name="benchmark-noop")
def noop(marker: str = "") -> str:
    return marker
