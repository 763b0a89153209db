"""One exception tree for the whole package.

Every failure the package can meet is a subclass of `CampaignError`, so a flow, the CLI or the
webhook service can catch one base class and still say precisely what went wrong. Each subclass
carries a message written for the operator who will read it in the Prefect UI.
"""

from __future__ import annotations


class CampaignError(Exception):
    """Base class of every error raised by this package."""


# --- configuration -------------------------------------------------------------------------------


class SettingsError(CampaignError):
    """A setting is missing or malformed; the message names the environment variable."""


class InvalidUnsubscribeToken(CampaignError):
    """An unsubscribe token was not made with our secret, or was altered."""


# --- pure core -----------------------------------------------------------------------------------


class TemplateError(CampaignError):
    """A template cannot be turned into an email."""


class TemplateSyntaxProblem(TemplateError):
    """The template text is not valid Jinja2."""


class UnknownVariableError(TemplateError):
    """The template uses a placeholder that is not one of the contract's variables."""


class MissingVariableError(TemplateError):
    """The template uses a known placeholder for which this contact has no value."""


class TemplateSecurityError(TemplateError):
    """The template tried to reach Python internals; the sandbox refused it."""


class TemplateContentError(TemplateError):
    """The template is empty, inactive, or lacks what every email must carry."""


# --- Notion --------------------------------------------------------------------------------------


class NotionError(CampaignError):
    """A Notion request failed."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class NotionRateLimited(NotionError):
    """Notion kept answering 429/529 after every retry allowed."""


class NotionUnavailable(NotionError):
    """Notion answered 5xx or timed out after every retry allowed."""


class NotionAuthError(NotionError):
    """The token was refused, or the database is not shared with the integration."""


class NotionNotFound(NotionError):
    """The database, data source or page does not exist (or is not shared)."""


class NotionValidationError(NotionError):
    """Notion refused the request as malformed (400 validation_error); never retried."""


class NotionSchemaError(NotionError):
    """A database lacks a property of the contract, or has it with the wrong type."""


class TemplateNotFound(NotionError):
    """No template page with this Template ID exists."""


class TemplateNotActive(NotionError):
    """The template exists but its Status is not Active."""


# --- Resend --------------------------------------------------------------------------------------


class ResendError(CampaignError):
    """A Resend request failed."""

    def __init__(self, message: str, *, status: int | None = None, name: str | None = None):
        super().__init__(message)
        self.status = status
        self.name = name


class ResendNotConfigured(ResendError):
    """No API key is set, so the adapter refuses to call Resend at all."""


class ResendRejected(ResendError):
    """Resend refused the email (4xx validation, auth); retrying would not help."""


class ResendQuotaExceeded(ResendError):
    """The daily or monthly quota is used up; retrying soon would not help."""


class ResendIdempotencyConflict(ResendError):
    """The idempotency key was already used for a different payload: an email may already be out."""


class ResendUnavailable(ResendError):
    """Resend answered 429/5xx or could not be reached after every retry allowed."""


# --- Prefect -------------------------------------------------------------------------------------


class OrchestrationError(CampaignError):
    """Prefect could not be asked to schedule, read or cancel the sequence's runs."""


class DeploymentMissing(OrchestrationError):
    """A deployment the sequence needs is not registered (run deploy_all.py)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"Deployment {path} does not exist on the Prefect server. Register it with "
            "`campaign deploy` (or deploy_all.py)."
        )
        self.path = path


# --- command line --------------------------------------------------------------------------------


class CommandError(CampaignError):
    """A `campaign` command cannot do what was asked; the message says what to do instead."""


class InputError(CommandError):
    """A command-line value (a time zone, a date, a JSON file) is not usable."""


class SandboxError(CommandError):
    """The demo's state folder is in use by another demo, or is not one the demo made."""


class DemoTimeout(CommandError):
    """The demo's emails did not all arrive in time."""


# --- webhook service -----------------------------------------------------------------------------


class WebhookRejected(CampaignError):
    """The webhook service refuses a request; `status` is the HTTP status it answers with."""

    def __init__(self, message: str, *, status: int, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class WebhookSignatureError(WebhookRejected):
    """A webhook's signature is missing, wrong, too old, or its message id was already used."""

    def __init__(self, message: str):
        super().__init__(message, status=401)


class OrchestratorUnavailable(OrchestrationError):
    """The Prefect API could not be reached, timed out or answered 5xx; a later try may work."""
