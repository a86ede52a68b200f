"""Faults on demand: rules that make an emulator misbehave on chosen routes.

A rule names a *kind*, which requests it applies to (HTTP method, a regular expression on
the path), and how often: every time, ``count`` times, or with a ``probability`` drawn from
a seeded generator so runs repeat. Generic kinds are carried out by the HTTP server itself
(``latency``, ``status``, ``drop``, ``drop_after``, ``truncate``); each emulator adds its own
(``rate_limit``, ``session_expiry``, ``concurrent_edit``, ...) through hooks.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field

GENERIC_KINDS = frozenset({"latency", "status", "drop", "drop_after", "truncate"})


@dataclass
class FaultRule:
    """One fault: what happens, to which requests, and how often.

    ``params`` by kind: ``latency`` → ``seconds``; ``status`` → ``status`` (default 503) and
    optional ``body``; ``truncate`` → ``fraction`` of the body sent (default 0.5). ``drop``
    closes the connection before the request is handled, ``drop_after`` after it was applied.
    """

    kind: str
    route: str | None = None  # regular expression searched in the path
    method: str | None = None
    probability: float | None = None
    count: int | None = None  # remaining firings; None = unlimited
    params: dict = field(default_factory=dict)
    fired: int = 0
    id: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.route or re.search(self.route, path) is not None

    def as_dict(self) -> dict:
        return asdict(self)


class FaultPlan:
    """The faults active on one emulator; safe to change from any thread while it serves."""

    def __init__(self, seed: int = 0):
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._next_id = 1

    def add(self, kind: str, *, route: str | None = None, method: str | None = None,
            probability: float | None = None, count: int | None = None, **params) -> FaultRule:
        """Add a fault and return it (its ``fired`` counter shows how often it struck)."""
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within 0..1, got {probability}")
        if count is not None and count < 0:
            raise ValueError(f"count must be positive, got {count}")
        if route is not None:
            re.compile(route)
        with self._lock:
            rule = FaultRule(kind, route, method, probability, count, dict(params), id=self._next_id)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def add_dict(self, spec: dict) -> FaultRule:
        """Add a fault described as JSON (the admin endpoint's body)."""
        spec = dict(spec)
        try:
            kind = spec.pop("kind")
        except KeyError:
            raise ValueError("a fault needs a 'kind'") from None
        params = dict(spec.pop("params", {}) or {})
        known = {"route", "method", "probability", "count"}
        params.update({k: spec.pop(k) for k in list(spec) if k not in known})
        return self.add(kind, **spec, **params)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def draw(self, method: str, path: str) -> list[FaultRule]:
        """The rules that strike this request (each rule's counters are updated)."""
        struck = []
        with self._lock:
            for rule in self._rules:
                if rule.count is not None and rule.count <= 0:
                    continue
                if not rule.matches(method, path):
                    continue
                if rule.probability is not None and self._random.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                struck.append(rule)
        return struck
