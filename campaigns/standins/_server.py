"""The machinery both stand-ins share: a local HTTP server in a thread, and its request pipeline.

Every request goes through the same steps, in the order a real API applies them: control
endpoints (`/__standin/...`, never limited or failed), authentication, the rate limit, scripted
failures "before", the service's own handling, then scripted failures "after". A subclass only
supplies authentication, routing, its error body and its data; it never sees HTTP.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from campaigns.standins._faults import Failure, FailureInjector, TokenBucket, When
from campaigns.standins._wire import ApiError, Reply, Request, StateFile, http_server, now_iso

CONTROL_PREFIX = "/__standin/"
log = logging.getLogger("campaigns.standins")


class StandInServer:
    """Base class: lifecycle, pipeline, failures, log and persistence; subclasses add the API."""

    rate_limit_code: ClassVar[str] = "rate_limited"
    rate_limit_message: ClassVar[str] = "You have been rate limited. Please try again later."
    invalid_json: ClassVar[tuple[int, str, str]] = (400, "invalid_json", "Error parsing JSON body.")

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
        burst: int = 3,
        state_path: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.limiter = TokenBucket(rate_limit, burst)
        self.failures = FailureInjector()
        self.lock = threading.RLock()  # guards the service's data; handlers run one at a time
        self._state = StateFile(Path(state_path)) if state_path is not None else None
        self._log: list[dict[str, Any]] = []
        self._dirty = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- what a subclass provides ------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        """Raise ApiError when the request may not use the API."""

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def error_body(self, status: int, code: str, message: str, request: Request) -> Any:
        raise NotImplementedError

    def default_code(self, status: int) -> str:
        return "internal_server_error" if status >= 500 else "error"

    def control(self, request: Request) -> Reply | None:
        """Service-specific `/__standin/...` endpoints; None when the path is not one."""
        return None

    def web_page(self, request: Request) -> Reply | None:
        """A page for people (no key, no rate limit); None when the path is not one."""
        return None

    def decorate(self, reply: Reply, request: Request) -> None:
        """Add headers every reply of the service carries."""

    def finish(self, request: Request) -> None:
        """Called when the reply is ready, before it is written, and again after (idempotent)."""

    def dump_data(self) -> dict[str, Any]:
        return {}

    def load_data(self, data: dict[str, Any]) -> None:
        """Replace the data with what `dump_data` produced."""

    def clear_data(self) -> None:
        """Forget every stored object."""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving in a background thread; return the base URL."""
        if self._httpd is not None:
            return self.url
        if self._state is not None:
            data = self._state.load()
            if data is not None:
                with self.lock:
                    self.load_data(data)
        httpd = http_server(self.host, self.port, self)
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits up to one poll interval
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the Python control API --------------------------------------------------------------

    def inject_failure(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = 500,
        code: str | None = None,
        message: str | None = None,
        count: int | None = 1,
        retry_after: int | None = None,
        delay: float | None = None,
        when: When = "before",
    ) -> Failure:
        """Script a failure for the next `count` requests whose method and path match."""
        failure = Failure(method, path, status, code, message, count, retry_after, delay, when)
        self.failures.add(failure)
        return failure

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Change the limit while running (None: unlimited); the bucket starts full."""
        self.limiter = TokenBucket(rate, burst or self.limiter.burst)

    def clear_failures(self) -> None:
        self.failures.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every API request answered so far: method, path, status and time received."""
        with self.lock:
            return [dict(entry) for entry in self._log]

    def reset(self, data: bool = False) -> None:
        """Clear failures, the request log and the rate limit; with `data`, every object too."""
        self.failures.clear()
        self.limiter.reset()
        with self.lock:
            self._log.clear()
            if data:
                self.clear_data()
                self.mark_dirty()
                self._save_if_dirty()

    def mark_dirty(self) -> None:
        """Call after changing data, so it is saved to the state file."""
        self._dirty = True

    def _save_if_dirty(self) -> None:
        if self._dirty and self._state is not None:
            self._state.save(self.dump_data())
        self._dirty = False

    # --- the pipeline ------------------------------------------------------------------------

    def parse_json(self, request: Request, default: Any = None) -> Any:
        """The JSON body; `default` when there is none; the service's 400 when malformed."""
        if not request.body.strip():
            return default
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(*self.invalid_json) from exc

    def dispatch(self, request: Request) -> Reply:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        page = self.web_page(request) if request.method == "GET" else None
        if page is not None:
            return page
        received = now_iso()
        reply = self._process(request)
        self.decorate(reply, request)
        with self.lock:
            self._log.append(
                {"method": request.method, "path": request.path, "status": reply.status}
                | {"at": received}
            )
        return reply

    def _process(self, request: Request) -> Reply:
        try:
            self.authenticate(request)
            wait = self.limiter.take()
            if wait > 0:
                retry_after = str(self.limiter.retry_after(wait))
                raise ApiError(
                    429,
                    self.rate_limit_code,
                    self.rate_limit_message,
                    {"Retry-After": retry_after},
                )
            failure = self.failures.take(request.method, request.path)
            if failure is not None and failure.when == "before":
                self._sleep(failure)
                if failure.status is not None:
                    raise self._failure_error(failure)
            reply = self._handle(request)
            if failure is not None and failure.when == "after":
                self._sleep(failure)  # the work is done; the client may time out meanwhile
                if failure.status is not None:
                    raise self._failure_error(failure)
            return reply
        except ApiError as exc:
            return self.error_reply(exc, request)
        except Exception as exc:
            # A bug in the stand-in: answer a 500 the client can report, and keep serving.
            log.exception("%s failed on %s %s", type(self).__name__, request.method, request.path)
            bug = ApiError(500, self.default_code(500), f"The stand-in failed: {exc!r}")
            return self.error_reply(bug, request)

    def _handle(self, request: Request) -> Reply:
        with self.lock:
            try:
                return self.route(request)
            finally:
                self._save_if_dirty()

    @staticmethod
    def _sleep(failure: Failure) -> None:
        if failure.delay:
            time.sleep(failure.delay)

    def _failure_error(self, failure: Failure) -> ApiError:
        status = failure.status or 500
        code = failure.code or self.default_code(status)
        message = failure.message or f"Injected failure: {status} {code}."
        headers = {}
        if failure.retry_after is not None or status == 429:
            headers["Retry-After"] = str(failure.retry_after or 1)
        return ApiError(status, code, message, headers)

    def error_reply(self, error: ApiError, request: Request) -> Reply:
        body = self.error_body(error.status, error.code, error.message, request)
        return Reply(error.status, body, dict(error.headers))

    # --- control endpoints -------------------------------------------------------------------

    def _control(self, request: Request) -> Reply:
        name = request.path[len(CONTROL_PREFIX) :].rstrip("/")
        try:
            own = self.control(request)
            if own is not None:
                return own
            if name == "requests" and request.method == "GET":
                return Reply(200, self.requests)
            if name == "failures":
                return self._control_failures(request)
            if name == "reset" and request.method == "POST":
                options = self.parse_json(request, {})
                wipe = isinstance(options, dict) and bool(options.get("data", False))
                self.reset(data=wipe)
                return Reply(200, {"ok": True})
            if name == "state" and request.method == "GET":
                with self.lock:
                    return Reply(200, self.dump_data())
        except ApiError as exc:
            return Reply(exc.status, {"error": exc.code, "message": exc.message})
        return Reply(404, {"error": "not_found", "message": f"No control endpoint {request.path}"})

    def _control_failures(self, request: Request) -> Reply:
        if request.method == "GET":
            return Reply(200, self.failures.pending())
        if request.method == "DELETE":
            self.failures.clear()
            return Reply(200, {"ok": True})
        if request.method != "POST":
            return Reply(
                405, {"error": "method_not_allowed", "message": "Use GET, POST or DELETE."}
            )
        try:
            failure = Failure.from_json(self.parse_json(request, {}))
        except ValueError as exc:
            return Reply(400, {"error": "invalid_failure", "message": str(exc)})
        self.failures.add(failure)
        return Reply(201, {"ok": True, "failure": failure.to_json()})
