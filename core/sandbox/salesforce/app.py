"""The Salesforce sandbox's HTTP API: the routes of every surface, composed over one store.

:class:`SalesforceApp` serves one :class:`~core.sandbox.salesforce.store.SalesforceStore`
the way an org does, closely enough that the real simple-salesforce client and plain
``requests`` run against it unmodified (the data rules live in the store, the query rules
in :mod:`core.sandbox.salesforce.soql`). Each surface is a mixin of route handlers in its
own module: sign-in (:mod:`.oauth`, :mod:`.soap`), :mod:`.describe`, :mod:`.query`,
:mod:`.rows`, :mod:`.composite`, :mod:`.bulk`, and the Salesforce-only :mod:`.faults`; the
route table below names them all. Every REST call needs a live Bearer session, counts one
API request against the daily budget and carries ``Sforce-Limit-Info``; OAuth and SOAP
login do not count.

Start it with :func:`start_salesforce`; :func:`client` gives a simple-salesforce client.
"""

from __future__ import annotations

from collections import OrderedDict

from ..ids import CONCORD_USER, ORG_ID, to18
from ..server import App, HTTPError, Request, Response, SandboxServer, json_response
from ..tls import TLSMaterial
from .bulk import BulkRoutes, QueryJob
from .composite import CompositeRoutes
from .describe import DescribeRoutes
from .faults import SalesforceFaults
from .oauth import ConnectedApp, Identity, OAuthRoutes, Session
from .query import Cursor, QueryRoutes
from .rows import RowRoutes
from .soap import SoapRoutes
from .store import SalesforceStore
from .wire import DATA, api_error, bearer, invalid_session, limit_exceeded

SUPPORTED_VERSIONS = ("52.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0")


class SalesforceApp(OAuthRoutes, SoapRoutes, DescribeRoutes, QueryRoutes, RowRoutes,
                    CompositeRoutes, BulkRoutes, SalesforceFaults, App):
    """The emulated org's API over a store.

    ``daily_limit`` is the DailyApiRequests budget, ``session_ttl`` the idle seconds after
    which an access token stops working, ``bulk_polls`` how many status polls a Bulk query
    job stays InProgress. Open query locators and finished Bulk jobs hold their result
    rowids (8 bytes a row); the oldest are dropped beyond ``max_cursors`` locators,
    ``max_jobs`` jobs or ``max_held_rows`` rows in all, as Salesforce limits open cursors.
    """

    name = "salesforce"

    def __init__(self, store: SalesforceStore | None = None, *, seed: int = 0,
                 daily_limit: int = 15000, session_ttl: float = 7200, bulk_polls: int = 1,
                 max_cursors: int = 64, max_jobs: int = 32, max_held_rows: int = 8_000_000,
                 connected_app: ConnectedApp | None = None):
        super().__init__(seed)
        self.store = store or SalesforceStore()
        self.identity = Identity(self.store.clock, session_ttl=session_ttl, app=connected_app)
        self.daily_limit = daily_limit
        self.api_used = 0
        self.bulk_polls = bulk_polls
        self.max_cursors = max_cursors
        self.max_jobs = max_jobs
        self.max_held_rows = max_held_rows
        self.concurrent_edits: list[dict] = []  # what the concurrent_edit fault changed
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._jobs: dict[str, QueryJob] = {}
        self._serial = 0
        self._register_routes()

    # -- set-up and Python-side controls ---------------------------------------------------

    def bind(self, base_url: str) -> None:
        """Tell the app where it is served (instance_url, SOAP serverUrl, JWT audience)."""
        self.identity.instance_url = base_url.rstrip("/")

    @property
    def instance_url(self) -> str:
        return self.identity.instance_url

    @property
    def client_id(self) -> str:
        """Consumer key of the confidential connected app (JWT, client credentials)."""
        return self.identity.connected_app.client_id

    @property
    def client_secret(self) -> str:
        return self.identity.connected_app.client_secret

    @property
    def public_client_id(self) -> str:
        """Consumer key of the desktop (PKCE, no secret) client."""
        return self.identity.connected_app.public_client_id

    @property
    def username(self) -> str:
        return self.identity.default_user.username

    @property
    def password(self) -> str:
        return self.identity.default_user.password

    @property
    def security_token(self) -> str:
        return self.identity.default_user.security_token

    def register_jwt_key(self, public_key_pem: str | bytes) -> None:
        """Install the certificate's public key that JWT bearer assertions must verify with."""
        if isinstance(public_key_pem, bytes):
            public_key_pem = public_key_pem.decode()
        self.identity.connected_app.jwt_public_key = public_key_pem

    def register_callback(self, uri: str) -> None:
        """Add a callback URL to the apps (the browser sign-in may redirect only there)."""
        app = self.identity.connected_app
        if uri not in app.redirect_uris:
            app.redirect_uris = (*app.redirect_uris, uri)

    def issue_token(self, user_id: str = CONCORD_USER, *, ttl: float | None = None) -> str:
        """An access token for ``user_id`` without any login (for tests and the demo)."""
        return self.identity.issue_session(self.identity.user_by_id(user_id), ttl=ttl).token

    def expire_sessions(self, token: str | None = None) -> int:
        """End one session or all; the next call with them gets 401 INVALID_SESSION_ID."""
        return self.identity.expire(token)

    def set_api_usage(self, used: int | None = None, limit: int | None = None) -> None:
        """Set the requests counted today and/or the daily budget."""
        with self.lock:
            if used is not None:
                self.api_used = max(0, int(used))
            if limit is not None:
                self.daily_limit = max(0, int(limit))

    @property
    def api_usage(self) -> tuple[int, int]:
        """``(used, budget)`` of the daily API requests."""
        return self.api_used, self.daily_limit

    def info(self) -> dict:
        """What a client needs to connect (it is a sandbox: secrets included)."""
        return {
            "instance_url": self.instance_url,
            "login_url": self.instance_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "public_client_id": self.public_client_id,
            "callback_urls": list(self.identity.connected_app.redirect_uris),
            "username": self.username,
            "password": self.password,
            "security_token": self.security_token,
            "organization_id": to18(ORG_ID),
            "api_version": "59.0",
        }

    # -- routing -----------------------------------------------------------------------------

    def api(self, method: str, pattern: str, handler) -> None:
        """Register a REST route: authenticated, counted, under ``/services/data/vXX.X/``."""
        def authorized(request: Request, version: str, **groups) -> Response:
            session = self._authorize(request)
            return handler(request, session=session, version=version, **groups)
        self.route(method, DATA + pattern, authorized)

    def _register_routes(self) -> None:
        self.route("GET", r"/services/data/?", self._versions)
        self.route("GET", r"/services/oauth2/authorize", self._authorize_page)
        self.route("POST", r"/services/oauth2/token", self._token)
        self.route("POST", r"/services/oauth2/revoke", self._revoke)
        self.route("GET", r"/services/oauth2/userinfo", self._userinfo)
        self.route("GET", r"/id/(?P<org>\w+)/(?P<user>\w+)", self._identity_url)
        self.route("POST", r"/services/Soap/u/(?P<version>\d+\.\d)(?:/\w*)?", self._soap_login)

        self.api("GET", r"limits/?", self._limits)
        self.api("GET", r"(?P<endpoint>query|queryAll)/?", self._query)
        self.api("GET", r"(?P<endpoint>query|queryAll)/(?P<locator>01g\w+)-(?P<offset>\d+)",
                 self._query_more)
        self.api("GET", r"sobjects/?", self._global_describe)
        self.api("GET", r"sobjects/(?P<object>\w+)/describe/?", self._describe)
        self.api("GET", r"sobjects/(?P<object>\w+)/updated/?", self._updated)
        self.api("GET", r"sobjects/(?P<object>\w+)/deleted/?", self._deleted)
        self.api("GET", r"sobjects/(?P<object>\w+)/?", self._object_info)
        self.api("POST", r"sobjects/(?P<object>\w+)/?", self._create)
        self.api("GET", r"sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?", self._get)
        self.api("PATCH", r"sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?", self._update)
        self.api("DELETE", r"sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?", self._delete)
        self.api("PATCH", r"composite/sobjects/?", self._collection_update)
        self.api("POST", r"composite/sobjects/?", self._collection_create)
        self.api("DELETE", r"composite/sobjects/?", self._collection_delete)
        self.api("GET", r"composite/sobjects/(?P<object>\w+)/?", self._collection_get)
        self.api("POST", r"jobs/query/?", self._job_create)
        self.api("GET", r"jobs/query/?", self._job_list)
        self.api("GET", r"jobs/query/(?P<job_id>750\w+)/?", self._job_get)
        self.api("PATCH", r"jobs/query/(?P<job_id>750\w+)/?", self._job_abort)
        self.api("DELETE", r"jobs/query/(?P<job_id>750\w+)/?", self._job_delete)
        self.api("GET", r"jobs/query/(?P<job_id>750\w+)/results/?", self._job_results)

    def _authorize(self, request: Request) -> Session:
        session = self.identity.authenticate(bearer(request))
        if session is None:
            raise HTTPError(401, invalid_session())
        if not session.user.api_enabled:
            # "To make any API call, a user must have the API Enabled permission" (REST API
            # guide, Supported Editions and Required Permissions); the code and wording of
            # the refusal are as integrators report them, not from Salesforce's docs.
            raise api_error(403, "API_DISABLED_FOR_ORG",
                            "The REST API is not enabled for this Organization.")
        with self.lock:
            if self.api_used >= self.daily_limit:
                raise HTTPError(403, limit_exceeded())
            self.api_used += 1
        return session

    def decorate(self, request: Request, response: Response) -> None:
        if request.path.startswith("/services/data/v"):
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.daily_limit}"

    def _next_serial(self) -> int:
        with self.lock:
            self._serial += 1
            return self._serial

    # -- the API as a whole ------------------------------------------------------------------

    def _versions(self, request: Request) -> Response:
        return json_response(200, [{"label": "Sandbox", "url": f"/services/data/v{v}",
                                    "version": v} for v in SUPPORTED_VERSIONS])

    def _limits(self, request: Request, session: Session, version: str) -> Response:
        # "available ... for API users with the View Setup and Configuration permission"
        # (REST API guide, "Limits"). The wording of the refusal is not documented; a 403
        # is what a least-privilege integration user meets.
        if not session.user.view_setup:
            raise api_error(403, "INSUFFICIENT_ACCESS", "The Limits resource requires the "
                                                        "View Setup and Configuration permission")
        with self.lock:
            jobs = len(self._jobs)
        return json_response(200, {
            "DailyApiRequests": {"Max": self.daily_limit,
                                 "Remaining": max(0, self.daily_limit - self.api_used)},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": max(0, 10000 - jobs)},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        })

    def _evict(self) -> None:
        """Drop the least recently used locators, then the oldest jobs, beyond the caps."""
        held = sum(len(c.rowids) for c in self._cursors.values()) + \
            sum(len(j.rowids) for j in self._jobs.values())
        while self._cursors and (len(self._cursors) > self.max_cursors
                                 or (held > self.max_held_rows and len(self._cursors) > 1)):
            _, dropped = self._cursors.popitem(last=False)
            held -= len(dropped.rowids)
        while self._jobs and (len(self._jobs) > self.max_jobs
                              or (held > self.max_held_rows and len(self._jobs) > 1)):
            dropped_job = self._jobs.pop(next(iter(self._jobs)))
            held -= len(dropped_job.rowids)

    # -- admin -------------------------------------------------------------------------------

    def admin(self, request: Request) -> Response | None:
        """Admin routes: ``sessions/expire``, ``limits``, ``history``, ``token``, ``info``."""
        body = request.json() if request.body else {}
        body = body if isinstance(body, dict) else {}
        path, method = request.path.rstrip("/"), request.method
        if path == "/__sandbox/sessions/expire" and method == "POST":
            return json_response(200, {"expired": self.expire_sessions(body.get("token"))})
        if path == "/__sandbox/limits":
            if method == "POST":
                self.set_api_usage(body.get("used"), body.get("max"))
            return json_response(200, {"used": self.api_used, "max": self.daily_limit})
        if path == "/__sandbox/history":
            if method == "POST":
                self.store.set_track_history(bool(body.get("track", True)))
            return json_response(200, {"track": self.store.track_history})
        if path == "/__sandbox/token" and method == "POST":
            return json_response(200, {"access_token": self.issue_token(
                body.get("user_id", CONCORD_USER)), "instance_url": self.instance_url})
        if path == "/__sandbox/info" and method == "GET":
            return json_response(200, self.info())
        return None


# -- helpers for tests, the demo and ``concord sandbox serve`` ------------------------------------

def start_salesforce(store: SalesforceStore | None = None, tls: TLSMaterial | None = None, *,
                     port: int = 0, admin_token: str | None = None,
                     **app_options) -> SandboxServer:
    """Serve a :class:`SalesforceApp` over ``store`` on 127.0.0.1 (HTTPS when ``tls``).

    The returned server is running; ``server.app`` is the app, ``server.base_url`` its
    instance URL. Stop it with ``server.stop()`` (or use it as a context manager).
    """
    app = SalesforceApp(store, **app_options)
    server = SandboxServer(app, tls, port=port, admin_token=admin_token).start()
    app.bind(server.base_url)
    return server


def http_session(ca_path=None):
    """A ``requests.Session`` that trusts the sandbox CA and ignores proxy/CA env variables."""
    import requests

    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify otherwise
    if ca_path is not None:
        session.verify = str(ca_path)
    return session


def client(server: SandboxServer, *, token: str | None = None, version: str = "59.0",
           session=None):
    """A simple-salesforce client on the sandbox with a fresh (or the given) access token."""
    from simple_salesforce import Salesforce

    app: SalesforceApp = server.app  # type: ignore[assignment]
    if session is None:
        session = http_session(server.tls.ca_path if server.tls else None)
    return Salesforce(instance_url=server.base_url, session_id=token or app.issue_token(),
                      version=version, session=session)
