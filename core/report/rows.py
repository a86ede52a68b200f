"""What a report holds, as plain data: its columns and its rows, streamed once.

A :class:`Report` is the same whatever the format: the CSV, XLSX and HTML writers only
render it. :func:`conflict_report` reads the pairs through the window's own query
(:class:`core.store.pairs.PairQuery`, :meth:`core.store.pairs.ListReader.stream`) and the
facts through :func:`core.store.details.pair_facts`, so a report holds exactly the pairs the
list shows for the same filter. Words come from :mod:`core.labels`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from core import __version__, emails
from core.labels import (
    MISSED_CAUSE_LABELS,
    OUTCOME_LABELS,
    RULE_LABELS,
    SIDE_NAMES,
    STATUS_LABELS,
    STRENGTH_LABELS,
    direction_sentence,
)
from core.model import UTC, DecisionStatus, EditTime, Outcome
from core.store.cache import parse_time
from core.store.details import APOLLO_CONTACT_URL, TIME_SOURCE_LABELS, PairFacts, pair_facts
from core.store.pairs import VIEW_LABELS, ListReader, PairQuery
from core.sync.reconcile import Cancelled

Progress = Callable[[str, int, int], None]


class ReportError(Exception):
    """A report cannot be written as asked (the message says why and what to do)."""


@dataclass(frozen=True)
class Column:
    """One column: its key, its title (also how a previous report's column is recognised),
    its width in characters, and for an email the column it is compared with."""

    key: str
    title: str
    width: int = 16
    compare_with: str | None = None


@dataclass
class Report:
    """A report: what it is, lines about it, its columns, and its rows (lists of cell texts
    in column order, read once). ``tally`` counts rows by (rule, strength) as they stream."""

    kind: str  # "conflicts" | "runs"
    title: str
    columns: list[Column]
    rows: Iterable[list[str]]
    total: int
    about: list[tuple[str, str]] = field(default_factory=list)
    tally: Counter = field(default_factory=Counter)
    delta: Counter | None = None  # new / still open / resolved, once compared

    @property
    def titles(self) -> list[str]:
        return [c.title for c in self.columns]

    def index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def compared(self) -> dict[int, tuple[int, int]]:
        """Email columns compared with each other: column → (other column, 0 if it is the
        first of the two, else 1)."""
        out = {}
        for i, column in enumerate(self.columns):
            if column.compare_with:
                other = self.index(column.compare_with)
                out[i] = (other, 0 if i < other else 1)
        return out

    @staticmethod
    def marked(row: list[str], c: int, compared: dict[int, tuple[int, int]]
               ) -> list[tuple[bool, str]]:
        """Cell ``c`` of ``row`` in runs of text, each flagged when it is part of the
        difference from the cell it is compared with (:func:`core.emails.diff`); one
        unflagged run when the two agree or either is blank."""
        other, side = compared[c]
        value, against = row[c], row[other]
        if not value or not against or emails.same(value, against):
            return [(False, value)]
        a, b = (value, against) if side == 0 else (against, value)
        runs = []
        for seg in emails.diff(a, b):
            text = seg.a if side == 0 else seg.b
            if not text:
                continue
            flag = seg.op != "equal"
            if runs and runs[-1][0] == flag:
                runs[-1] = (flag, runs[-1][1] + text)
            else:
                runs.append((flag, text))
        return runs


# The key columns identify a pair across reports (link ids are private to one cache).
KEY_COLUMNS = ("apollo_id", "sf_id")

CONFLICT_COLUMNS = [
    Column("name", "Person", 22), Column("company", "Company", 20),
    Column("apollo_id", "Apollo id", 26), Column("apollo_link", "Apollo link", 30),
    Column("sf_object", "Salesforce object", 10), Column("sf_id", "Salesforce id", 20),
    Column("sf_link", "Salesforce link", 30),
    Column("apollo_email", "Apollo email", 30, compare_with="sf_email"),
    Column("sf_email", "Salesforce email", 30, compare_with="apollo_email"),
    Column("apollo_email_status", "Apollo email status", 12),
    Column("sf_bounced_at", "Salesforce bounced", 18),
    Column("sf_bounce_reason", "Salesforce bounce reason", 20),
    Column("base_email", "Last agreed email (base)", 28),
    Column("apollo_edit", "Apollo email set", 20), Column("apollo_edit_source", "Apollo time source", 20),
    Column("sf_edit", "Salesforce email set", 20), Column("sf_edit_source", "Salesforce time source", 20),
    Column("native_winner", "Apollo's sync: winner", 12),
    Column("native_rule", "Apollo's sync: rule", 30),
    Column("outcome", "Apollo's sync: next", 10), Column("due", "Due by", 18),
    Column("rec_winner", "Recommended winner", 12), Column("rec_email", "Recommended email", 28),
    Column("rec_rule", "Recommendation rule", 30), Column("strength", "Strength", 10),
    Column("reason", "Reason", 60), Column("choice", "Your choice", 30),
    Column("status", "Status", 10), Column("write_outcome", "Write outcome", 24),
]

_RULE_TEXT = {rule: f"{label} ({rule})" for rule, label in RULE_LABELS.items()}
_STRENGTH_TEXT = {s.value: label for s, label in STRENGTH_LABELS.items()}
_STATUS_TEXT = {s.value: label for s, label in STATUS_LABELS.items()}
_WRITTEN = (DecisionStatus.APPLIED, DecisionStatus.FAILED, DecisionStatus.CONFLICT)


def rule_text(rule: str | None) -> str:
    """A rule in plain words with its code beside it."""
    return _RULE_TEXT.get(rule, rule or "") if rule else ""


def _minute(when: datetime) -> str:
    return when.isoformat(" ", "minutes")[:16]


def _stamp(text: str | None) -> str:
    """A cached timestamp to the minute, in UTC."""
    return _minute(parse_time(text)) if text else ""


def edit_text(edit: EditTime) -> str:
    """When an email was set: a time, an interval, or an upper bound (``≤``)."""
    if edit.latest is None:
        return ""
    if edit.earliest is None:
        return f"≤ {_minute(edit.latest)}"
    if edit.earliest == edit.latest:
        return _minute(edit.latest)
    return f"{_minute(edit.earliest)} – {_minute(edit.latest)}"


def _outcome(f: PairFacts) -> str:
    """What Apollo's sync does next, in the window's words (and why it missed, if known)."""
    if not f.outcome or f.outcome == Outcome.NONE:
        return ""
    text = OUTCOME_LABELS.get(f.outcome, f.outcome)
    if f.outcome == Outcome.MISSED and f.missed_cause:
        text += f": {MISSED_CAUSE_LABELS.get(f.missed_cause, f.missed_cause)}"
    return text


def _write_outcome(f: PairFacts) -> str:
    if f.status not in _WRITTEN:
        return ""
    label = _STATUS_TEXT[f.status]
    return f"{label}: {f.error}" if f.error else label


def conflict_cells(f: PairFacts, instance_url: str = "") -> list[str]:
    """One pair as the cells of :data:`CONFLICT_COLUMNS`."""
    return [
        f.name, f.company, f.apollo_id or "",
        APOLLO_CONTACT_URL.format(id=f.apollo_id) if f.apollo_id else "",
        f.sf_object or "", f.sf_id or "",
        f"{instance_url.rstrip('/')}/{f.sf_id}" if f.sf_id and instance_url else "",
        f.apollo_email or "", f.sf_email or "", f.apollo_email_status or "",
        _stamp(f.sf_bounced_at), f.sf_bounce_reason or "", f.base_email or "",
        edit_text(f.apollo_edit), TIME_SOURCE_LABELS[f.apollo_edit.source.value] if f.apollo_id else "",
        edit_text(f.sf_edit), TIME_SOURCE_LABELS[f.sf_edit.source.value] if f.sf_id else "",
        SIDE_NAMES.get(f.native_winner, f.native_winner), rule_text(f.native_rule),
        _outcome(f), _stamp(f.due),
        SIDE_NAMES.get(f.rec_winner, f.rec_winner), f.rec_email or "", rule_text(f.rec_rule),
        _STRENGTH_TEXT.get(f.strength, f.strength), f.reason,
        direction_sentence(f.choice, f.choice_email) if f.choice else "",
        _STATUS_TEXT.get(f.status, f.status), _write_outcome(f),
    ]


def describe_query(query: PairQuery) -> str:
    """The list's filter in words."""
    parts = [VIEW_LABELS.get(query.view, query.view)]
    if query.rule:
        parts.append(f"rule {rule_text(query.rule)}")
    if query.strength:
        parts.append(f"strength {_STRENGTH_TEXT.get(query.strength, query.strength)}")
    if query.text.strip():
        parts.append(f"containing “{query.text.strip()}”")
    return "; ".join(parts)


def conflict_report(cache, query: PairQuery, *, instance_url: str = "",
                    progress: Progress | None = None, cancel: threading.Event | None = None,
                    batch: int = 4096) -> Report:
    """The pairs of ``query`` as a report (rows are read from ``cache`` as they are written;
    ``cancel`` stops between batches with :class:`core.sync.reconcile.Cancelled`)."""
    total, batches = ListReader(cache).stream(query, batch)
    report = Report("conflicts", "Email conflicts between Apollo and Salesforce",
                    list(CONFLICT_COLUMNS), [], total,
                    about=[("Pairs", describe_query(query)),
                           ("Generated", _minute(datetime.now(UTC)) + " UTC"),
                           ("Rows", f"{total:,}"), ("Concord", __version__)])

    def rows() -> Iterator[list[str]]:
        tally = report.tally
        for first, last in batches:
            if cancel is not None and cancel.is_set():
                raise Cancelled("The export was cancelled.")
            for f in pair_facts(cache, positions=(first, last)):
                tally[(f.rec_rule, f.strength)] += 1
                yield conflict_cells(f, instance_url)
            done = last + 1
            if progress is not None:
                progress("rows", done, total)

    report.rows = rows()
    return report
