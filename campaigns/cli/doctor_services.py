"""The checks of `campaign doctor` that talk to a service: Notion, Resend, Prefect.

Notion: the token, each database, and each property of the contract by exact name and type
(a missing one is matched to a similar-looking column, so the fix is "rename X to Y"). Resend:
the key, and the sender's domain when the key may list domains. Prefect: the API, the work
pool, and the 11 deployments.
"""

from __future__ import annotations

from typing import Any

import httpx

from campaigns.cli.doctor import Check, Result, sender_address
from campaigns.errors import CampaignError, NotionAuthError, NotionError
from campaigns.notion_api import NotionApi
from campaigns.notion_schema import schema_differences
from campaigns.notion_tables import TABLES
from campaigns.settings import NotionAccess, ResendAccess, Settings


def _skip(area: str, name: str, needs: str) -> Check:
    return Check(area, name, Result.SKIP, f"needs {needs}")


# --- Notion --------------------------------------------------------------------------------------


def notion_checks(settings: Settings) -> list[Check]:
    if settings.missing(NotionAccess):
        return [_skip("Notion", "token and databases", "the NOTION_* settings")]
    notion = settings.notion
    api = NotionApi(
        notion.token.get_secret_value(),
        settings.notion_base_url,
        requests_per_second=settings.notion_requests_per_second or None,
        max_attempts=2,
        max_wait_seconds=5,
        timeout_seconds=15,
    )
    checks: list[Check] = []
    token_refused = False
    for key, table in TABLES.items():
        title = table.title
        database_id = str(getattr(notion, f"{key}_db_id"))
        try:
            source = api.retrieve_data_source(api.data_source_id(database_id))
        except NotionAuthError as exc:
            token_refused = token_refused or exc.status == 401
            checks.append(Check("Notion", f"{title} database", Result.FAIL, _auth_fix(exc)))
            continue
        except NotionError as exc:
            checks.append(Check("Notion", f"{title} database", Result.FAIL, str(exc)))
            continue
        checks.append(Check("Notion", f"{title} database", Result.PASS, f"{database_id} found"))
        checks.extend(schema_checks(key, source))
    token = (
        Check("Notion", "NOTION_TOKEN", Result.FAIL, "refused (401): copy the integration secret")
        if token_refused
        else Check("Notion", "NOTION_TOKEN", Result.PASS, "accepted")
    )
    return [token, *checks]


def _auth_fix(exc: NotionAuthError) -> str:
    if exc.status == 401:
        return "the token was refused; set NOTION_TOKEN to the integration's secret"
    return "not shared with the integration: in Notion, open it, ... > Connections > add it"


def schema_checks(key: str, source: dict[str, Any]) -> list[Check]:
    """One failed check per contract property that is missing or mistyped; one pass otherwise."""
    table = TABLES[key]
    checks = []
    for d in schema_differences(table, source):
        if d.actual is None:
            fix = (
                f"rename '{d.similar}' ({d.similar_kind}) to '{d.name}'"
                if d.similar
                else f"add a {d.kind} property named exactly '{d.name}'"
            )
            detail = f"property '{d.name}' ({d.kind}) is missing: {fix}"
        else:
            detail = f"property '{d.name}' is {d.actual}: change its type to {d.kind}"
        checks.append(Check("Notion", f"{table.title} schema", Result.FAIL, detail))
    if not checks:
        detail = f"all {len(table.columns)} properties present with the right types"
        checks.append(Check("Notion", f"{table.title} schema", Result.PASS, detail))
    return checks


# --- Resend --------------------------------------------------------------------------------------


def resend_checks(settings: Settings) -> list[Check]:
    if settings.missing(ResendAccess):
        return [_skip("Resend", "key and sender", " and ".join(ResendAccess.variables()))]
    resend = settings.resend
    url = f"{settings.resend_base_url}/domains"
    try:
        reply = httpx.get(
            url,
            headers={"Authorization": f"Bearer {resend.api_key.get_secret_value()}"},
            timeout=15,
        )
    except httpx.HTTPError as exc:
        detail = f"{settings.resend_base_url} did not answer ({type(exc).__name__})"
        return [Check("Resend", "RESEND_API_KEY", Result.FAIL, detail)]
    name = _error_name(reply)
    domain = (sender_address(resend.email_from) or "@").rsplit("@", 1)[1]
    if reply.status_code in (401, 403) and name != "restricted_api_key":
        fix = f"refused ({reply.status_code} {name}): create a key at resend.com/api-keys"
        return [Check("Resend", "RESEND_API_KEY", Result.FAIL, fix)]
    if reply.status_code == 200:
        key = Check("Resend", "RESEND_API_KEY", Result.PASS, "accepted (full access)")
        return [key, _domain_check(domain, reply.json())]
    if name == "restricted_api_key":
        key = Check("Resend", "RESEND_API_KEY", Result.PASS, "accepted (sending access)")
        note = "not checked: a sending-only key cannot list domains"
        return [key, Check("Resend", f"sender domain {domain}", Result.WARN, note)]
    if reply.status_code == 404:  # an API without /domains (the local stand-in)
        key = Check("Resend", "RESEND_API_KEY", Result.PASS, "accepted")
        note = "not checked: this API has no /domains"
        return [key, Check("Resend", f"sender domain {domain}", Result.WARN, note)]
    detail = f"unexpected answer HTTP {reply.status_code} {name}"
    return [Check("Resend", "RESEND_API_KEY", Result.FAIL, detail)]


def _error_name(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return ""
    return str(body.get("name", "")) if isinstance(body, dict) else ""


def _domain_check(domain: str, body: Any) -> Check:
    domains = body.get("data", []) if isinstance(body, dict) else []
    for entry in domains:
        if isinstance(entry, dict) and entry.get("name") == domain:
            status = str(entry.get("status", "unknown"))
            if status == "verified":
                return Check("Resend", f"sender domain {domain}", Result.PASS, "verified")
            fix = f"status {status}: add the DNS records Resend shows under Domains"
            return Check("Resend", f"sender domain {domain}", Result.FAIL, fix)
    fix = "not in this Resend account: add and verify it under Domains, or change EMAIL_FROM"
    return Check("Resend", f"sender domain {domain}", Result.FAIL, fix)


# --- Prefect -------------------------------------------------------------------------------------


def prefect_checks(settings: Settings) -> list[Check]:
    from campaigns.cli import orchestration

    try:
        url = orchestration.require_api()
    except CampaignError as exc:
        return [Check("Prefect", "API", Result.FAIL, str(exc))]
    checks = [Check("Prefect", "API", Result.PASS, f"{url} answers")]
    try:
        pool = orchestration.work_pool_exists()
        states = orchestration.deployment_states()
    except CampaignError as exc:
        return [*checks, Check("Prefect", "deployments", Result.FAIL, str(exc))]
    pool_detail = "exists" if pool else "missing (fine if you use `campaign serve`)"
    checks.append(Check("Prefect", "work pool", Result.PASS if pool else Result.WARN, pool_detail))
    missing = [s.full_name for s in states if s.problem == "missing"]
    idle = [f"{s.full_name} ({s.problem})" for s in states if s.problem not in ("", "missing")]
    if missing:
        detail = f"missing: {', '.join(missing)}; run `campaign deploy`"
        checks.append(Check("Prefect", "deployments", Result.FAIL, detail))
    else:
        detail = f"all {len(states)} registered"
        checks.append(Check("Prefect", "deployments", Result.PASS, detail))
    if idle:
        detail = f"{'; '.join(idle)}: start `campaign worker` (or `campaign serve`)"
        checks.append(Check("Prefect", "runners", Result.WARN, detail))
    return checks
