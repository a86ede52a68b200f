"""The user's decisions beside the engine's.

A choice is stored next to the recommendation (never instead of it), so "revert to
recommendation" is always possible. :mod:`core.sync.plan` turns choices and
recommendations into writes; nothing here talks to a remote system.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core import emails
from core.model import DecisionStatus
from core.store.cache import Cache, chunked, now_iso
from core.store.settings import load_settings

CHOICES = ("apollo", "salesforce", "skip", "custom")


class ChoiceError(ValueError):
    """A choice cannot be stored; the message says why (for example an invalid typed email)."""


def set_choice(cache: Cache, link_ids: Sequence[int], choice: str,
               email: str | None = None) -> list[int]:
    """Store the user's direction for pairs: keep ``apollo``, keep ``salesforce``, ``skip``,
    or ``custom`` with a typed ``email`` (validated as Salesforce would, with Email Address
    Internationalization as the workspace's settings say, like every other address). Returns
    the link ids that changed; pairs already in sync or without a decision are left alone."""
    if choice not in CHOICES:
        raise ChoiceError(f"choice must be one of {', '.join(CHOICES)}, got {choice!r}")
    typed = None
    if choice == "custom":
        if len(link_ids) != 1:
            # One address typed for several people would give all of them one mailbox.
            raise ChoiceError("a typed address is for one pair at a time; "
                              f"{len(link_ids):,} pairs were given")
        try:
            typed = emails.validate(email, allow_unicode=load_settings(cache).unicode_emails)
        except emails.EmailError as exc:
            raise ChoiceError(f"{email!r} cannot be used: {exc}") from None
    elif email is not None:
        raise ChoiceError("an email is only given with the 'custom' choice")
    status = DecisionStatus.SKIPPED if choice == "skip" else DecisionStatus.CHOSEN
    return _update(cache, link_ids,
                   "choice = ?, choice_email = ?, status = ?, error = NULL",
                   f"status != '{DecisionStatus.IN_SYNC}' AND EXISTS (SELECT 1 FROM links l WHERE l.link_id = "
                   "decisions.link_id AND l.apollo_id IS NOT NULL AND l.sf_id IS NOT NULL)",
                   (choice, typed, status))


def accept_recommendation(cache: Cache, link_ids: Sequence[int]) -> list[int]:
    """Choose what Concord recommends for each pair that has a recommended winner."""
    return _update(cache, link_ids,
                   f"choice = rec_winner, choice_email = NULL, status = '{DecisionStatus.CHOSEN}', error = NULL",
                   f"rec_winner IN ('apollo', 'salesforce') AND status != '{DecisionStatus.IN_SYNC}'")


def revert(cache: Cache, link_ids: Sequence[int]) -> list[int]:
    """Forget the user's choice: the pair follows the recommendation again."""
    return _update(cache, link_ids,
                   f"choice = NULL, choice_email = NULL, status = '{DecisionStatus.OPEN}', error = NULL",
                   "choice IS NOT NULL")


@dataclass(frozen=True, slots=True)
class ChoiceState:
    """A pair's choice as stored: what undo puts back."""

    link_id: int
    choice: str | None
    choice_email: str | None
    status: str
    error: str | None


def snapshot(cache: Cache, link_ids: Sequence[int]) -> tuple[ChoiceState, ...]:
    """The stored choices of ``link_ids`` (pairs without a decision are left out)."""
    states: list[ChoiceState] = []
    for chunk in chunked(link_ids):
        marks = ",".join("?" * len(chunk))
        states += (ChoiceState(*row) for row in cache.conn.execute(
            "SELECT link_id, choice, choice_email, status, error FROM decisions "
            f"WHERE link_id IN ({marks}) ORDER BY link_id", chunk))
    return tuple(states)


def restore(cache: Cache, states: Iterable[ChoiceState],
            only_if: Iterable[ChoiceState] = ()) -> list[int]:
    """Put choices back as ``states`` hold them; return the link ids that changed.

    With ``only_if``, a pair is restored only while it still holds that state: a pair written
    or decided again since then keeps what it has (undoing a choice never undoes a write).
    """
    expected = {s.link_id: s for s in only_if}
    wanted = [s for s in states if not expected or s.link_id in expected]
    changed: list[int] = []
    with cache.transaction():
        current = {s.link_id: s for s in snapshot(cache, [s.link_id for s in wanted])}
        for state in wanted:
            now = current.get(state.link_id)
            if now is None or now == state or (expected and now != expected[state.link_id]):
                continue
            cache.conn.execute(
                "UPDATE decisions SET choice = ?, choice_email = ?, status = ?, error = ? "
                "WHERE link_id = ?",
                (state.choice, state.choice_email, state.status, state.error, state.link_id))
            changed.append(state.link_id)
    return changed


def typed(cache: Cache, link_ids: Sequence[int]) -> list[int]:
    """The pairs among ``link_ids`` that hold an address the user typed."""
    found: list[int] = []
    for chunk in chunked(link_ids):
        found += (r[0] for r in cache.conn.execute(
            f"SELECT link_id FROM decisions WHERE choice = 'custom' "
            f"AND link_id IN ({','.join('?' * len(chunk))}) ORDER BY link_id", chunk))
    return found


def _update(cache: Cache, link_ids: Sequence[int], assignments: str, condition: str,
            values: tuple = ()) -> list[int]:
    """Apply one UPDATE (``values`` fill the assignments' ``?``) to the decisions of
    ``link_ids`` that meet ``condition``; return them."""
    changed: list[int] = []
    with cache.transaction():
        for chunk in chunked(link_ids):
            marks = ",".join("?" * len(chunk))
            cur = cache.conn.execute(
                f"UPDATE decisions SET {assignments} WHERE link_id IN ({marks}) AND {condition} "
                f"RETURNING link_id", (*values, *chunk))
            changed.extend(r[0] for r in cur.fetchall())
    return changed


def mark(cache: Cache, link_ids: Sequence[int], status: str, error: str | None = None) -> None:
    """Record an outcome on decisions (used by write-back: applied, failed, conflict)."""
    _update(cache, link_ids, "status = ?, error = ?, decided_at = ?", "1",
            (status, error, now_iso()))


__all__ = ["CHOICES", "ChoiceError", "ChoiceState", "accept_recommendation", "mark", "restore",
           "revert", "set_choice", "snapshot", "typed"]
