"""Fixed-window request limits per route, the way Apollo counts API calls.

Apollo limits every endpoint per minute, hour and day with *fixed* windows: a window opens
on the first request after the previous one ended and counts every request until it
closes. A request is refused when any window is spent; refused requests are not counted.
Time comes from the sandbox clock so a test can move past a window instead of waiting.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

WINDOW_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
WINDOW_ORDER = ("minute", "hour", "day")


@dataclass(frozen=True)
class WindowUsage:
    """One window of one route after a request: its limit, what was used, when it ends."""

    window: str
    limit: int | None  # None = unlimited
    used: int
    ends_at: float  # POSIX seconds; when the window closes

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go through and the usage of each window."""

    allowed: bool
    route: str
    usage: dict[str, WindowUsage]
    spent: str | None = None  # the window that refused the request
    retry_after: int | None = None  # whole seconds until that window ends


class RateLimiter:
    """Counts requests per route in fixed minute/hour/day windows.

    ``limits`` maps a window name (``minute``, ``hour``, ``day``) to its limit; a missing or
    ``None`` limit means unlimited. ``clock`` is a zero-argument callable returning an aware
    datetime (the sandbox clock).
    """

    def __init__(self, limits: Mapping[str, int | None], *, clock: Callable[[], datetime]):
        unknown = set(limits) - set(WINDOW_SECONDS)
        if unknown:
            raise ValueError(f"unknown rate-limit windows {sorted(unknown)}; use minute, hour, day")
        self.limits = {w: limits.get(w) for w in WINDOW_ORDER}
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], list[float]] = {}  # (route, window) → [start, count]

    def _now(self) -> float:
        return self._clock().timestamp()

    def _window(self, route: str, window: str, now: float, *, open_: bool) -> list[float]:
        state = self._windows.get((route, window))
        if state is None or now >= state[0] + WINDOW_SECONDS[window]:
            state = [now, 0]
            if open_:  # only a counted request opens a window
                self._windows[(route, window)] = state
        return state

    def hit(self, route: str) -> Verdict:
        """Count one request to ``route`` if every window allows it."""
        return self._check(route, count=True)

    def _check(self, route: str, *, count: bool) -> Verdict:
        with self._lock:
            now = self._now()
            states = {w: self._window(route, w, now, open_=count) for w in WINDOW_ORDER}
            spent = None
            # The longest spent window is the one that binds: report day over hour over minute.
            for window in reversed(WINDOW_ORDER):
                limit = self.limits[window]
                if limit is not None and states[window][1] >= limit:
                    spent = window
                    break
            if spent is None and count:
                for state in states.values():
                    state[1] += 1
            usage = {w: WindowUsage(w, self.limits[w], int(s[1]), s[0] + WINDOW_SECONDS[w])
                     for w, s in states.items()}
            retry = None
            if spent is not None:
                retry = max(1, math.ceil(usage[spent].ends_at - now))
            return Verdict(spent is None, route, usage, spent, retry)

    def seconds_left(self, route: str, window: str) -> int:
        """Whole seconds until ``route``'s ``window`` closes (a full window if none is open)."""
        with self._lock:
            now = self._now()
            state = self._windows.get((route, window))
            if state is None or now >= state[0] + WINDOW_SECONDS[window]:
                return WINDOW_SECONDS[window]
            return max(1, math.ceil(state[0] + WINDOW_SECONDS[window] - now))

    def reset(self) -> None:
        """Forget every window (a fresh day for every route)."""
        with self._lock:
            self._windows.clear()
