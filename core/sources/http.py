"""The HTTP plumbing both connections share: one ``requests.Session`` per system whose
mounted adapter puts a timeout on every call, retries what is safe to retry, and counts
the calls made.

Retried, with exponential backoff and full jitter (a random wait between 0 and
``base * 2**attempt``, capped), at most ``attempts`` tries in all:

- reads (GET/HEAD, and POSTs the caller names as reads, such as Apollo's contact search or
  a Salesforce Bulk query job) after a connection error, a timeout, a truncated body, or a
  500/502/503/504 answer;
- any request whose connection could not even be opened (it never reached the server), and
  any request answered 503 (the server says it did not process it).

A write (PATCH, POST) that may have reached the server is never sent twice here: its
outcome is ambiguous and only the caller can re-read the target and decide.

The body of every non-streamed response is read inside the adapter, so a body cut short
is seen (and a read retried) here rather than later in the caller.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from core import __version__
from core.credentials import redact

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 120.0)  # (connect, read) seconds
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_READ_STATUSES = frozenset({500, 502, 503, 504})
USER_AGENT = f"Concord/{__version__}"


@dataclass
class RetryPolicy:
    """How often and how long to wait between tries (full jitter)."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 20.0
    max_retry_after: float = 120.0  # never wait longer than this on a server's Retry-After
    sleep: Callable[[float], object] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """The wait before try ``attempt + 2`` (``attempt`` counts from 0)."""
        return self.rng.uniform(0.0, min(self.cap, self.base * (2 ** attempt)))


def cancellable_wait(seconds: float, *, sleep=None, cancel=None) -> None:
    """Wait ``seconds`` (with an injected ``sleep`` in tests); a set ``cancel`` event ends the
    wait early with :class:`~core.sources.errors.PullCancelled`."""
    from core.sources.errors import PullCancelled

    if cancel is not None and cancel.is_set():
        raise PullCancelled()
    if seconds > 0:
        if sleep is not None:
            sleep(seconds)
        elif cancel is not None:
            cancel.wait(seconds)
        else:
            time.sleep(seconds)
    if cancel is not None and cancel.is_set():
        raise PullCancelled()


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds (either form), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _never_sent(exc: Exception) -> bool:
    """Whether a connection error happened before the request could reach the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        reason = getattr(current, "reason", None)
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = reason if isinstance(reason, BaseException) else nested or current.__cause__
    return False


_TRANSPORT_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                     requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


class ResilientAdapter(HTTPAdapter):
    """An adapter with a default timeout, safe retries, call counting and a response hook.

    ``read_posts`` are path patterns of POSTs that only read (safe to repeat).
    ``classify(request) -> str`` names the kind of each call for :attr:`calls` (for example
    ``"api"`` vs ``"auth"``); ``on_response(response)`` sees every answer, errors included.
    ``ca_path``, when set, is the only CA trusted, whatever the environment says.
    """

    def __init__(self, *, timeout=DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 read_posts: Iterable[str] = (), ca_path: str | None = None,
                 classify: Callable[[requests.PreparedRequest], str] | None = None,
                 on_response: Callable[[requests.Response], None] | None = None,
                 system: str = "http"):
        super().__init__(pool_connections=4, pool_maxsize=8)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.read_posts = [re.compile(p) for p in read_posts]
        self.ca_path = ca_path
        self.classify = classify or (lambda request: "api")
        self.on_response = on_response
        self.system = system
        self.calls: Counter[str] = Counter()
        self.retries = 0

    def _repeatable(self, request: requests.PreparedRequest) -> bool:
        if request.method in READ_METHODS:
            return True
        if request.method == "POST":
            path = requests.utils.urlparse(request.url).path
            return any(p.search(path) for p in self.read_posts)
        return False

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Send with the default timeout, retrying as the module describes."""
        timeout = timeout if timeout is not None else self.timeout
        if self.ca_path:
            verify = self.ca_path
        repeatable = self._repeatable(request)
        attempt = 0
        while True:
            self.calls[self.classify(request)] += 1
            try:
                response = super().send(request, stream=stream, timeout=timeout, verify=verify,
                                        cert=cert, proxies=proxies)
                if not stream:
                    response.content  # noqa: B018 - read now: a truncated body fails here
            except _TRANSPORT_ERRORS as exc:
                if (repeatable or _never_sent(exc)) and attempt + 1 < self.retry.attempts:
                    wait = self.retry.delay(attempt)
                    self._note_retry(request, f"{type(exc).__name__}", wait)
                    self.retry.sleep(wait)
                    attempt += 1
                    continue
                raise
            if self.on_response is not None:
                self.on_response(response)
            status = response.status_code
            if (status == 503 or (repeatable and status in RETRY_READ_STATUSES)) \
                    and attempt + 1 < self.retry.attempts:
                wait = retry_after_seconds(response)
                wait = self.retry.delay(attempt) if wait is None else min(wait, self.retry.max_retry_after)
                self._note_retry(request, f"HTTP {status}", wait)
                response.close()
                self.retry.sleep(wait)
                attempt += 1
                continue
            return response

    def _note_retry(self, request, what: str, wait: float) -> None:
        self.retries += 1
        path = requests.utils.urlparse(request.url).path
        log.info("%s: %s on %s %s; retrying in %.2f s", self.system, what, request.method,
                 redact(path), wait)


def make_session(*, system: str, ca_path: str | None = None, timeout=DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, read_posts: Iterable[str] = (),
                 classify=None, on_response=None) -> tuple[requests.Session, ResilientAdapter]:
    """A session for one system with a :class:`ResilientAdapter` on http and https.

    With ``ca_path`` (a sandbox), the environment's proxy and CA settings are ignored:
    ``REQUESTS_CA_BUNDLE`` would otherwise replace the certificate Concord was given.
    """
    session = requests.Session()
    adapter = ResilientAdapter(timeout=timeout, retry=retry, read_posts=read_posts,
                               ca_path=ca_path, classify=classify, on_response=on_response,
                               system=system)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    if ca_path:
        session.trust_env = False
        session.verify = ca_path
    return session, adapter
