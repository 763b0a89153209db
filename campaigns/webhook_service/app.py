"""The FastAPI application: thin routes over the handler modules (docs/contract.md §6).

    uvicorn --factory campaigns.webhook_service.app:app_from_env --host 0.0.0.0 --port 8000

`create_app(settings)` builds the app for given settings (tests pass their own `WebhookServices`);
`app_from_env()` is the factory uvicorn calls: settings from the environment and `.env`.
"""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from campaigns.errors import SettingsError, WebhookRejected
from campaigns.settings import Settings, load_settings
from campaigns.webhook_service.booking import handle_booking
from campaigns.webhook_service.health import health
from campaigns.webhook_service.resend_events import handle_resend_event
from campaigns.webhook_service.services import WebhookServices
from campaigns.webhook_service.signup import handle_signup
from campaigns.webhook_service.unsubscribe_routes import confirmation_page, unsubscribe
from campaigns.webhook_service.web import rejected_handler


def create_app(settings: Settings, services: WebhookServices | None = None) -> FastAPI:
    """The service for these settings; `SettingsError` names a missing or malformed setting."""
    services = services or WebhookServices.from_settings(settings)
    # No /docs or /openapi.json: the public surface is exactly the routes below. No redirects
    # either: Starlette would answer `/route/` with a 307 to an address built from the Host
    # header; a path that is not a route is a 404.
    app = FastAPI(
        title="Campaign webhooks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.add_exception_handler(WebhookRejected, rejected_handler)

    @app.post("/webhooks/signup", status_code=202)
    async def signup(request: Request) -> JSONResponse:
        return await handle_signup(services, request)

    @app.get("/unsubscribe")
    async def unsubscribe_page(request: Request) -> Response:
        return await confirmation_page(services, request)

    @app.post("/unsubscribe")
    async def unsubscribe_one_click(request: Request, background: BackgroundTasks) -> Response:
        return await unsubscribe(services, request, background)

    @app.post("/webhooks/resend")
    async def resend_event(request: Request, background: BackgroundTasks) -> JSONResponse:
        return await handle_resend_event(services, request, background)

    @app.post("/webhooks/booking")
    async def booking(request: Request, background: BackgroundTasks) -> JSONResponse:
        return await handle_booking(services, request, background)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return await health(services)

    return app


def app_from_env() -> FastAPI:
    """The uvicorn factory: settings from the environment; a missing one stops the start."""
    configure_service_logging()
    try:
        return create_app(load_settings())
    except SettingsError as exc:
        raise SystemExit(f"Error: {exc}") from None


def configure_service_logging() -> None:
    """The package's sentences at INFO on stderr, and uvicorn's access lines without queries.

    Importing Prefect installed its own logging setup (root and uvicorn at WARNING, and an API
    handler on `PREFECT_LOGGING_EXTRA_LOGGERS`, which warns outside a flow run), so this one
    replaces it for the package's loggers. An unsubscribe token in a query names the contact,
    so access lines show the path only.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("campaigns")
    package.handlers = [handler]
    package.setLevel(logging.INFO)
    package.propagate = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").addFilter(_path_only)


def _path_only(record: logging.LogRecord) -> bool:
    """Drop the query string from uvicorn's access line (client, method, path, version, status)."""
    if isinstance(record.args, tuple) and len(record.args) == 5:
        client, method, path, version, status = record.args
        record.args = (client, method, str(path).split("?", 1)[0], version, status)
    return True
