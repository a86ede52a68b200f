"""The Salesforce connection: simple-salesforce on a direct session, made resilient.

Concord signs in itself (:mod:`core.sources.salesforce_auth`) and gives simple-salesforce
the access token and instance URL (API version pinned to 59.0) with one
``requests.Session`` whose adapter sets timeouts and retries reads
(:mod:`core.sources.http`). On top of that this module:

- renews the session after 401 ``INVALID_SESSION_ID`` and repeats the call once
  (simple-salesforce's own retry does nothing for direct sessions);
- turns 403 ``REQUEST_LIMIT_EXCEEDED`` into :class:`~core.sources.errors.BudgetExhausted`,
  with the usage read from the ``Sforce-Limit-Info`` header, and stops before the org's
  daily budget falls under a reserve left for its other integrations;
- counts the API calls it made (token requests are counted apart).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import orjson
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (SalesforceError, SalesforceExpiredSession,
                                          SalesforceMalformedRequest, SalesforceRefusedRequest,
                                          SalesforceResourceNotFound)

from core import credentials
from core.model import UTC
from core.workspace import SALESFORCE_API_VERSION, Profile, Workspace
from core.sources.errors import (AuthError, BudgetExhausted, NotConnected, PermissionDenied, PullCancelled,
                     QueryRefused, SourceError, SourceUnavailable, WriteUnknown)
from core.sources.http import DEFAULT_TIMEOUT, RetryPolicy, cancellable_wait, make_session
from core.sources.refresh_lock import RefreshLock
from core.sources.salesforce_auth import (Authenticator, ClientCredentialsAuth, JwtAuth, KeyringTokenStore,
                              PasswordAuth, RefreshTokenAuth, StaticTokenAuth)

log = logging.getLogger(__name__)

SYSTEM = "salesforce"
T = TypeVar("T")
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
BULK_PAGE = 25_000  # records per Bulk result page: bounds the memory a page takes
# REQUEST_LIMIT_EXCEEDED means either the rolling 24-hour request budget is spent
# ("TotalRequests Limit exceeded.") or too many requests of 20 s or more run at once (25 in
# production and sandboxes, 5 in Developer Edition: "Salesforce Developer Limits and
# Allocations Quick Reference", API Request Limits; the message then names a concurrency
# limit, e.g. "ConcurrentPerOrgLongTxn Limit exceeded." or "ConcurrentRequests (Concurrent
# API Requests) Limit exceeded.", help article 000389067). The first frees up over hours,
# the second within seconds, so they are told apart and waited for differently.
CONCURRENCY_WAITS = (5.0, 15.0, 40.0)  # seconds before each new try
CONCURRENCY_RESUME = 120  # seconds: when to try again after the waits did not help


def limit_kind(message: str, usage: tuple[int, int] | None) -> str:
    """``"day"`` or ``"concurrency"`` for a REQUEST_LIMIT_EXCEEDED answer: by its message,
    else by ``Sforce-Limit-Info`` (requests left in the day: it was concurrency)."""
    text = message.lower()
    if "totalrequests" in text:
        return "day"
    if "concurrent" in text:
        return "concurrency"
    if usage is not None and usage[1] and usage[0] < usage[1]:
        return "concurrency"
    return "day"


def _error_code(exc: SalesforceError) -> str:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode") or "")
    return ""


def _error_message(exc: SalesforceError) -> str:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message") or "").strip()
    return ""


class _Client(Salesforce):
    """simple-salesforce, with answers decoded by orjson: a page of 2,000 records decodes
    several times faster than with the json module building OrderedDicts."""

    def parse_result_to_json(self, result: requests.Response):
        """The answer's JSON (plain dicts)."""
        return orjson.loads(result.content)


class SalesforceSource:
    """One org: sign-in, queries (REST and Bulk API 2.0), limits, and the calls spent.

    ``bulk_threshold``: an initial load of more records than this goes through a Bulk API
    2.0 query job. ``reserve``: the share of the org's daily API budget Concord leaves for
    other integrations (the pull stops before using it). ``sleep`` waits (backoff, bulk
    polls); tests pass a fake. ``page_size`` asks for smaller REST query pages (200-2000),
    ``bulk_page_size`` sets the records per Bulk result page.
    Set :attr:`cancel` to make waits end on a cancel.
    """

    system = SYSTEM

    def __init__(self, authenticator: Authenticator, *, api_version: str = SALESFORCE_API_VERSION,
                 ca_path: str | None = None, timeout=DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, bulk_threshold: int = 10_000,
                 reserve: float = 0.05, sleep: Callable[[float], object] | None = None,
                 page_size: int | None = None, bulk_page_size: int = BULK_PAGE,
                 label: str = "Salesforce"):
        self.auth = authenticator
        self.api_version = api_version
        self.bulk_threshold = bulk_threshold
        self.bulk_page_size = bulk_page_size
        self.reserve = reserve
        self.label = label
        # REST query page size (200..2000; Salesforce's default is 2000).
        self._query_headers = ({"Sforce-Query-Options": f"batchSize={page_size}"}
                               if page_size else {})
        self.cancel: threading.Event | None = None
        self._sleep = sleep
        retry = retry or RetryPolicy()
        retry.sleep = self.wait
        self.session, self.adapter = make_session(
            system=SYSTEM, ca_path=ca_path, timeout=timeout, retry=retry,
            read_posts=[r"/jobs/query/?$"],  # creating a query job only reads
            classify=lambda request: "api" if "/services/data/" in request.url else "auth",
            on_response=self._observe)
        self.usage: tuple[int, int] | None = None  # (used, daily budget) from Sforce-Limit-Info
        self._client: Salesforce | None = None
        self._token = None  # the token the client uses (told to the authenticator on a 401)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_profile(cls, workspace: Workspace, profile: Profile | None = None,
                     **options) -> "SalesforceSource":
        """The connection a workspace's profile describes, with secrets from the keyring.

        Raises :class:`~core.credentials.InsecureKeyringError` on an unsafe keyring and
        :class:`NotConnected` when a needed secret is missing.
        """
        profile = profile or workspace.load_profile()
        credentials.check_backend()
        name = workspace.name

        def secret(key: str, what: str) -> str:
            value = credentials.get_secret(name, key)
            if not value:
                raise NotConnected(SYSTEM, f"Workspace {name!r} has no Salesforce {what} in the "
                                           f"keyring; connect Salesforce again.")
            credentials.remember_for_redaction(value)
            return value

        def save_instance(url: str) -> None:
            current = workspace.load_profile()
            current.salesforce_instance_url = url
            workspace.save_profile(current)

        store = KeyringTokenStore(name, profile.salesforce_instance_url, save_instance)
        login = profile.salesforce_login_url
        method = profile.salesforce_auth
        if method == "pkce":
            auth: Authenticator = RefreshTokenAuth(
                login, profile.salesforce_client_id, store,
                client_secret=credentials.get_secret(name, credentials.SALESFORCE_CLIENT_SECRET),
                lock=RefreshLock.beside(workspace.path))
        elif method == "jwt":
            key = credentials.get_secret(name, credentials.SALESFORCE_PRIVATE_KEY)
            if not key and profile.salesforce_private_key_path:
                try:
                    key = Path(profile.salesforce_private_key_path).expanduser().read_text()
                except OSError as exc:
                    raise NotConnected(SYSTEM, f"Cannot read the JWT private key "
                                               f"{profile.salesforce_private_key_path}: "
                                               f"{exc.strerror}") from None
            if not key:
                raise NotConnected(SYSTEM, f"Workspace {name!r} has no JWT private key; set "
                                           f"its key file.")
            auth = JwtAuth(login, profile.salesforce_client_id, profile.salesforce_username, key,
                           store)
        elif method == "client_credentials":
            auth = ClientCredentialsAuth(login, profile.salesforce_client_id,
                                         secret(credentials.SALESFORCE_CLIENT_SECRET,
                                                "client secret"), store)
        else:
            auth = PasswordAuth(login, profile.salesforce_username,
                                secret(credentials.SALESFORCE_PASSWORD, "password"),
                                credentials.get_secret(name, credentials.SALESFORCE_SECURITY_TOKEN) or "",
                                profile.salesforce_api_version, store)
        options.setdefault("ca_path", profile.ca_path or None)
        options.setdefault("api_version", profile.salesforce_api_version)
        return cls(auth, **options)

    @classmethod
    def from_sandbox_info(cls, info: dict, *, auth: str = "client_credentials",
                          **options) -> "SalesforceSource":
        """A connection to a running sandbox, from its info file's contents (a dict).

        ``auth`` is ``client_credentials`` (renewable), ``token`` (the info's access token)
        or ``password`` (the legacy login).
        """
        sf = info["salesforce"]
        login = sf.get("login_url") or sf["instance_url"]
        if auth == "token":
            authenticator: Authenticator = StaticTokenAuth(sf["access_token"], sf["instance_url"])
        elif auth == "password":
            authenticator = PasswordAuth(login, sf["username"], sf["password"],
                                         sf["security_token"], sf.get("api_version", "59.0"))
        else:
            authenticator = ClientCredentialsAuth(login, sf["client_id"], sf["client_secret"])
        options.setdefault("ca_path", info.get("ca_path"))
        options.setdefault("label", "Salesforce sandbox")
        return cls(authenticator, **options)

    # -- state --------------------------------------------------------------------------------

    @property
    def notices(self) -> list[str]:
        """Warnings for the user about this connection (the legacy login's retirement)."""
        return [self.auth.notice] if self.auth.notice else []

    @property
    def api_calls(self) -> int:
        """REST/Bulk API requests sent (each retry counts; token requests do not)."""
        return self.adapter.calls["api"]

    @property
    def auth_calls(self) -> int:
        """Token and login requests sent."""
        return self.adapter.calls["auth"]

    def wait(self, seconds: float) -> None:
        """Wait (backoff, bulk polls); ends early with :class:`PullCancelled` on a cancel."""
        cancellable_wait(seconds, sleep=self._sleep, cancel=self.cancel)

    def _observe(self, response: requests.Response) -> None:
        info = response.headers.get("Sforce-Limit-Info")
        if info:
            match = _USAGE.search(info)
            if match:
                self.usage = (int(match.group(1)), int(match.group(2)))

    # -- calls --------------------------------------------------------------------------------

    def connect(self) -> Salesforce:
        """Sign in (or reuse the stored session) and return the simple-salesforce client."""
        if self._client is None:
            self.use_token(self.auth.token(self.session))
        return self._client  # type: ignore[return-value]

    def origin(self) -> str | None:
        """The organization's 15-character id (signs in if needed): a Salesforce session id
        starts with it (``00D...!``); ``None`` for a session of another shape."""
        session_id = self.connect().session_id or ""
        head, bang, _ = session_id.partition("!")
        return head[:15] if bang and head.startswith("00D") else None

    def use_token(self, token) -> None:
        """Use ``token`` for the calls from now on."""
        self._token = token
        self._client = _Client(instance_url=token.instance_url, session_id=token.access_token,
                               version=self.api_version, session=self.session)

    def call(self, what: str, fn: Callable[[Salesforce], T]) -> T:
        """Run ``fn(client)``; renew an expired session once; translate failures.

        ``what`` names the call in messages (e.g. ``"query Contact"``). A request refused
        because too many long requests run at once is waited out and sent again (it was
        refused, not run) up to :data:`CONCURRENCY_WAITS` times.
        """
        self._check_reserve()
        client = self.connect()
        renewed = False
        concurrency_waits = 0
        while True:
            try:
                return fn(client)
            except SalesforceExpiredSession:
                if renewed:
                    raise AuthError(SYSTEM, f"{self.label} refused a fresh session for {what}; "
                                            f"connect again.") from None
                log.info("Salesforce session expired during %s; renewing it", what)
                renewed = True
                self.use_token(self.auth.renew(self.session, failed=self._token))
                client = self._client
            except SalesforceRefusedRequest as exc:
                if _error_code(exc) != "REQUEST_LIMIT_EXCEEDED":
                    raise PermissionDenied(SYSTEM, f"{self.label} refused {what} "
                                                   f"({_error_code(exc) or 'HTTP 403'}): "
                                                   f"{_error_message(exc)}") from None
                if limit_kind(_error_message(exc), self.usage) == "day":
                    raise self._budget_error(what) from None
                if concurrency_waits >= len(CONCURRENCY_WAITS):
                    raise self._concurrency_error(what) from None
                log.info("Salesforce: too many long requests at once during %s; waiting", what)
                self.wait(CONCURRENCY_WAITS[concurrency_waits])
                concurrency_waits += 1
            except (SalesforceMalformedRequest, SalesforceResourceNotFound) as exc:
                code = _error_code(exc) or f"HTTP {exc.status}"
                raise QueryRefused(SYSTEM, f"{self.label} refused {what} ({code}): "
                                           f"{_error_message(exc)[:300]}", code) from None
            except SalesforceError as exc:
                status = getattr(exc, "status", 0) or 0
                if status >= 500:
                    raise SourceUnavailable(SYSTEM, f"{self.label} kept failing on {what} "
                                                    f"(HTTP {status}) after retries; pull "
                                                    f"again later.") from None
                raise SourceError(SYSTEM, f"{self.label} answered HTTP {status} to {what}: "
                                          f"{_error_message(exc)[:300]}") from None
            except PullCancelled:
                raise
            except (requests.RequestException, ValueError) as exc:
                # ValueError: a body that is not JSON (cut short, or not from Salesforce).
                raise SourceUnavailable(SYSTEM, f"Could not complete {what} with {self.label}: "
                                                f"{type(exc).__name__} after retries; pull "
                                                f"again later.") from None

    def _concurrency_error(self, what: str) -> BudgetExhausted:
        resume = datetime.now(UTC) + timedelta(seconds=CONCURRENCY_RESUME)
        return BudgetExhausted(
            SYSTEM, f"{self.label} refused {what}: too many long-running requests are running "
                    f"in the org at once (REQUEST_LIMIT_EXCEEDED, concurrent requests), even "
                    f"after waiting. This is not the daily budget; everything pulled so far is "
                    f"saved, and a pull in a minute or two continues where it stopped.",
            window="concurrency", resume_at=resume)

    def _check_reserve(self) -> None:
        if self.usage is None or not self.reserve:
            return
        used, budget = self.usage
        if budget and budget - used <= budget * self.reserve:
            raise BudgetExhausted(
                SYSTEM, f"Stopped before using the last {self.reserve:.0%} of the org's daily "
                        f"API budget ({used} of {budget} requests used in the rolling 24 hours), "
                        f"which is left for its other integrations. Everything pulled so far is "
                        f"saved; pull again once usage has dropped (within 24 hours).",
                window="reserve", resume_at=datetime.now(UTC) + timedelta(hours=24))

    def _budget_error(self, what: str) -> BudgetExhausted:
        usage = (f"{self.usage[0]} of {self.usage[1]} requests used"
                 if self.usage else "its daily request budget is spent")
        latest = datetime.now(UTC) + timedelta(hours=24)
        return BudgetExhausted(
            SYSTEM, f"{self.label} refused {what}: REQUEST_LIMIT_EXCEEDED ({usage} in the rolling "
                    f"24 hours). Everything pulled so far is saved. Requests free up as they "
                    f"age out of the 24-hour window; pull again later (at the latest after "
                    f"{latest:%Y-%m-%d %H:%M} UTC) and it continues where it stopped.",
            window="day", resume_at=latest)

    # -- queries ------------------------------------------------------------------------------

    def count(self, object_name: str) -> int:
        """``SELECT COUNT() FROM object`` (one call)."""
        page = self.call(f"count {object_name}",
                         lambda c: c.query(f"SELECT COUNT() FROM {object_name}"))
        return int(page.get("totalSize") or 0)

    def query(self, soql: str, *, include_deleted: bool = False, what: str = "query") -> dict:
        """The first page of a query (``queryAll`` with ``include_deleted``)."""
        return self.call(what, lambda c: c.query(soql, include_deleted=include_deleted,
                                                 headers=self._query_headers))

    def query_more(self, next_records_url: str, *, what: str = "query") -> dict:
        """The page at ``nextRecordsUrl`` (an absolute path, as Salesforce gives it)."""
        return self.call(what, lambda c: c.query_more(next_records_url, identifier_is_url=True,
                                                      headers=self._query_headers))

    def pages(self, soql: str, *, include_deleted: bool = False,
              what: str = "query") -> Iterator[dict]:
        """Every page of a query, as query/query_more answer them (``records``,
        ``totalSize``, ``done``); a session renewed mid-way continues at the same page."""
        page = self.query(soql, include_deleted=include_deleted, what=what)
        yield page
        while not page.get("done", True):
            page = self.query_more(page["nextRecordsUrl"], what=what)
            yield page

    def deleted(self, object_name: str, start: datetime, end: datetime) -> dict:
        """sObject Get Deleted: ``deletedRecords`` (id, deletedDate) between two aware
        datetimes, and ``latestDateCovered`` (one call)."""
        return self.call(f"read the delete log of {object_name}",
                         lambda c: getattr(c, object_name).deleted(start, end))

    def limits(self) -> dict:
        """The org's ``/limits`` (DailyApiRequests and others)."""
        return self.call("read limits", lambda c: c.limits())

    # -- email writes (core.sync.apply) ---------------------------------------------------------

    def read_emails(self, object_name: str, ids: list[str]) -> dict[str, dict]:
        """``Id -> {Email, SystemModstamp, LastModifiedDate, IsConverted?, ConvertedContactId?}``
        of up to 200 records of one object, read in one query (records not found are absent)."""
        fields = "Id, Email, SystemModstamp, LastModifiedDate"
        if object_name == "Lead":
            fields += ", IsConverted, ConvertedContactId"
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 200):
            quoted = ", ".join(f"'{i}'" for i in ids[start:start + 200] if re.fullmatch(r"\w{15,18}", i))
            if not quoted:
                continue
            for page in self.pages(f"SELECT {fields} FROM {object_name} WHERE Id IN ({quoted})",
                                   what=f"re-read {object_name} emails"):
                for record in page.get("records") or []:
                    found[record["Id"]] = record
        return found

    def update_emails(self, object_name: str, writes: list[tuple[str, str]]) -> list[dict]:
        """PATCH ``composite/sobjects`` (at most 200 records of one object, ``allOrNone``
        false): one SaveResult per write, in order. Raises :class:`WriteUnknown` when the
        request may have been applied but no readable answer came back."""
        if len(writes) > 200:
            raise ValueError("composite/sobjects takes at most 200 records per request")
        body = {"allOrNone": False, "records": [
            {"attributes": {"type": object_name}, "id": record_id, "Email": email}
            for record_id, email in writes]}
        what = f"update {len(writes)} {object_name} emails"
        results = self.call(what, lambda c: self._write(
            what, lambda: c.restful("composite/sobjects", method="PATCH", json=body)))
        if not isinstance(results, list) or len(results) != len(writes):
            raise WriteUnknown(SYSTEM, f"{self.label} answered {what} with something other "
                                       f"than one result per record.")
        return results

    def update_email(self, object_name: str, record_id: str, email: str,
                     unmodified_since: datetime | None) -> dict:
        """PATCH one record's Email; with ``unmodified_since`` (its LastModifiedDate as read)
        Salesforce refuses with 412 if it changed since. Returns a SaveResult-like dict
        (``success``, ``errors`` with ``statusCode`` ``PRECONDITION_FAILED`` on a 412)."""
        headers = {}
        if unmodified_since is not None:
            headers["If-Unmodified-Since"] = http_date(unmodified_since)
        what = f"update {object_name} {record_id}"

        def send(client: Salesforce):
            sobject = getattr(client, object_name)
            try:
                self._write(what, lambda: sobject.update(record_id, {"Email": email},
                                                         headers=headers))
            except SalesforceError as exc:
                status = getattr(exc, "status", 0) or 0
                if status == 412:
                    return {"id": record_id, "success": False, "errors": [{
                        "statusCode": "PRECONDITION_FAILED",
                        "message": "changed since it was read (If-Unmodified-Since)"}]}
                if status in (400, 404):
                    return {"id": record_id, "success": False, "errors": [{
                        "statusCode": _error_code(exc) or f"HTTP {status}",
                        "message": _error_message(exc)[:300]}]}
                raise
            return {"id": record_id, "success": True, "errors": []}

        return self.call(what, send)

    def _write(self, what: str, send: Callable[[], T]) -> T:
        """Send a write; an answer lost after sending becomes :class:`WriteUnknown`."""
        try:
            return send()
        except (requests.RequestException, ValueError) as exc:
            # A connection that could not even open is retried by the adapter; what reaches
            # here may have been applied.
            raise WriteUnknown(SYSTEM, f"{what}: no answer from {self.label} "
                                       f"({type(exc).__name__}); the record is re-read "
                                       f"before anything is sent again.") from None
        except SalesforceError as exc:
            if (getattr(exc, "status", 0) or 0) >= 500:
                raise WriteUnknown(SYSTEM, f"{what}: {self.label} answered HTTP {exc.status}; "
                                           f"the record is re-read before anything is sent "
                                           f"again.") from None
            raise

    # -- Bulk API 2.0 query jobs ------------------------------------------------------------------

    def _bulk(self, client: Salesforce, object_name: str):
        # simple-salesforce's job client: create, status and result pages one call at a
        # time, so a pull can keep the job id and locator and resume after a restart.
        return getattr(client.bulk2, object_name)._client

    def bulk_start(self, object_name: str, soql: str, *, include_deleted: bool = False) -> str:
        """Create a Bulk API 2.0 query job; returns its id."""
        operation = "queryAll" if include_deleted else "query"
        info = self.call(f"create a bulk query of {object_name}",
                         lambda c: self._bulk(c, object_name).create_job(operation, soql))
        return info["id"]

    def bulk_wait(self, object_name: str, job_id: str, *, poll: float = 1.0,
                  timeout: float = 6 * 3600) -> dict:
        """Poll a query job until it completes; returns its final info."""
        deadline = time.monotonic() + timeout
        delay = 0.0
        while True:
            info = self.call(f"check the bulk query of {object_name}",
                             lambda c: self._bulk(c, object_name).get_job(job_id, True))
            state = info.get("state")
            if state == "JobComplete":
                return info
            if state in ("Failed", "Aborted"):
                raise SourceError(SYSTEM, f"The bulk query of {object_name} ended {state}: "
                                          f"{info.get('errorMessage') or 'no reason given'}")
            if time.monotonic() > deadline:
                raise SourceUnavailable(SYSTEM, f"The bulk query of {object_name} did not finish "
                                                f"within {timeout / 3600:.0f} h.")
            delay = min(max(poll, delay * 2), 30.0) if delay else poll
            self.wait(delay)

    def bulk_job(self, object_name: str, job_id: str) -> dict | None:
        """A job's info, or None when Salesforce no longer has it (kept 7 days)."""
        try:
            return self.call(f"look up bulk query {job_id}",
                             lambda c: self._bulk(c, object_name).get_job(job_id, True))
        except QueryRefused:
            return None

    def bulk_page(self, object_name: str, job_id: str, locator: str = "",
                  max_records: int | None = None) -> tuple[list[dict], str]:
        """One page of a job's results as dicts of strings, and the next locator ("" at
        the end)."""
        result = self.call(f"read bulk results of {object_name}",
                           lambda c: self._bulk(c, object_name).get_query_results(
                               job_id, locator, max_records or self.bulk_page_size))
        rows = list(csv.DictReader(io.StringIO(result["records"])))
        if len(rows) != result["number_of_records"]:
            raise SourceUnavailable(SYSTEM, f"A bulk result page of {object_name} held "
                                            f"{len(rows)} rows where Salesforce announced "
                                            f"{result['number_of_records']}; pull again.")
        return rows, result["locator"] or ""


def http_date(when: datetime) -> str:
    """An HTTP date (RFC 7231, one-second resolution), as ``If-Unmodified-Since`` takes it."""
    from email.utils import format_datetime

    return format_datetime(when.astimezone(UTC).replace(microsecond=0), usegmt=True)
