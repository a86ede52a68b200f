"""A small threaded HTTPS server on 127.0.0.1 that routes requests to an emulator.

Each emulator (Salesforce, Apollo) is an :class:`App`: a list of routes plus hooks for its
own fault kinds. The server speaks HTTP/1.1 with keep-alive, always sends Content-Length,
binds only the loopback address on an ephemeral port, and applies the generic faults of
:mod:`core.sandbox.faults` around every request. ``/__sandbox/...`` is the admin surface
(faults on demand), guarded by a token.
"""

from __future__ import annotations

import http.server
import logging
import re
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import orjson

from .faults import FaultPlan, FaultRule, GENERIC_KINDS
from .tls import TLSMaterial

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


@dataclass
class Request:
    """What a route handler sees."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    faults: list[FaultRule] = field(default_factory=list)  # emulator-specific faults striking

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        """The body parsed as JSON; raises :class:`HTTPError` 400 if it is not."""
        try:
            return orjson.loads(self.body or b"null")
        except orjson.JSONDecodeError as exc:
            raise HTTPError(400, json_body({"message": f"Malformed JSON: {exc}"})) from None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class HTTPError(Exception):
    """Raised by handlers to answer with an error response."""

    def __init__(self, status: int, response_body: bytes | Response = b"", headers=None,
                 content_type: str = "application/json;charset=UTF-8"):
        super().__init__(status)
        if isinstance(response_body, Response):
            self.response = response_body
        else:
            self.response = Response(status, response_body, dict(headers or {}), content_type)


def json_body(obj) -> bytes:
    return orjson.dumps(obj)


def json_response(status: int, obj, headers: dict | None = None) -> Response:
    return Response(status, orjson.dumps(obj), dict(headers or {}))


def text_response(status: int, text: str, headers: dict | None = None,
                  content_type: str = "text/plain;charset=UTF-8") -> Response:
    return Response(status, text.encode(), dict(headers or {}), content_type)


Handler = Callable[..., Response]


class App:
    """Routes and hooks of one emulator. Subclasses register routes in ``__init__``."""

    name = "app"

    def __init__(self, seed: int = 0):
        self.faults = FaultPlan(seed)
        self._routes: list[tuple[str, re.Pattern, Handler]] = []
        self.lock = threading.RLock()  # emulator state is changed under this lock
        # Every request answered (not the admin surface): (method, path with query, body,
        # status, answer); an injected status fault is logged with its status. The tests'
        # oracle for "no lost and no doubled write" and "a read before every retry".
        self.request_log: list[tuple[str, str, bytes, int, bytes]] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler(request, **groups)`` for a method and a full-path regex."""
        self._routes.append((method.upper(), re.compile(pattern + r"\Z"), handler))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if not match:
                continue
            allowed = True
            if method != request.method:
                continue
            return handler(request, **match.groupdict())
        if allowed:
            return self.method_not_allowed(request)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return json_response(404, [{"errorCode": "NOT_FOUND",
                                    "message": f"The requested resource does not exist: {request.path}"}])

    def method_not_allowed(self, request: Request) -> Response:
        return json_response(405, [{"errorCode": "METHOD_NOT_ALLOWED",
                                    "message": f"HTTP Method '{request.method}' not allowed."}])

    def fault_response(self, request: Request, rule: FaultRule) -> Response | None:
        """Carry out an emulator-specific fault; return a response to answer with, or None."""
        return None

    def injected_status(self, status: int) -> Response:
        """The answer of a ``status`` fault that names no body, in this API's error shape."""
        return json_response(status, [{"errorCode": "SERVER_UNAVAILABLE" if status == 503
                                       else "UNKNOWN_EXCEPTION", "message": "Injected fault"}])

    def decorate(self, request: Request, response: Response) -> None:
        """Add headers every response carries (limit info, ...)."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK
    # holds every keep-alive response back ~40 ms.
    disable_nagle_algorithm = True
    server_version = "ConcordSandbox/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep test output quiet; debug log instead
        log.debug("%s %s", self.address_string(), fmt % args)

    def _serve(self):
        server: SandboxServer = self.server.sandbox  # type: ignore[attr-defined]
        app = server.app
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                          headers, body)

        if split.path.startswith("/__sandbox/"):
            try:
                response = server.admin(request)
            except HTTPError as exc:  # e.g. a body that is not JSON: say so, do not hang up
                response = exc.response
            self._send(response)
            return

        struck = app.faults.draw(request.method, request.path)
        for rule in struck:
            if rule.kind == "latency":
                time.sleep(float(rule.params.get("seconds", 1.0)))
        if any(r.kind == "drop" for r in struck):
            self._drop()
            return
        status_fault = next((r for r in struck if r.kind == "status"), None)
        request.faults = [r for r in struck if r.kind not in GENERIC_KINDS]
        if status_fault:
            code = int(status_fault.params.get("status", 503))
            body_obj = status_fault.params.get("body")
            if body_obj is None:
                response = app.injected_status(code)
            else:
                response = json_response(code, body_obj)
        else:
            response = None
            for rule in request.faults:
                response = app.fault_response(request, rule)
                if response is not None:
                    break
            if response is None:
                try:
                    response = app.dispatch(request)
                except HTTPError as exc:
                    response = exc.response
                except Exception:  # an emulator bug must still answer, like a real 500
                    log.exception("sandbox %s failed on %s %s", app.name, request.method, request.path)
                    response = json_response(500, [{"errorCode": "UNKNOWN_EXCEPTION",
                                                    "message": "An unexpected error occurred."}])
        app.decorate(request, response)
        with app.lock:
            app.request_log.append((request.method, self.path, request.body, response.status,
                                    response.body))
        if any(r.kind == "drop_after" for r in struck):
            self._drop()
            return
        truncate = next((r for r in struck if r.kind == "truncate"), None)
        self._send(response, truncate_to=float(truncate.params.get("fraction", 0.5)) if truncate else None)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, response: Response, truncate_to: float | None = None):
        body = response.body
        self.send_response(response.status)
        if body or response.status not in (204, 304):
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if truncate_to is not None:
            self.wfile.write(body[: int(len(body) * truncate_to)])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(body)


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class SandboxServer:
    """Serves one :class:`App` on ``https://127.0.0.1:<ephemeral port>`` in a thread."""

    def __init__(self, app: App, tls: TLSMaterial | None, *, port: int = 0,
                 admin_token: str | None = None):
        self.app = app
        self.tls = tls
        self.admin_token = admin_token or secrets.token_urlsafe(16)
        self._httpd = _ThreadingServer((LOOPBACK, port), _Handler, bind_and_activate=False)
        self._httpd.sandbox = self  # type: ignore[attr-defined]
        self._context = tls.server_context() if tls else None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    def start(self) -> "SandboxServer":
        self._httpd.server_bind()
        self._httpd.server_activate()
        if self._context:
            self._httpd.socket = self._context.wrap_socket(self._httpd.socket, server_side=True)
        # A short poll interval: stop() waits for the loop to notice, once per server.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name=f"sandbox-{self.app.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- admin surface ----------------------------------------------------------------------

    def admin(self, request: Request) -> Response:
        """``/__sandbox/faults``: GET lists, POST adds (JSON rule), DELETE clears."""
        if request.header("x-sandbox-admin") != self.admin_token:
            return json_response(403, {"error": "admin token missing or wrong"})
        if request.path == "/__sandbox/faults":
            if request.method == "GET":
                return json_response(200, [r.as_dict() for r in self.app.faults.rules()])
            if request.method == "POST":
                try:
                    rule = self.app.faults.add_dict(request.json() or {})
                except (ValueError, TypeError, re.error) as exc:
                    return json_response(400, {"error": str(exc)})
                return json_response(201, rule.as_dict())
            if request.method == "DELETE":
                self.app.faults.clear()
                return Response(204)
        handler = getattr(self.app, "admin", None)
        if handler:
            response = handler(request)
            if response is not None:
                return response
        return json_response(404, {"error": f"no admin route {request.path}"})


def admin_headers(token: str) -> dict[str, str]:
    return {"X-Sandbox-Admin": token, "Content-Type": "application/json"}

