"""Typed failures of the connections to Apollo and Salesforce.

Each names the system, what went wrong and what the user can do. Messages never carry a
secret: they are built from codes and counts, and scrubbed with
:func:`core.credentials.redact` whenever they include text from a server.
"""

from __future__ import annotations

from datetime import datetime

from core.credentials import redact


class SourceError(Exception):
    """A system could not be used; ``system`` is ``"salesforce"`` or ``"apollo"``."""

    def __init__(self, system: str, message: str):
        super().__init__(redact(message))
        self.system = system


class NotConnected(SourceError):
    """The workspace has no stored credentials for a system: connect first."""


class AuthError(SourceError):
    """The system refused the credentials (expired, revoked, wrong); sign in again."""


class PermissionDenied(SourceError):
    """The credentials work but may not call something Concord needs."""


class SourceUnavailable(SourceError):
    """The system could not be reached or kept failing after retries (network, 5xx)."""


class QueryRefused(SourceError):
    """The system refused a query (Salesforce MALFORMED_QUERY, INVALID_TYPE...).

    ``code`` is the API's error code.
    """

    def __init__(self, system: str, message: str, code: str = ""):
        super().__init__(system, message)
        self.code = code


class BudgetExhausted(SourceError):
    """An API budget is spent (Salesforce daily requests, Apollo hour/day window).

    The pull stops cleanly with everything fetched so far saved; ``resume_at`` is the
    earliest time a new pull can continue (None when unknown), ``window`` the budget that
    ran out (``day``, ``hour``, ``minute``, ``reserve``, or ``concurrency``: Salesforce's
    limit on long requests running at once, which frees up within seconds).
    """

    def __init__(self, system: str, message: str, *, window: str = "day",
                 resume_at: datetime | None = None):
        super().__init__(system, message)
        self.window = window
        self.resume_at = resume_at


class PullCancelled(Exception):
    """The user cancelled a pull; everything committed before stays."""


class WriteUnknown(SourceError):
    """A write may or may not have been applied: the request left, but the answer was lost
    (timeout, dropped connection, a body cut short, a 5xx). Never resend blindly: re-read the
    target and decide from what it holds."""
