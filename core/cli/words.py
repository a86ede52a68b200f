"""Small wording helpers for what the command line prints: counts and times."""

from __future__ import annotations

from core.store.cache import parse_time


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 record``, ``2,038 records``; ``plural`` for nouns that do not just take an s."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def local_time(text: str | None) -> str:
    """A cache timestamp as the user's local time with its zone: ``2026-03-01 10:00 CET``."""
    when = parse_time(text) if text else None
    if when is None:
        return "-"
    return when.astimezone().strftime("%Y-%m-%d %H:%M %Z")
