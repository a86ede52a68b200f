"""The Apollo connection: requests against ``/api/v1`` with the key in ``x-api-key``.

Apollo limits every route per minute, hour and day with fixed windows and reports the use
in response headers; the daily ones come spelled two ways (``x-24-hour-*`` as served,
``x-daily-*`` as documented), and both are read. The client paces itself:

- when a route's minute budget is used up it waits until that window has surely ended
  (it knows when the window opened if its own request opened it; otherwise it waits a full
  minute), so it does not run into 429s;
- a 429 for the minute window waits for ``Retry-After`` (or the window's end) and repeats
  the request (a 429 was not processed, so repeating it is safe);
- a spent hour or day window (a 429 saying so, or a header at 0 before the next request)
  raises :class:`~core.sources.errors.BudgetExhausted` with the time it frees up.

Waiting uses an injectable ``sleep`` and ``monotonic`` clock so tests can move time.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import requests

from core import credentials
from core.model import UTC
from core.sources.errors import (
    AuthError,
    BudgetExhausted,
    NotConnected,
    PermissionDenied,
    PullCancelled,
    SourceError,
    SourceUnavailable,
    WriteUnknown,
)
from core.sources.http import DEFAULT_TIMEOUT, RetryPolicy, cancellable_wait, make_session
from core.workspace import Profile, Workspace

log = logging.getLogger(__name__)

SYSTEM = "apollo"
API_PREFIX = "/api/v1"
PER_PAGE = 100  # Apollo's maximum
MAX_PAGES = 500  # search shows at most 500 pages (50,000 records)
WINDOW_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
MARGIN = 0.5  # seconds added to a window's estimated end
# (limit, used, left) header names per window; the day window has two spellings.
HEADERS = {
    "minute": (("x-rate-limit-minute",), ("x-minute-usage",), ("x-minute-requests-left",)),
    "hour": (("x-rate-limit-hourly",), ("x-hourly-usage",), ("x-hourly-requests-left",)),
    "day": (("x-rate-limit-24-hour", "x-rate-limit-daily"), ("x-24-hour-usage", "x-daily-usage"),
            ("x-24-hour-requests-left", "x-daily-requests-left")),
}
_WINDOW_IN_MESSAGE = re.compile(r"times per (minute|hour|day)", re.I)


def _header_int(response: requests.Response, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = response.headers.get(name)
        if value is not None and value.strip() != "":
            try:
                return int(float(value))
            except ValueError:
                return None
    return None


@dataclass
class WindowState:
    """What Concord knows about one route's window."""

    limit: int | None = None
    used: int | None = None
    left: int | None = None
    opened_at: float | None = None  # monotonic time our own request opened the window


class ApolloSource:
    """One Apollo team through its API key. ``base_url`` is the host
    (``https://api.apollo.io``); ``sleep``/``monotonic`` may be replaced in tests;
    ``on_wait(seconds, reason)`` is told about every pause for a rate limit."""

    system = SYSTEM

    def __init__(self, api_key: str, base_url: str = "https://api.apollo.io", *,
                 ca_path: str | None = None, timeout=DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], object] | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_rate_waits: int = 20, label: str = "Apollo", max_pages: int = MAX_PAGES):
        if not api_key:
            raise NotConnected(SYSTEM, "No Apollo API key; connect Apollo first.")
        credentials.remember_for_redaction(api_key)
        self.base_url = base_url.rstrip("/")
        self.label = label
        self.cancel: threading.Event | None = None
        self.on_wait: Callable[[float, str], None] | None = None
        self.monotonic = monotonic
        self.max_rate_waits = max_rate_waits
        self.max_pages = max_pages  # how deep one search can page (Apollo's cap)
        self.windows: dict[str, dict[str, WindowState]] = {}
        self.rate_limited = 0  # 429s received
        self.waited = 0.0  # seconds spent waiting for rate limits
        self._sleep = sleep
        self._api_key = api_key
        retry = retry or RetryPolicy()
        retry.sleep = self.wait
        self.session, self.adapter = make_session(
            system=SYSTEM, ca_path=ca_path, timeout=timeout, retry=retry,
            read_posts=[r"/contacts/search/?$"])  # search only reads: safe to repeat

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_profile(cls, workspace: Workspace, profile: Profile | None = None,
                     **options) -> "ApolloSource":
        """The workspace's Apollo team, with the API key from the keyring."""
        profile = profile or workspace.load_profile()
        credentials.check_backend()
        key = credentials.get_secret(workspace.name, credentials.APOLLO_API_KEY)
        if not key:
            raise NotConnected(SYSTEM, f"Workspace {workspace.name!r} has no Apollo API key in "
                                       f"the keyring; connect Apollo again.")
        options.setdefault("ca_path", profile.ca_path or None)
        return cls(key, profile.apollo_base_url, **options)

    @classmethod
    def from_sandbox_info(cls, info: dict, **options) -> "ApolloSource":
        """The Apollo emulator of a running sandbox (its info file's contents)."""
        options.setdefault("ca_path", info.get("ca_path"))
        options.setdefault("label", "Apollo sandbox")
        return cls(info["apollo"]["api_key"], info["apollo"]["base_url"], **options)

    # -- state ---------------------------------------------------------------------------------

    @property
    def cap(self) -> int:
        """How many contacts one search can show (its pages times their size)."""
        return self.max_pages * PER_PAGE

    @property
    def api_calls(self) -> int:
        """Requests sent (each retry counts)."""
        return sum(self.adapter.calls.values())

    def wait(self, seconds: float) -> None:
        """Wait; ends early with :class:`PullCancelled` when the pull is cancelled."""
        cancellable_wait(seconds, sleep=self._sleep, cancel=self.cancel)

    def _wait_for_rate(self, seconds: float, reason: str) -> None:
        log.info("Apollo: %s; waiting %.1f s", reason, seconds)
        if self.on_wait is not None:
            self.on_wait(seconds, reason)
        self.waited += seconds
        self.wait(seconds)

    def _observe(self, route: str, response: requests.Response, sent_at: float) -> None:
        """Read the usage headers of an answer (Apollo sends none on 401/403/429)."""
        windows = self.windows.setdefault(route, {})
        now = self.monotonic()
        for window, (limit_names, used_names, left_names) in HEADERS.items():
            used = _header_int(response, used_names)
            left = _header_int(response, left_names)
            if used is None and left is None:
                continue
            state = windows.setdefault(window, WindowState())
            if state.opened_at is not None and now >= state.opened_at + WINDOW_SECONDS[window]:
                state.opened_at = None  # that window has ended
            if used == 1:
                # Our request opened this window: it started after ``sent_at`` and ends
                # no later than a full window after we got the answer.
                state.opened_at = now
            state.limit = _header_int(response, limit_names)
            state.used, state.left = used, left

    def _window_end(self, state: WindowState, window: str) -> float:
        """Monotonic time by which a window has surely ended."""
        now = self.monotonic()
        if state.opened_at is not None:
            return max(now, state.opened_at + WINDOW_SECONDS[window] + MARGIN)
        return now + WINDOW_SECONDS[window] + MARGIN

    def _resume_at(self, seconds: float) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=max(0.0, seconds))

    def _before_request(self, route: str) -> None:
        """Stop on a spent hour/day window; wait out a spent minute window."""
        windows = self.windows.get(route, {})
        for window in ("day", "hour"):
            state = windows.get(window)
            if state is not None and state.left == 0:
                remaining = self._window_end(state, window) - self.monotonic()
                if remaining > MARGIN:
                    raise self._budget_error(route, window, remaining)
                state.left = None
        state = windows.get("minute")
        if state is not None and state.left == 0:
            self._wait_for_rate(self._window_end(state, "minute") - self.monotonic(),
                                f"per-minute limit of {route} reached ({state.limit} requests)")
            state.left, state.opened_at = None, None

    def _budget_error(self, route: str, window: str, seconds: float) -> BudgetExhausted:
        when = self._resume_at(seconds)
        label = {"hour": "hourly", "day": "daily"}[window]
        return BudgetExhausted(
            SYSTEM, f"{self.label}'s {label} API limit for {route} is used up. Everything pulled "
                    f"so far is saved; pull again after {when:%Y-%m-%d %H:%M} UTC and it "
                    f"continues where it stopped.", window=window, resume_at=when)

    # -- requests ------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict | None = None, *,
                route: str | None = None, write: bool = False) -> dict:
        """Send one API request (``path`` under ``/api/v1``); return the decoded JSON.

        Rate limits are handled as the module describes; errors become typed exceptions.
        For a ``write``, an answer lost after sending (transport error, 5xx, unreadable
        body) raises :class:`WriteUnknown`: it may have been applied.
        """
        route = route or path.strip("/")
        url = self.base_url + API_PREFIX + path
        headers = {"x-api-key": self._api_key, "Cache-Control": "no-cache",
                   "Accept": "application/json"}
        rate_waits = 0
        bad_bodies = 0
        while True:
            self._before_request(route)
            sent_at = self.monotonic()
            try:
                response = self.session.request(method, url, headers=headers, json=body)
            except PullCancelled:
                raise
            except requests.RequestException as exc:
                if write:
                    raise WriteUnknown(SYSTEM, f"{route}: no answer from {self.label} "
                                               f"({type(exc).__name__}); the contacts are "
                                               f"re-read before anything is sent again.") from None
                raise SourceUnavailable(SYSTEM, f"Could not reach {self.label} for {route}: "
                                                f"{type(exc).__name__} after retries; pull "
                                                f"again later.") from None
            self._observe(route, response, sent_at)
            status = response.status_code
            if status == 429:
                self.rate_limited += 1
                rate_waits += 1
                self._on_429(route, response, rate_waits)
                continue
            if status == 401:
                raise AuthError(SYSTEM, f"{self.label} refused the API key (401); check or "
                                        f"replace the workspace's Apollo key.")
            if status == 403:
                raise PermissionDenied(SYSTEM, f"{self.label}'s API key may not call {route} "
                                               f"(403); use a master key or one allowed to "
                                               f"search and update contacts.")
            if status >= 500:
                if write:
                    raise WriteUnknown(SYSTEM, f"{route}: {self.label} answered HTTP {status}; "
                                               f"the contacts are re-read before anything is "
                                               f"sent again.")
                raise SourceUnavailable(SYSTEM, f"{self.label} kept failing on {route} "
                                                f"(HTTP {status}) after retries; pull again later.")
            if status >= 300:
                raise SourceError(SYSTEM, f"{self.label} answered HTTP {status} to {route}: "
                                          f"{response.text[:200]}")
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                bad_bodies += 1
                if method == "GET" or route.endswith("search"):
                    if bad_bodies < 3:
                        continue  # a read: ask again
                if write:
                    raise WriteUnknown(SYSTEM, f"{route}: {self.label} sent an unreadable "
                                               f"answer; the contacts are re-read before "
                                               f"anything is sent again.") from None
                raise SourceUnavailable(SYSTEM, f"{self.label} sent an unreadable answer to "
                                                f"{route}; pull again later.") from None

    def _on_429(self, route: str, response: requests.Response, waits: int) -> None:
        try:
            message = str(orjson.loads(response.content).get("message") or "")
        except (orjson.JSONDecodeError, AttributeError):
            message = response.text or ""
        match = _WINDOW_IN_MESSAGE.search(message)
        window = match.group(1).lower() if match else "minute"
        retry_after = response.headers.get("Retry-After")
        seconds = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
        state = self.windows.setdefault(route, {}).setdefault(window, WindowState())
        if window in ("hour", "day"):
            state.left = 0
            remaining = seconds if seconds is not None else \
                self._window_end(state, window) - self.monotonic()
            raise self._budget_error(route, window, remaining)
        if waits > self.max_rate_waits:
            raise SourceUnavailable(SYSTEM, f"{self.label} kept answering 429 to {route} after "
                                            f"{waits - 1} waits; pull again later.")
        if seconds is None:
            seconds = self._window_end(state, "minute") - self.monotonic()
        self._wait_for_rate(seconds + MARGIN if retry_after else seconds,
                            f"{self.label} asked to slow down on {route} (429)")
        state.left, state.opened_at = None, None

    # -- endpoints -----------------------------------------------------------------------------

    def search(self, *, page: int = 1, per_page: int = PER_PAGE,
               sort_by: str = "contact_updated_at", ascending: bool = False,
               stage_ids: list[str] | None = None, label_ids: list[str] | None = None) -> dict:
        """``POST /contacts/search``: one page (``contacts``, ``pagination``).

        ``stage_ids`` and ``label_ids`` (lists) filter; several ids of one kind match any.
        """
        body: dict = {"page": page, "per_page": per_page, "sort_by_field": sort_by,
                      "sort_ascending": ascending}
        if stage_ids:
            body["contact_stage_ids"] = list(stage_ids)
        if label_ids:
            body["contact_label_ids"] = list(label_ids)
        return self.request("POST", "/contacts/search", body, route="api/v1/contacts/search")

    def contact_lists(self) -> list[dict]:
        """``GET /labels``: the team's lists of contacts (id, name, cached_count, ...).

        Apollo answers a bare array, some accounts ``{"labels": [...]}``; both are read.
        Lists of accounts (``modality`` other than ``contacts``) are left out. Needs a master
        key: :class:`~core.sources.errors.PermissionDenied` otherwise.
        """
        answer = self.request("GET", "/labels", route="api/v1/labels")
        if isinstance(answer, dict):
            answer = answer.get("labels") or []
        if not isinstance(answer, list):
            raise SourceError(SYSTEM, f"{self.label} answered the list of lists with something "
                                      f"that is not a list ({type(answer).__name__}).")
        return [item for item in answer if isinstance(item, dict) and item.get("id")
                and item.get("modality", "contacts") == "contacts"]

    def contact_stages(self) -> list[dict]:
        """``GET /contact_stages``: the team's stages (id, name, ...)."""
        answer = self.request("GET", "/contact_stages", route="api/v1/contact_stages")
        return list(answer.get("contact_stages") or [])

    def health(self) -> dict:
        """``GET /auth/health``: whether the key is accepted (one call).

        Apollo answers 200 even for a key it refuses; the body's ``is_logged_in`` says which,
        so a 200 alone proves nothing: anything but ``is_logged_in: true`` is an AuthError.
        """
        answer = self.request("GET", "/auth/health", route="api/v1/auth/health")
        if not isinstance(answer, dict) or answer.get("is_logged_in") is not True:
            raise AuthError(SYSTEM, f"{self.label} did not accept the API key (auth/health "
                                    f"says it is not logged in); check or replace the key.")
        return answer

    # -- email writes (core.sync.apply) --------------------------------------------------------

    def changed_since(self, since: datetime, *, max_pages: int = 50) -> tuple[list[dict], bool]:
        """Every contact updated at or after ``since`` (Apollo's own ``updated_at``), newest
        first, read by a search sorted by ``contact_updated_at`` until a page reaches older
        contacts: usually one call. Returns the contacts and whether the walk reached
        ``since`` (False when ``max_pages`` ran out first: treat every target as moved)."""
        found: list[dict] = []
        for page in range(1, max_pages + 1):
            answer = self.search(page=page, sort_by="contact_updated_at", ascending=False)
            contacts = answer.get("contacts") or []
            for contact in contacts:
                if _when(contact.get("updated_at")) < since:
                    return found, True
                found.append(contact)
            pagination = answer.get("pagination") or {}
            if not contacts or page >= int(pagination.get("total_pages") or 0):
                return found, True
        return found, False

    def contact(self, contact_id: str) -> dict | None:
        """``GET /contacts/{id}``: one contact, or None if Apollo has none by that id."""
        try:
            return self.request("GET", f"/contacts/{contact_id}",
                                route="api/v1/contacts/show").get("contact")
        except SourceError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise

    def update_emails(self, writes: list[tuple[str, str]]) -> dict:
        """``POST /contacts/bulk_update`` with ``contact_attributes`` (at most 100, so Apollo
        answers synchronously with the updated contacts). Raises :class:`WriteUnknown` when
        the answer is lost after sending."""
        if len(writes) > 100:
            raise ValueError("bulk_update answers synchronously for at most 100 contacts")
        body = {"contact_attributes": [{"id": contact_id, "email": email}
                                       for contact_id, email in writes]}
        answer = self.request("POST", "/contacts/bulk_update", body,
                              route="api/v1/contacts/bulk_update", write=True)
        if not isinstance(answer, dict) or "contacts" not in answer:
            raise WriteUnknown(SYSTEM, f"{self.label} answered bulk_update without the updated "
                                       f"contacts; they are re-read.")
        return answer


def _when(text) -> datetime:
    """Apollo's ISO timestamp as an aware datetime (a missing one counts as very old)."""
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
