"""The sandbox's notion of "now", shared by both emulators so tests can move time.

Apollo pulls Salesforce changes about every 30 minutes and rate-limit windows last a
minute, an hour and a day; a test cannot wait for any of that. Both stores and the rate
limiter read a :class:`SandboxClock`, which runs with real time from a chosen start and can
be pushed forward with :meth:`SandboxClock.advance`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


class SandboxClock:
    """A UTC clock that can be moved forward.

    Calling the clock (``clock()``) or :meth:`now` gives an aware UTC datetime. By default it
    runs with real time; ``frozen=True`` stops it until :meth:`advance` or :meth:`set` moves
    it. Successive readings never go backwards and never repeat, so ``updated_at`` and
    ``SystemModstamp`` values order every change even when two happen in the same
    millisecond.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False):
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("SandboxClock needs an aware datetime (UTC)")
        self._frozen = frozen
        self._base = start.astimezone(UTC)
        self._mono = time.monotonic()
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        """The current sandbox time (aware, UTC, strictly later than the last reading)."""
        with self._lock:
            current = self._base
            if not self._frozen:
                current = current + timedelta(seconds=time.monotonic() - self._mono)
            current = current.replace(microsecond=current.microsecond // 1000 * 1000)
            if self._last is not None and current <= self._last:
                current = self._last + timedelta(milliseconds=1)
            self._last = current
            return current

    def timestamp(self) -> float:
        """The current sandbox time as POSIX seconds."""
        return self.now().timestamp()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move the clock forward, e.g. ``advance(minutes=31)``; returns the new time."""
        step = (delta or timedelta()) + timedelta(**kwargs)
        if step < timedelta():
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._base += step
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (which must not be earlier than the current time)."""
        if when.tzinfo is None:
            raise ValueError("SandboxClock needs an aware datetime (UTC)")
        current = self.now()
        if when < current:
            raise ValueError(f"the sandbox clock only moves forward ({when} < {current})")
        return self.advance(when - current)


def as_clock(clock) -> SandboxClock | object:
    """``clock`` if given (any zero-argument callable returning an aware datetime), else a
    real-time :class:`SandboxClock`."""
    return clock if clock is not None else SandboxClock()


def iso_ms(when: datetime) -> str:
    """Apollo's timestamp format: ISO-8601 UTC with milliseconds and ``Z``."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_iso(value: str | None) -> datetime | None:
    """Parse an ISO-8601 timestamp from either system (``Z``, ``+00:00`` or ``+0000``)."""
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
