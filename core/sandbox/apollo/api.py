"""The Apollo REST API as the sandbox serves it, wire-faithful for Concord's Apollo client.

Routes (each also under the legacy ``/v1`` prefix): contact search with Apollo's paging and
50,000-record display cap, GET/PATCH/POST contacts, ``bulk_update``, ``update_stages``,
contact stages, the lists of contacts (``GET /labels``) and the health check.
Authentication is the ``x-api-key`` header; a key may be limited to some routes (403
``API_INACCESSIBLE``), and some routes answer only a master key. Every route is counted in
fixed minute/hour/day windows (:mod:`core.sandbox.ratelimit`) and answers with Apollo's usage
headers, or 429 once a window is spent.

What Apollo's Salesforce sync does around a write (push an email edit, create a record for
a new contact) belongs to :mod:`core.sandbox.integration`, attached as :attr:`ApolloApp.sync`.
"""

from __future__ import annotations

import math
import re
from http import HTTPStatus
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import orjson

from ..faults import FaultRule
from ..ratelimit import RateLimiter, Verdict
from ..server import (App, HTTPError, Request, Response, SandboxServer, json_response,
                      text_response)
from ..tls import TLSMaterial
from .store import (DISPLAY_CAP, MAX_PAGES, SORT_COLUMNS, DEFAULT_SORT,
                    ApolloStore, ApolloStoreError, ContactChange, ContactQuery)

PREFIX = r"/(?:api/)?v1"
CONTACT_ID = r"(?P<contact_id>[^/]+)"
# "You can update up to 1000 contacts per request; requests with more than 1000 contacts are
# rejected with a 422 error. Requests of 100 or fewer contacts are processed" synchronously,
# larger ones asynchronously (docs.apollo.io/reference/bulk-update-contacts).
BULK_UPDATE_MAX = 1000  # more is refused with 422
BULK_SYNC_MAX = 100  # up to this many are updated synchronously and returned
DEFAULT_LIMITS = {"minute": 200, "hour": 400, "day": 2000}  # Basic plan, "all other APIs"
UNLIMITED = {"minute": None, "hour": None, "day": None}  # no window counts
UPGRADE_URL = "https://app.apollo.io/#/settings/plans/upgrade"
HEADER_NAMES = {
    "live": {"day": ("x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left")},
    "documented": {"day": ("x-rate-limit-daily", "x-daily-usage", "x-daily-requests-left")},
}
# Routes Apollo answers only for a master key, whatever routes a key was given.
MASTER_ONLY = frozenset({"api/v1/labels/index"})
LABELS_SHAPES = ("array", "object")  # GET /labels: a bare array, or {"labels": [...]}
_COMMON_HEADERS = {"minute": ("x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left"),
                   "hour": ("x-rate-limit-hourly", "x-hourly-usage", "x-hourly-requests-left")}


class ApolloSync(Protocol):
    """What Apollo's CRM integration does after a contact is written through the API."""

    def contact_changed(self, change: ContactChange) -> None:
        """An existing contact was updated (PATCH, bulk_update, update_stages, someone else)."""

    def contact_created(self, contact: dict) -> None:
        """A contact was created through POST /contacts."""


def _route_name(action: str) -> str:
    return f"api/v1/{action}"


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v) != ""]
    return [str(value)] if str(value) != "" else []


def _as_int(value, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _as_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1", "yes"}


def _not_found() -> Response:
    return json_response(404, {"error": "Contact not found", "error_code": "NOT_FOUND"})


class ApolloApp(App):
    """The Apollo emulator: routes, API keys, rate limits and Apollo's own fault kinds.

    ``api_key`` is the team's key. ``key_routes`` limits it: ``None`` makes it a master key
    (every route); an iterable of route names (``"api/v1/contacts/search"`` or
    ``"contacts/search"``) allows only those; a mapping ``{key: routes or None}`` adds further
    keys next to a master ``api_key``. ``limits`` are per route and window.
    ``header_style`` picks the daily header spelling: ``live`` (``x-rate-limit-24-hour``...)
    or ``documented`` (``x-rate-limit-daily``...). ``retry_after`` sends ``Retry-After`` on
    429s. ``labels_shape`` is how ``GET /labels`` answers: ``array`` (as documented) or
    ``object`` (``{"labels": [...]}``, as some accounts see it).
    """

    name = "apollo"

    def __init__(self, store: ApolloStore, *, api_key: str,
                 key_routes: Iterable[str] | Mapping[str, Iterable[str] | None] | None = None,
                 limits: Mapping[str, int | None] | None = None, retry_after: bool = True,
                 header_style: str = "live", labels_shape: str = "array", seed: int = 0,
                 display_cap: int = DISPLAY_CAP, cap_total_entries: bool = True):
        super().__init__(seed)
        # Search shows at most ``display_cap`` contacts (documented: 50,000 as 500 pages of
        # 100). Whether ``pagination.total_entries`` is capped there too is not documented,
        # so it is a switch; on by default, the case that would fool a client into calling
        # a capped workspace whole. Tests scale the cap down to keep workspaces small.
        self.display_cap = display_cap
        self.cap_total_entries = cap_total_entries
        if header_style not in HEADER_NAMES:
            raise ValueError(f"header_style must be 'live' or 'documented', not {header_style!r}")
        if labels_shape not in LABELS_SHAPES:
            raise ValueError(f"labels_shape must be 'array' or 'object', not {labels_shape!r}")
        self.labels_shape = labels_shape
        self.store = store
        self.keys: dict[str, frozenset[str] | None] = {}
        if isinstance(key_routes, Mapping):
            self.keys[api_key] = None
            for key, routes in key_routes.items():
                self.keys[key] = None if routes is None else self._routes_set(routes)
        else:
            self.keys[api_key] = None if key_routes is None else self._routes_set(key_routes)
        self.limiter = RateLimiter(dict(DEFAULT_LIMITS if limits is None else limits),
                                   clock=store.clock)
        self.retry_after = retry_after
        self.header_style = header_style
        self.sync: ApolloSync | None = None
        self.admin_routes: dict[tuple[str, str], Callable[[Request], Response]] = {}
        self._names: list[tuple[str, re.Pattern, str]] = []

        self._endpoint("POST", PREFIX + r"/contacts/search", "contacts/search", self.search)
        self._endpoint("POST", PREFIX + r"/contacts/bulk_update", "contacts/bulk_update",
                       self.bulk_update)
        self._endpoint("POST", PREFIX + r"/contacts/update_stages", "contacts/update_stages",
                       self.update_stages)
        self._endpoint("POST", PREFIX + r"/contacts/?", "contacts/create", self.create_contact)
        self._endpoint("GET", PREFIX + r"/contacts/" + CONTACT_ID, "contacts/show", self.show_contact)
        self._endpoint("PATCH", PREFIX + r"/contacts/" + CONTACT_ID, "contacts/update",
                       self.update_contact)
        self._endpoint("PUT", PREFIX + r"/contacts/" + CONTACT_ID, "contacts/update",
                       self.update_contact)
        self._endpoint("DELETE", PREFIX + r"/contacts/" + CONTACT_ID, "contacts/destroy",
                       self.destroy_contact)
        self._endpoint("GET", PREFIX + r"/contact_stages/?", "contact_stages/index", self.stages)
        self._endpoint("GET", PREFIX + r"/labels/?", "labels/index", self.labels)
        # Not guarded like the others: a key Apollo does not know still gets 200 here.
        self._names.append(("GET", re.compile(PREFIX + r"/auth/health\Z"),
                            _route_name("auth/health")))
        self.route("GET", PREFIX + r"/auth/health", self.health)

        self.admin_routes[("POST", "/__sandbox/clock")] = self._admin_clock
        self.admin_routes[("GET", "/__sandbox/clock")] = self._admin_clock
        self.admin_routes[("DELETE", "/__sandbox/rate_limits")] = self._admin_reset_limits

    @staticmethod
    def _routes_set(routes: Iterable[str]) -> frozenset[str]:
        return frozenset(r if r.startswith("api/v1/") else _route_name(r.strip("/")) for r in routes)

    # -- routing, keys and limits -------------------------------------------------------------

    def _endpoint(self, method: str, pattern: str, action: str, handler) -> None:
        route = _route_name(action)
        self._names.append((method, re.compile(pattern + r"\Z"), route))

        def guarded(request: Request, **groups) -> Response:
            self._admit(request, route)
            return handler(request, **groups)

        self.route(method, pattern, guarded)

    def route_for(self, method: str, path: str) -> str | None:
        """Apollo's name of the route a request goes to (``api/v1/contacts/search``...)."""
        for m, pattern, route in self._names:
            if m == method.upper() and pattern.match(path):
                return route
        return None

    def _admit(self, request: Request, route: str) -> None:
        """Check the key, the key's routes and the rate limits; count the request."""
        key = request.header("x-api-key")
        if key is None or key not in self.keys:
            raise HTTPError(401, self.unauthorized())
        allowed = self.keys[key]
        # Apollo refuses deletes to API keys altogether (recorded: api/v1/contacts/destroy),
        # and some routes to every key that is not a master key.
        if (route == _route_name("contacts/destroy")
                or (allowed is not None and (route not in allowed or route in MASTER_ONLY))):
            raise HTTPError(403, self.inaccessible(route))
        verdict = self.limiter.hit(route)
        if not verdict.allowed:
            raise HTTPError(429, self.too_many(route, verdict.spent, verdict.retry_after))
        request.rate_verdict = verdict  # type: ignore[attr-defined]

    def unauthorized(self) -> Response:
        """Apollo's 401: plain text."""
        return text_response(401, "Invalid access credentials.")

    def inaccessible(self, route: str) -> Response:
        """Apollo's 403 for a key that may not call ``route``."""
        return json_response(403, {"error": f"{route} is not accessible with this api_key",
                                   "error_code": "API_INACCESSIBLE"})

    def too_many(self, route: str, window: str, retry_after: int | None) -> Response:
        """Apollo's 429 for a spent ``window`` (minute, hour or day) of ``route``."""
        limit = self.limiter.limits.get(window)
        message = (f"The maximum number of api calls allowed for {route} is {limit} times per "
                   f"{window}. Please upgrade your plan from {UPGRADE_URL}.")
        headers = {"Retry-After": str(retry_after)} if self.retry_after and retry_after else {}
        return json_response(429, {"message": message}, headers)

    def decorate(self, request: Request, response: Response) -> None:
        """Usage headers on every counted request (Apollo sends none on 401/403/429)."""
        verdict: Verdict | None = getattr(request, "rate_verdict", None)
        if verdict is None or response.status in (401, 403, 429):
            return
        names = {**_COMMON_HEADERS, **HEADER_NAMES[self.header_style]}
        for window, usage in verdict.usage.items():
            limit_name, usage_name, left_name = names[window]
            response.headers[limit_name] = "" if usage.limit is None else str(usage.limit)
            response.headers[usage_name] = str(usage.used)
            response.headers[left_name] = "" if usage.left is None else str(usage.left)

    def injected_status(self, status: int) -> Response:
        """A ``status`` fault without a body: Apollo's JSON error shape."""
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        return json_response(status, {"error": reason})

    def not_found(self, request: Request) -> Response:
        return json_response(404, {"error": f"Not found: {request.method} {request.path}"})

    def method_not_allowed(self, request: Request) -> Response:
        return json_response(405, {"error": f"{request.method} is not allowed on {request.path}"})

    # -- Apollo's own fault kinds --------------------------------------------------------------

    def fault_response(self, request: Request, rule: FaultRule) -> Response | None:
        """``rate_limit`` (param ``window``), ``unauthorized``, ``concurrent_edit``."""
        if rule.kind == "unauthorized":
            return self.unauthorized()
        if rule.kind == "rate_limit":
            window = str(rule.params.get("window", "minute"))
            if window not in ("minute", "hour", "day"):
                window = "minute"
            route = self.route_for(request.method, request.path) or request.path.lstrip("/")
            return self.too_many(route, window, self.limiter.seconds_left(route, window))
        if rule.kind == "concurrent_edit":
            self._concurrent_edit(request, rule)
            return None
        return None

    def _concurrent_edit(self, request: Request, rule: FaultRule) -> None:
        """Someone else changes the email of the contacts this write targets, just before it."""
        route = self.route_for(request.method, request.path)
        targets: list[str] = []
        if route == _route_name("contacts/update"):
            targets = [request.path.rstrip("/").rsplit("/", 1)[-1]]
        elif route == _route_name("contacts/bulk_update"):
            try:
                body = orjson.loads(request.body or b"{}")
                targets = [str(item.get("id")) for item in self._bulk_items(body)[0]]
            except (orjson.JSONDecodeError, HTTPError, AttributeError):
                targets = []
        for contact_id in targets:
            contact = self.store.get(contact_id)
            if contact is None:
                continue
            email = rule.params.get("email")
            if not email:
                local, _, domain = (contact.get("email") or "someone@example.com").partition("@")
                email = f"{local}.other{rule.fired}@{domain or 'example.com'}"
            change = self.store.update(contact_id, {"email": email})
            if self.sync is not None:
                self.sync.contact_changed(change)

    # -- admin ---------------------------------------------------------------------------------

    def admin(self, request: Request) -> Response | None:
        """Extra ``/__sandbox/...`` routes (pull tick, clock, rate-limit reset)."""
        handler = self.admin_routes.get((request.method, request.path))
        return handler(request) if handler else None

    def _admin_clock(self, request: Request) -> Response:
        clock = self.store.clock
        if request.method == "POST":
            if not hasattr(clock, "advance"):
                return json_response(409, {"error": "this sandbox's clock cannot be moved"})
            body = request.json() or {}
            try:
                clock.advance(**{k: float(v) for k, v in body.items()
                                 if k in ("days", "hours", "minutes", "seconds")})
            except (TypeError, ValueError) as exc:
                return json_response(400, {"error": str(exc)})
        return json_response(200, {"now": self.store.now()})

    def _admin_reset_limits(self, request: Request) -> Response:
        self.limiter.reset()
        return Response(204)

    # -- handlers ------------------------------------------------------------------------------

    def _body(self, request: Request) -> dict:
        body = request.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise HTTPError(422, json_response(422, {"error": "The request body must be a JSON object",
                                                     "error_code": "VALIDATION_ERROR"}))
        return body

    def _params(self, request: Request) -> dict:
        """Query-string parameters merged under the JSON body (Apollo accepts both)."""
        params: dict = {}
        for key, values in request.query.items():
            params[key] = values if key.endswith("[]") or len(values) > 1 else values[0]
        params.update(self._body(request))
        return params

    def search(self, request: Request) -> Response:
        """POST /contacts/search: filters, sort, page/per_page, the 50,000 display cap."""
        params = self._params(request)
        raw_page = params.get("page", 1)
        page = max(1, _as_int(raw_page, 1))
        per_page = min(100, max(1, _as_int(params.get("per_page", 25), 25)))
        sort_by = params.get("sort_by_field")
        if sort_by not in SORT_COLUMNS:
            sort_by = DEFAULT_SORT  # unknown names are ignored, like every unknown key
        stage_ids = tuple(sorted(set(_as_list(params.get("contact_stage_ids",
                                                         params.get("contact_stage_ids[]"))))))
        label_ids = tuple(sorted(set(_as_list(params.get("contact_label_ids",
                                                         params.get("contact_label_ids[]"))))))
        keywords_text = str(params.get("q_keywords") or "")
        tokens = tuple(t for t in re.split(r"[\s,]+", keywords_text.lower()) if t)
        query = ContactQuery(stage_ids, label_ids, tokens, sort_by,
                             _as_bool(params.get("sort_ascending", False)))
        total, ids = self.store.search_ids(query)
        cap = self.display_cap
        total_pages = min(MAX_PAGES, math.ceil(min(total, cap) / per_page))
        raw: list[bytes] = []
        if page <= total_pages and (page - 1) * per_page < cap:
            total, raw = self.store.search_page(query, page, per_page)
            raw = raw[:max(0, cap - (page - 1) * per_page)]
        if self.cap_total_entries:
            total = min(total, cap)
        breadcrumbs = []
        if keywords_text.strip():
            breadcrumbs.append({"label": "Contains Keywords", "signal_field_name": "q_keywords",
                                "value": keywords_text, "display_name": keywords_text})
        for stage_id in stage_ids:
            stage = self.store.stage(stage_id) or {}
            breadcrumbs.append({"label": "Stage", "signal_field_name": "contact_stage_ids",
                                "value": stage_id,
                                "display_name": stage.get("display_name") or stage_id})
        for label_id in label_ids:
            breadcrumbs.append({"label": "List", "signal_field_name": "contact_label_ids",
                                "value": label_id, "display_name": label_id})
        rest = {"breadcrumbs": breadcrumbs, "partial_results_only": False,
                "has_join": False, "disable_eu_prospecting": False,
                "partial_results_limit": 10000,
                # Apollo echoes the page as it was sent: sometimes a string.
                "pagination": {"page": str(page) if isinstance(raw_page, str) else page,
                               "per_page": per_page, "total_entries": total,
                               "total_pages": total_pages},
                "num_fetch_result": None}
        # The stored JSON is spliced in as it is: no parse and re-serialise per contact.
        body = b'{"contacts":[' + b",".join(raw) + b"]," + orjson.dumps(rest)[1:]
        return Response(200, body)

    def show_contact(self, request: Request, contact_id: str) -> Response:
        """GET /contacts/{id}."""
        raw = self.store.get_raw(contact_id)
        if raw is None:
            return _not_found()
        return Response(200, b'{"contact":' + raw + b"}")

    def _contact_answer(self, contact_id: str, status: int = 200) -> Response:
        contact = self.store.get(contact_id)
        return json_response(status, {"contact": contact,
                                      "labels": self.store.labels(contact.get("label_ids") or ())})

    def _apply_update(self, contact_id: str, fields: Mapping) -> ContactChange:
        fields = {k: v for k, v in fields.items() if k != "id"}
        change = self.store.update(contact_id, fields)
        if self.sync is not None:
            self.sync.contact_changed(change)
        elif change.email_changed and (change.contact.get("salesforce_lead_id")
                                       or change.contact.get("salesforce_contact_id")):
            # No CRM attached: the push is queued and never runs, as with a broken integration.
            self.store.set_fields(contact_id, {"queued_for_crm_push": True,
                                               "crm_job": self.store.new_crm_job("pending")}, touch=False)
        return change

    def update_contact(self, request: Request, contact_id: str) -> Response:
        """PATCH (or legacy PUT) /contacts/{id}: the documented fields; others ignored."""
        fields = self._body(request)
        try:
            self._apply_update(contact_id, fields)
        except ApolloStoreError as exc:
            if exc.status == 404:
                return _not_found()
            return json_response(exc.status, {"error": exc.message, "error_code": "VALIDATION_ERROR"})
        return self._contact_answer(contact_id)

    def destroy_contact(self, request: Request, contact_id: str) -> Response:
        """Never reached: :meth:`_admit` refuses deletes, as Apollo does for API keys."""
        raise HTTPError(403, self.inaccessible(_route_name("contacts/destroy")))

    def create_contact(self, request: Request) -> Response:
        """POST /contacts: a new contact every time (``run_dedupe`` matches by email first)."""
        fields = self._body(request)
        if _as_bool(fields.get("run_dedupe", False)) and fields.get("email"):
            existing = self.store.find_by_email(str(fields["email"]))
            if existing:
                try:
                    self._apply_update(existing[0]["id"], fields)
                except ApolloStoreError as exc:
                    return json_response(exc.status, {"error": exc.message,
                                                      "error_code": "VALIDATION_ERROR"})
                return self._contact_answer(existing[0]["id"])
        try:
            contact = self.store.create(fields, source="api")
        except ApolloStoreError as exc:
            return json_response(exc.status, {"error": exc.message, "error_code": "VALIDATION_ERROR"})
        if self.sync is not None:
            self.sync.contact_created(contact)
        return self._contact_answer(contact["id"])

    def _bulk_items(self, body: dict) -> tuple[list[dict], bool]:
        """The ``[{id, ...}]`` list of a bulk_update body and whether it asked for async."""
        items = body.get("contact_attributes")
        if items is None:
            items = body.get("contacts")
        if items is None and body.get("contact_ids") is not None:
            shared = {k: v for k, v in body.items() if k not in ("contact_ids", "async")}
            items = [{"id": cid, **shared} for cid in _as_list(body.get("contact_ids"))]
        if not isinstance(items, list) or not items:
            raise HTTPError(422, json_response(422, {
                "error": "contact_attributes must be a non-empty list of contacts, each with an id",
                "error_code": "VALIDATION_ERROR"}))
        if len(items) > BULK_UPDATE_MAX:
            raise HTTPError(422, json_response(422, {
                "error": f"You can update at most {BULK_UPDATE_MAX} contacts per request; "
                         f"got {len(items)}",
                "error_code": "VALIDATION_ERROR"}))
        if not all(isinstance(item, dict) and item.get("id") for item in items):
            raise HTTPError(422, json_response(422, {
                "error": "Every entry of contact_attributes needs an id",
                "error_code": "VALIDATION_ERROR"}))
        return items, _as_bool(body.get("async", False))

    def bulk_update(self, request: Request) -> Response:
        """POST /contacts/bulk_update: ≤1000; ≤100 answered with the contacts, more queued."""
        items, force_async = self._bulk_items(self._body(request))
        updated, missing, failed = [], [], []
        for item in items:
            contact_id = str(item["id"])
            try:
                self._apply_update(contact_id, item)
                updated.append(contact_id)
            except ApolloStoreError as exc:
                (missing if exc.status == 404 else failed).append(
                    {"id": contact_id, "error": exc.message})
        if force_async or len(items) > BULK_SYNC_MAX:
            # Apollo answers large batches with a job; the sandbox has already applied them.
            job = self.store.new_crm_job("completed")
            return json_response(200, {"message": "Contacts will be updated asynchronously",
                                       "async": True, "job_id": job["id"],
                                       "contact_ids": updated})
        return json_response(200, {"contacts": [self.store.get(cid) for cid in updated],
                                   "missing_contacts": [m["id"] for m in missing],
                                   "failed_contacts": failed})

    def update_stages(self, request: Request) -> Response:
        """POST /contacts/update_stages: ``contact_ids[]`` and ``contact_stage_id``."""
        body = self._params(request)
        ids = _as_list(body.get("contact_ids", body.get("contact_ids[]")))
        stage_id = body.get("contact_stage_id")
        if not ids or not stage_id:
            return json_response(422, {"error": "contact_ids and contact_stage_id are required",
                                       "error_code": "VALIDATION_ERROR"})
        contacts = []
        for contact_id in ids:
            try:
                self._apply_update(contact_id, {"contact_stage_id": stage_id})
            except ApolloStoreError as exc:
                if exc.status != 404:
                    return json_response(exc.status, {"error": exc.message,
                                                      "error_code": "VALIDATION_ERROR"})
                continue
            contacts.append(self.store.get(contact_id))
        return json_response(200, {"contacts": contacts})

    def stages(self, request: Request) -> Response:
        """GET /contact_stages."""
        return json_response(200, {"contact_stages": self.store.stages()})

    def labels(self, request: Request) -> Response:
        """GET /labels ("Get a List of All Lists"): every list with its ``cached_count``."""
        labels = self.store.all_labels()
        return json_response(200, labels if self.labels_shape == "array" else {"labels": labels})

    def health(self, request: Request) -> Response:
        """GET /auth/health: 200 whatever the key; the body says whether it was accepted.

        A known key answers ``{"is_logged_in": true}`` (docs.apollo.io "Authentication" calls
        this endpoint to test a key; the legacy docs show that body). An unknown key gets
        ``{"is_logged_in": false}`` with status 200, not a 401, as the audit behind issue 12
        recorded; the public documentation shows no failure example.
        """
        key = request.header("x-api-key")
        if key is None or key not in self.keys:
            return json_response(200, {"is_logged_in": False})
        self._admit(request, _route_name("auth/health"))
        return json_response(200, {"healthy": True, "is_logged_in": True})


def start_apollo(store: ApolloStore, tls: TLSMaterial | None = None, *, port: int = 0,
                 admin_token: str | None = None, **app_options) -> SandboxServer:
    """Serve an :class:`ApolloApp` over ``store`` on 127.0.0.1 (HTTPS when ``tls``).

    The returned server is running; ``server.app`` is the app. ``app_options`` go to the app
    (``api_key``, ``limits``, ``seed``...). Stop it with ``server.stop()``.
    """
    return SandboxServer(ApolloApp(store, **app_options), tls, port=port,
                         admin_token=admin_token).start()
