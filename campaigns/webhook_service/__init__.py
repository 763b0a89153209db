"""The webhook service: the campaign's only public surface (the Prefect server stays private).

Start it with:

    uvicorn --factory campaigns.webhook_service.app:app_from_env --host 0.0.0.0 --port 8000

It reads the settings from the environment and `.env` and stops at once, naming the variable,
when one it needs is missing. Run one process (the replay stores, the recent stops, the
per-contact locks and the unsubscribe budgets live in memory; see `dedup`, `stopping` and
`concurrency`) behind a TLS-terminating proxy; `PUBLIC_BASE_URL` is the address that proxy serves.
"""
