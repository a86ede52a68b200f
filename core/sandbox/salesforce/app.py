"""The Salesforce sandbox's HTTP API: REST, Bulk API 2.0 queries, OAuth and SOAP login.

:class:`SalesforceApp` serves one :class:`~core.sandbox.salesforce.store.SalesforceStore`
the way an org does, closely enough that the real simple-salesforce client and plain
``requests`` run against it unmodified (the data rules live in the store, the query rules
in :mod:`core.sandbox.salesforce.soql`). Every REST call needs a live Bearer session, counts one API
request against the daily budget and carries ``Sforce-Limit-Info``; OAuth and SOAP login
do not count.

Faults specific to Salesforce, on top of the server's generic ones (``app.faults.add`` or
``POST /__sandbox/faults``):

- ``session_expiry``: answer 401 INVALID_SESSION_ID and end the caller's session, as when
  an org's session times out between two calls.
- ``request_limit``: answer 403 REQUEST_LIMIT_EXCEEDED; ``exhaust=True`` also spends the
  whole daily budget, so later calls are refused until usage is reset.
- ``concurrent_edit``: just before a PATCH of a record (a row, or a collection's first
  record, every record with ``all=True``, or only ``record_id``) someone else changes its
  Email (``email=`` or a derived address) as ``OTHER_USER``, moving LastModifiedDate at
  least a second on; an ``If-Unmodified-Since`` write then gets 412, an unguarded one
  overwrites. Each edit is listed in ``app.concurrent_edits``.

Start it with :func:`start_salesforce`; :func:`client` gives a simple-salesforce client.
"""

from __future__ import annotations

import email.utils
import logging
import re
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

from ..faults import FaultRule
from ..ids import CONCORD_USER, ORG_ID, OTHER_USER, PREFIX, salesforce_id, to18
from ..server import App, HTTPError, Request, Response, SandboxServer, json_response
from ..tls import TLSMaterial
from . import schema
from .bulk import (DEFAULT_MAX_RECORDS, DELIMITERS, LINE_ENDINGS, QueryJob, decode_locator,
                   encode_locator, render_csv)
from .oauth import ConnectedApp, Identity, LoginFault, OAuthError, Session, soap_fault
from .soql import CompiledQuery, SOQLError, format_datetime
from .store import SalesforceStore, StoreError
from .values import parse_wire_datetime

log = logging.getLogger(__name__)

DATA = r"/services/data/v(?P<version>\d+\.\d)/"
MAX_PAGE = 2000
MIN_PAGE = 200
COLLECTION_LIMIT = 200
CURSOR_IDLE = timedelta(minutes=15)  # Salesforce drops a query locator after 15 idle minutes
UPDATED_WINDOW = timedelta(days=30)
DELETED_WINDOW = timedelta(days=15)
REPLICATION_ID_LIMIT = 600_000
SUPPORTED_VERSIONS = ("52.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
_HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \S+\Z")
_RECORD_PATH = re.compile(DATA + r"sobjects/(?P<object>\w+)/(?P<record_id>[A-Za-z0-9]{15,18})/?\Z")
_COLLECTION_PATH = re.compile(DATA + r"composite/sobjects/?\Z")


def _errors(status: int, code: str, message: str, fields: list[str] | None = None) -> HTTPError:
    body = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return HTTPError(status, orjson.dumps([body]))


def _json_body(request: Request):
    """The request body as JSON, or the 400 JSON_PARSER_ERROR Salesforce answers instead."""
    try:
        return orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError as exc:
        raise _errors(400, "JSON_PARSER_ERROR", f"The request body is not valid JSON: {exc}") \
            from None


def _store_error(exc: StoreError) -> HTTPError:
    return HTTPError(exc.status, orjson.dumps([exc.as_wire()]))


def invalid_session() -> Response:
    """The 401 every expired or unknown token gets (a JSON list: the client indexes [0])."""
    return json_response(401, [{"message": "Session expired or invalid",
                                "errorCode": "INVALID_SESSION_ID"}])


def limit_exceeded() -> Response:
    """The 403 a spent daily API budget gets."""
    return json_response(403, [{"message": "TotalRequests Limit exceeded.",
                                "errorCode": "REQUEST_LIMIT_EXCEEDED"}])


def parse_http_date(value: str) -> datetime:
    """An ``EEE, dd MMM yyyy HH:mm:ss z`` header value as an aware datetime.

    Raises ValueError for anything else (the API answers 400 to those).
    """
    if not _HTTP_DATE.match(value.strip()):
        raise ValueError(value)
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise ValueError(value) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _bearer(request: Request) -> str | None:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


@dataclass
class _Cursor:
    locator: str
    plan: CompiledQuery
    rowids: array
    batch: int
    endpoint: str  # query | queryAll
    last_used: datetime


class SalesforceApp(App):
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
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
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
        session = self.identity.authenticate(_bearer(request))
        if session is None:
            raise HTTPError(401, invalid_session())
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

    # -- faults ------------------------------------------------------------------------------

    def fault_response(self, request: Request, rule: FaultRule) -> Response | None:
        """``session_expiry``, ``request_limit`` and ``concurrent_edit`` (see the module doc)."""
        if rule.kind == "session_expiry":
            token = _bearer(request)
            if token:
                self.identity.expire(token)
            return invalid_session()
        if rule.kind == "request_limit":
            if rule.params.get("exhaust"):
                self.set_api_usage(used=self.daily_limit)
            return limit_exceeded()
        if rule.kind == "concurrent_edit":
            self._concurrent_edit(request, rule)
        return None

    def _concurrent_edit(self, request: Request, rule: FaultRule) -> None:
        """Someone else changes the target's Email just before this PATCH is handled."""
        if request.method != "PATCH":
            return
        targets: list[tuple[str, str]] = []
        match = _RECORD_PATH.match(request.path)
        if match:
            targets.append((match["object"], match["record_id"]))
        elif _COLLECTION_PATH.match(request.path):
            try:
                records = orjson.loads(request.body or b"{}").get("records") or []
            except (orjson.JSONDecodeError, AttributeError):
                records = []
            for record in records:
                if isinstance(record, dict) and record.get("id") and \
                        isinstance(record.get("attributes"), dict):
                    targets.append((record["attributes"].get("type", ""), record["id"]))
            if not rule.params.get("all"):
                targets = targets[:1]
        wanted = rule.params.get("record_id")
        for object_name, record_id in targets:
            if wanted and to18(record_id) != to18(wanted):
                continue
            try:
                current = self.store.get(object_name, record_id)
                if current is None or "Email" not in current:
                    continue
                new = rule.params.get("email") or _edited_email(current["Email"], rule.fired)
                self.store.external_edit(object_name, record_id, {"Email": new},
                                         user_id=rule.params.get("user_id", OTHER_USER))
            except StoreError as exc:
                log.debug("concurrent_edit skipped %s %s: %s", object_name, record_id, exc)
                continue
            self.concurrent_edits.append({"object": object_name, "id": to18(record_id),
                                          "old": current["Email"], "new": new.lower()})

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

    # -- OAuth, identity and SOAP --------------------------------------------------------------

    def _versions(self, request: Request) -> Response:
        return json_response(200, [{"label": "Sandbox", "url": f"/services/data/v{v}",
                                    "version": v} for v in SUPPORTED_VERSIONS])

    def _authorize_page(self, request: Request) -> Response:
        params = {k: v[0] for k, v in request.query.items()}
        try:
            location = self.identity.authorize(params)
        except OAuthError as exc:
            return json_response(400, exc.as_wire())
        return Response(302, b"", {"Location": location}, "text/html;charset=UTF-8")

    def _token(self, request: Request) -> Response:
        try:
            body = self.identity.token(request.form(), request.header("authorization"))
        except OAuthError as exc:
            return json_response(exc.status, exc.as_wire())
        return json_response(200, body)

    def _revoke(self, request: Request) -> Response:
        token = request.form().get("token") or request.param("token")
        if not token or not self.identity.revoke(token):
            return json_response(400, {"error": "unsupported_token_type",
                                       "error_description": "this token type is not supported"})
        return Response(200)

    def _userinfo(self, request: Request) -> Response:
        session = self.identity.authenticate(_bearer(request))
        if session is None:
            return json_response(403, "Bad_OAuth_Token")
        return json_response(200, self._user_body(session))

    def _identity_url(self, request: Request, org: str, user: str) -> Response:
        session = self.identity.authenticate(_bearer(request))
        if session is None or to18(user) != session.user.user_id:
            return json_response(403, "Bad_OAuth_Token")
        return json_response(200, self._user_body(session))

    def _user_body(self, session: Session) -> dict:
        user = session.user
        return {"user_id": user.user_id, "organization_id": to18(ORG_ID),
                "username": user.username, "preferred_username": user.username,
                "display_name": user.display_name, "email": user.username,
                "urls": {"rest": f"{self.instance_url}/services/data/v{{version}}/"}}

    def _soap_login(self, request: Request, version: str) -> Response:
        try:
            envelope = self.identity.soap_login(request.body, version)
        except LoginFault as fault:
            return Response(500, soap_fault(fault).encode(), {}, "text/xml;charset=UTF-8")
        return Response(200, envelope.encode(), {}, "text/xml;charset=UTF-8")

    # -- limits and describe -----------------------------------------------------------------

    def _limits(self, request: Request, session: Session, version: str) -> Response:
        with self.lock:
            jobs = len(self._jobs)
        return json_response(200, {
            "DailyApiRequests": {"Max": self.daily_limit,
                                 "Remaining": max(0, self.daily_limit - self.api_used)},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": max(0, 10000 - jobs)},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        })

    def _object(self, name: str) -> schema.SObject:
        obj = schema.sobject(name)
        if obj is None:
            raise _errors(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    def _global_describe(self, request: Request, session: Session, version: str) -> Response:
        return json_response(200, {"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT,
                                   "sobjects": [{
                                       "name": o.name, "label": o.name, "keyPrefix": o.key_prefix,
                                       "queryable": True, "createable": o.createable,
                                       "updateable": o.updateable, "deletable": o.deletable,
                                       "urls": {"sobject": f"/services/data/v{version}/sobjects/"
                                                           f"{o.name}"},
                                   } for o in schema.OBJECTS.values()]})

    def _describe(self, request: Request, session: Session, version: str, object: str) -> Response:
        return json_response(200, schema.describe(self._object(object), version))

    def _object_info(self, request: Request, session: Session, version: str,
                     object: str) -> Response:
        obj = self._object(object)
        describe = schema.describe(obj, version)
        describe.pop("fields")
        return json_response(200, {"objectDescribe": describe, "recentItems": []})

    # -- query ---------------------------------------------------------------------------------

    def _batch_size(self, request: Request) -> int | None:
        options = request.header("sforce-query-options") or ""
        match = re.search(r"batchSize\s*=\s*(\d+)", options, re.I)
        if not match:
            return None
        return min(MAX_PAGE, max(MIN_PAGE, int(match.group(1))))

    def _query(self, request: Request, session: Session, version: str,
               endpoint: str) -> Response:
        soql = request.param("q")
        if soql is None:
            raise _errors(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            plan = self.store.compile(soql, include_deleted=endpoint == "queryAll")
        except SOQLError as exc:
            raise _errors(400, exc.error_code, exc.message) from None
        if plan.count_only:
            return json_response(200, {"totalSize": self.store.query_count(plan), "done": True,
                                       "records": []})
        rowids = self.store.query_ids(plan)
        batch = self._batch_size(request) or MAX_PAGE
        cursor = _Cursor(salesforce_id("QueryLocator", self._next_serial()), plan, rowids,
                         batch, endpoint, self.store.clock())
        if len(rowids) > batch:
            self._keep_cursor(cursor)
        return self._page(cursor, 0, version, self._batch_size(request) or batch)

    def _query_more(self, request: Request, session: Session, version: str, endpoint: str,
                    locator: str, offset: str) -> Response:
        now = self.store.clock()
        with self.lock:
            cursor = self._cursors.get(locator)
            if cursor is not None and now - cursor.last_used > CURSOR_IDLE:
                del self._cursors[locator]
                cursor = None
            if cursor is not None:
                cursor.last_used = now
                self._cursors.move_to_end(locator)
        if cursor is None or int(offset) > len(cursor.rowids):
            raise _errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(offset), version, self._batch_size(request) or cursor.batch)

    def _keep_cursor(self, cursor: _Cursor) -> None:
        with self.lock:
            self._cursors[cursor.locator] = cursor
            self._evict()

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

    def _page(self, cursor: _Cursor, offset: int, version: str, batch: int) -> Response:
        end = min(offset + batch, len(cursor.rowids))
        # SQLite writes each record's JSON; the page only joins them (no Python per record).
        records = self.store.fetch_records_json(cursor.plan, cursor.rowids[offset:end], version)
        body: dict = {"totalSize": len(cursor.rowids), "done": end >= len(cursor.rowids)}
        if not body["done"]:
            body["nextRecordsUrl"] = (f"/services/data/v{version}/{cursor.endpoint}/"
                                      f"{cursor.locator}-{end}")
        else:
            with self.lock:
                self._cursors.pop(cursor.locator, None)
        head = orjson.dumps(body)
        return Response(200, b"".join((head[:-1], b',"records":[',
                                       ",".join(records).encode(), b"]}")), {})

    # -- sObject rows ------------------------------------------------------------------------

    def _create(self, request: Request, session: Session, version: str, object: str) -> Response:
        obj = self._object(object)
        fields = _json_body(request)
        try:
            record = self.store.create(obj.name, fields, user_id=session.user.user_id)
        except StoreError as exc:
            raise _store_error(exc) from None
        return json_response(201, {"id": record["Id"], "success": True, "errors": []})

    def _get(self, request: Request, session: Session, version: str, object: str,
             record_id: str) -> Response:
        obj = self._object(object)
        fields = request.param("fields")
        names = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        try:
            record = self.store.get(obj.name, record_id, fields=names, version=version)
        except StoreError as exc:
            if exc.error_code == "MALFORMED_ID":  # an id-less path is looked up as external id
                raise _errors(404, "NOT_FOUND", "The requested resource does not exist") from None
            raise _store_error(exc) from None
        if record is None:
            raise _errors(404, "NOT_FOUND", "The requested resource does not exist")
        since = request.header("if-modified-since")
        if since:
            try:
                when = parse_http_date(since)
            except ValueError:
                raise _errors(400, "INVALID_HEADER_TYPE",
                              f"If-Modified-Since: unparseable date {since!r}") from None
            full = self.store.get(obj.name, record_id)
            if full and "LastModifiedDate" in full and \
                    parse_wire_datetime(full["LastModifiedDate"]).replace(microsecond=0) <= when:
                return Response(304)
        return json_response(200, record)

    def _update(self, request: Request, session: Session, version: str, object: str,
                record_id: str) -> Response:
        obj = self._object(object)
        guard = request.header("if-unmodified-since")
        when = None
        if guard is not None:
            try:
                when = parse_http_date(guard)
            except ValueError:
                raise _errors(400, "INVALID_HEADER_TYPE",
                              f"If-Unmodified-Since: unparseable date {guard!r}; expected "
                              "EEE, dd MMM yyyy HH:mm:ss z") from None
        fields = _json_body(request)
        if isinstance(fields, dict):
            given = fields.get("Id") or fields.get("id")
            if given and to18(str(given)) != to18(record_id):
                raise _errors(400, "INVALID_FIELD", "The Id in the body does not match the URL",
                              ["Id"])
            fields = {k: v for k, v in fields.items() if k.lower() != "id"}
        try:
            self.store.update(obj.name, record_id, fields, user_id=session.user.user_id,
                              if_unmodified_since=when)
        except StoreError as exc:
            raise _store_error(exc) from None
        return Response(204)

    def _delete(self, request: Request, session: Session, version: str, object: str,
                record_id: str) -> Response:
        obj = self._object(object)
        try:
            self.store.delete(obj.name, record_id, user_id=session.user.user_id)
        except StoreError as exc:
            raise _store_error(exc) from None
        return Response(204)

    def _replication_window(self, request: Request, obj: schema.SObject,
                            window: timedelta) -> tuple[datetime, datetime]:
        if obj.history_of:
            raise _errors(400, "INVALID_TYPE", f"replication is not enabled on {obj.name}")
        now = self.store.clock()
        try:
            # A literal '+' in a query string decodes to a space.
            start = datetime.fromisoformat((request.param("start") or "").replace(" ", "+"))
            end = datetime.fromisoformat((request.param("end") or "").replace(" ", "+"))
        except ValueError:
            raise _errors(400, "INVALID_REPLICATION_DATE",
                          "start and end must be ISO 8601 datetimes with a time zone") from None
        start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
        if start > end:
            raise _errors(400, "INVALID_REPLICATION_DATE", "start must be before end")
        if start < now - window:
            raise _errors(400, "INVALID_REPLICATION_DATE",
                          f"startDate cannot be more than {window.days} days ago")
        return start, min(end, now)

    def _updated(self, request: Request, session: Session, version: str, object: str) -> Response:
        obj = self._object(object)
        start, end = self._replication_window(request, obj, UPDATED_WINDOW)
        ids = self.store.updated_ids(obj.name, start, end)
        if len(ids) > REPLICATION_ID_LIMIT:
            raise _errors(400, "EXCEEDED_ID_LIMIT", "too many ids: narrow the window")
        return json_response(200, {"ids": ids, "latestDateCovered": format_datetime(end)})

    def _deleted(self, request: Request, session: Session, version: str, object: str) -> Response:
        obj = self._object(object)
        start, end = self._replication_window(request, obj, DELETED_WINDOW)
        rows = self.store.deleted_ids(obj.name, start, end)
        if len(rows) > REPLICATION_ID_LIMIT:
            raise _errors(400, "EXCEEDED_ID_LIMIT", "too many ids: narrow the window")
        return json_response(200, {
            "deletedRecords": [{"id": i, "deletedDate": d} for i, d in rows],
            "earliestDateAvailable": format_datetime(self.store.clock() - DELETED_WINDOW),
            "latestDateCovered": format_datetime(end)})

    # -- sObject collections -------------------------------------------------------------------

    def _collection_body(self, request: Request) -> tuple[list, bool]:
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise _errors(400, "JSON_PARSER_ERROR",
                          'expected {"allOrNone": ..., "records": [...]}')
        records = body["records"]
        if len(records) > COLLECTION_LIMIT:
            raise _errors(400, "EXCEEDED_ID_LIMIT",
                          f"record limit reached. cannot submit more than {COLLECTION_LIMIT} "
                          "records into this call")
        return records, bool(body.get("allOrNone", False))

    def _run_collection(self, items: list, all_or_none: bool, operation) -> Response:
        """Apply ``operation(item) -> id`` to each item; one SaveResult per item, in order."""
        results: list[dict] = []

        class _RollBack(Exception):
            pass

        try:
            with self.store.transaction():
                for item in items:
                    known_id = None
                    try:
                        with self.store.transaction():
                            known_id = operation(item)
                        results.append({"id": known_id, "success": True, "errors": []})
                    except StoreError as exc:
                        failed: dict = {"success": False, "errors": [{
                            "statusCode": exc.error_code, "message": exc.message,
                            "fields": exc.fields}]}
                        item_id = item.get("id") if isinstance(item, dict) else item
                        if isinstance(item_id, str) and re.fullmatch(r"[A-Za-z0-9]{15,18}",
                                                                     item_id):
                            failed = {"id": to18(item_id), **failed}
                        results.append(failed)
                if all_or_none and any(not r["success"] for r in results):
                    raise _RollBack
        except _RollBack:
            results = [r if not r["success"] else {
                "id": r["id"], "success": False, "errors": [{
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the "
                               "request was using AllOrNone header", "fields": []}]}
                for r in results]
        return json_response(200, results)

    @staticmethod
    def _item_type(item) -> schema.SObject:
        if not isinstance(item, dict):
            raise StoreError(400, "JSON_PARSER_ERROR", "each record must be a JSON object")
        kind = (item.get("attributes") or {}).get("type") if isinstance(
            item.get("attributes"), dict) else None
        if not kind:
            raise StoreError(400, "INVALID_TYPE", "Must specify a type in the attributes of "
                                                  "each record")
        obj = schema.sobject(kind)
        if obj is None:
            raise StoreError(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
        return obj

    def _collection_update(self, request: Request, session: Session, version: str) -> Response:
        records, all_or_none = self._collection_body(request)

        def update(item) -> str:
            obj = self._item_type(item)
            record_id = item.get("id") or item.get("Id")
            if not record_id:
                raise StoreError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
            fields = {k: v for k, v in item.items() if k not in ("attributes", "id", "Id")}
            record = self.store.update(obj.name, record_id, fields, user_id=session.user.user_id)
            return record["Id"]

        return self._run_collection(records, all_or_none, update)

    def _collection_create(self, request: Request, session: Session, version: str) -> Response:
        records, all_or_none = self._collection_body(request)

        def create(item) -> str:
            obj = self._item_type(item)
            if item.get("id") or item.get("Id"):
                raise StoreError(400, "INVALID_FIELD", "cannot specify Id in an insert call",
                                 ["Id"])
            fields = {k: v for k, v in item.items() if k != "attributes"}
            return self.store.create(obj.name, fields, user_id=session.user.user_id)["Id"]

        return self._run_collection(records, all_or_none, create)

    def _collection_delete(self, request: Request, session: Session, version: str) -> Response:
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        if not ids:
            raise _errors(400, "MISSING_ARGUMENT", "ids is required")
        if len(ids) > COLLECTION_LIMIT:
            raise _errors(400, "EXCEEDED_ID_LIMIT", f"cannot delete more than {COLLECTION_LIMIT}")
        all_or_none = (request.param("allOrNone") or "false").lower() == "true"
        by_prefix = {prefix: name for name, prefix in PREFIX.items()
                     if schema.sobject(name) and not schema.OBJECTS[name].history_of}

        def delete(record_id: str) -> str:
            name = by_prefix.get(record_id[:3])
            if name is None:
                raise StoreError(400, "MALFORMED_ID", f"malformed id {record_id}")
            self.store.delete(name, record_id, user_id=session.user.user_id)
            return to18(record_id)

        return self._run_collection(ids, all_or_none, delete)

    def _collection_get(self, request: Request, session: Session, version: str,
                        object: str) -> Response:
        obj = self._object(object)
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        fields = [f for f in (request.param("fields") or "").split(",") if f]
        if not ids or not fields:
            raise _errors(400, "MISSING_ARGUMENT", "ids and fields are required")
        if len(ids) > 2000:
            raise _errors(400, "EXCEEDED_ID_LIMIT", "cannot retrieve more than 2000 records")
        out = []
        for record_id in ids:
            try:
                out.append(self.store.get(obj.name, record_id, fields=fields, version=version))
            except StoreError as exc:
                if exc.error_code != "MALFORMED_ID":
                    raise _store_error(exc) from None
                out.append(None)
        return json_response(200, out)

    # -- Bulk API 2.0 query jobs ------------------------------------------------------------------

    def _job(self, job_id: str) -> QueryJob:
        with self.lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise _errors(404, "NOT_FOUND", f"Job {job_id} not found")
        return job

    def _job_create(self, request: Request, session: Session, version: str) -> Response:
        body = _json_body(request)
        if not isinstance(body, dict):
            raise _errors(400, "INVALIDJOB", "the job must be a JSON object")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise _errors(400, "INVALIDJOB", f"operation must be query or queryAll, got "
                                             f"{operation!r}")
        delimiter = body.get("columnDelimiter") or "COMMA"
        ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS or ending not in LINE_ENDINGS:
            raise _errors(400, "INVALIDJOB", "unknown columnDelimiter or lineEnding")
        try:
            plan = self.store.compile(body.get("query") or "",
                                      include_deleted=operation == "queryAll")
        except SOQLError as exc:
            raise _errors(400, exc.error_code, exc.message) from None
        if plan.count_only:
            raise _errors(400, "INVALIDJOB", "Bulk API queries do not support COUNT()")
        job = QueryJob(salesforce_id("BulkJob", self._next_serial()), operation, plan,
                       self.store.query_ids(plan), session.user.user_id,
                       format_datetime(self.store.clock()), version, delimiter, ending,
                       self.bulk_polls)
        with self.lock:
            self._jobs[job.id] = job
            self._evict()
        return json_response(200, job.info())

    def _job_list(self, request: Request, session: Session, version: str) -> Response:
        with self.lock:
            jobs = [j.info() for j in self._jobs.values()]
        return json_response(200, {"done": True, "records": jobs, "nextRecordsUrl": None})

    def _job_get(self, request: Request, session: Session, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        with self.lock:
            job.poll()
            return json_response(200, job.info())

    def _job_abort(self, request: Request, session: Session, version: str,
                   job_id: str) -> Response:
        job = self._job(job_id)
        body = _json_body(request)
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise _errors(400, "INVALIDJOB", "a query job can only be set to Aborted")
        with self.lock:
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise _errors(400, "INVALIDJOBSTATE", f"the job is already {job.state}")
            job.state = "Aborted"
            return json_response(200, job.info())

    def _job_delete(self, request: Request, session: Session, version: str,
                    job_id: str) -> Response:
        self._job(job_id)
        with self.lock:
            self._jobs.pop(job_id, None)
        return Response(204)

    def _job_results(self, request: Request, session: Session, version: str,
                     job_id: str) -> Response:
        job = self._job(job_id)
        if job.state != "JobComplete":
            raise _errors(400, "INVALIDJOBSTATE", f"the job is {job.state}, not JobComplete")
        try:
            max_records = int(request.param("maxRecords") or DEFAULT_MAX_RECORDS)
            offset = decode_locator(request.param("locator")) if request.param("locator") else 0
        except ValueError:
            raise _errors(400, "INVALIDLOCATOR", "invalid locator or maxRecords") from None
        if max_records < 1:
            raise _errors(400, "INVALIDLOCATOR", "maxRecords must be positive")
        end = min(offset + max_records, len(job.rowids))
        rows = self.store.fetch_rows(job.plan, job.rowids[offset:end])
        text = render_csv(job, rows)
        locator = encode_locator(end) if end < len(job.rowids) else "null"
        return Response(200, text.encode("utf-8"),
                        {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(rows))},
                        "text/csv;charset=UTF-8")


def _edited_email(current: str | None, serial: int) -> str:
    """A different, valid address for the concurrent_edit fault."""
    if not current or "@" not in current:
        return f"edited{serial}@concurrent-edit.example"
    local, _, domain = current.partition("@")
    return f"{local[:40]}.edited{serial}@{domain}"


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

