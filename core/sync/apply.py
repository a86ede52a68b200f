"""Write-back: a plan's journal rows carried out against both systems (DESIGN §5).

A run journals its plan (:mod:`core.sync.journal`) and commits it before anything is sent,
then works in rounds of up to 200 pairs whose Salesforce records are of one object:

1. **Re-read** every record the round touches: the Salesforce records in one query (Id,
   Email, SystemModstamp, LastModifiedDate), the Apollo contacts through one search sorted
   by ``contact_updated_at`` that returns every contact changed since the last look (Apollo
   has no conditional write). A row whose target no longer holds the value the plan saw, or
   whose pair's other record no longer holds what may be copied, becomes ``conflict`` and is
   never written; a target that already holds the new value is ``done`` without a send.
2. **Mark** the rest ``sent`` and commit; then **send**: Salesforce first (one row PATCH with
   ``If-Unmodified-Since`` for a single record, else one ``composite/sobjects`` PATCH of at
   most 200), then Apollo (``bulk_update`` of at most 100, answered synchronously with the
   updated contacts). Apollo pushes an Apollo edit to the linked Salesforce record at once,
   so Salesforce goes first and the push finds the value already there.
3. **Read back** the Salesforce records (one query; it also shows Apollo's pushes) and, only
   after an ambiguous Apollo answer, the Apollo feed again. ``done`` needs the target seen
   holding the new value. A target still holding the old value after an ambiguous or refused
   send is sent once more in the next pass (at most two sends per record); anything else
   is a ``conflict``. A definite refusal (``INVALID_EMAIL_ADDRESS``...) is ``failed``.
4. **Settle** in the same transaction: a pair whose writes are all ``done`` and whose two
   records are both seen holding the new value gets its cache rows set to that value and its
   base cleared (agreeing pairs keep no base), so the next pull does not take Concord's own
   write for a user's edit; the decision becomes ``applied`` (or ``conflict``/``failed``
   with the reason).

A run killed at any instant leaves rows ``planned`` or ``sent``; :func:`resume` (called
first by every apply and undo) finishes them through the same rounds, re-reading before any
send. Cancelling stops after the current round; rows not started become ``skipped``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from core import emails
from core.model import UTC
from core.sources.errors import (
    AuthError,
    BudgetExhausted,
    PermissionDenied,
    SourceError,
    WriteUnknown,
)
from core.store import runs
from core.store.cache import Cache, chunked, parse_time
from core.sync import journal
from core.sync.journal import Entry, checkpoint
from core.sync.plan import WritePlan
from core.sync.run_files import write_run_files
from core.sync.settle import id18, settle

ROUND = 200  # pairs per round: one composite/sobjects PATCH (≤200 records)
APOLLO_BATCH = 100  # bulk_update answers synchronously up to 100 contacts
MAX_SENDS = 2  # a record is sent at most twice (the second only after a re-read)
FEED_OVERLAP = timedelta(seconds=1)

Progress = Callable[[str, int, int], None]


@dataclass
class ApplySummary:
    """What one run did: the accounting ``done + conflict + failed + skipped = planned``."""

    run_id: int
    kind: str = "apply"
    planned: int = 0
    done: int = 0
    conflict: int = 0
    failed: int = 0
    skipped: int = 0
    api_calls: dict = field(default_factory=lambda: {"salesforce": 0, "apollo": 0})
    plan_hash: str = ""
    cancelled: bool = False
    resumed: list[int] = field(default_factory=list)
    success_csv: str | None = None
    error_csv: str | None = None
    apollo_race_window: float = 0.0  # longest seconds between an Apollo re-read and its write

    @property
    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.planned > self.done + self.conflict + self.failed + self.skipped:
            return "stopped"  # rows left open: the next run finishes them
        return "needs_review" if self.conflict or self.failed else "complete"

    def as_dict(self) -> dict:
        return asdict(self) | {"status": self.status}


class _Sent:
    """What a send said about one row: ``ok``, a definite refusal, or unknown."""

    def __init__(self, ok: bool | None, code: str | None = None, message: str | None = None):
        self.ok, self.code, self.message = ok, code, message


class Writer:
    """Carries out open journal rows of one run against both systems."""

    def __init__(self, cache: Cache, salesforce, apollo, *, progress: Progress | None = None,
                 cancel: threading.Event | None = None):
        self.cache = cache
        self.salesforce = salesforce
        self.apollo = apollo
        self.progress = progress or (lambda text, done, total: None)
        self.cancel = cancel
        self.apollo_seen: dict[str, dict] = {}
        newest = cache.conn.execute("SELECT max(updated_at) FROM apollo_contacts").fetchone()[0]
        start = parse_time(newest)
        self.apollo_since = (start - FEED_OVERLAP) if start else datetime(1970, 1, 1, tzinfo=UTC)
        self.cancelled = False
        self.stop: SourceError | None = None  # a failure that ends the run after its round
        self.apollo_first = False  # undo runs send Apollo before Salesforce
        # Apollo has no conditional write: an edit landing between a round's re-read and its
        # bulk_update is overwritten. The longest such window of the run is reported.
        self.race_window = 0.0

    # -- reading ---------------------------------------------------------------------------

    def _apollo_feed(self, ids: set[str]) -> None:
        """Learn the current state of every Apollo contact changed since the last look."""
        if not ids:
            return
        contacts, complete = self.apollo.changed_since(self.apollo_since)
        for contact in contacts:
            self.apollo_seen[str(contact["id"])] = contact
        if contacts:
            newest = max(parse_time(c.get("updated_at")) or self.apollo_since for c in contacts)
            self.apollo_since = max(self.apollo_since, newest)
        if not complete:  # too many changes to page through: read these contacts one by one
            for contact_id in ids:
                self.apollo_seen[contact_id] = self.apollo.contact(contact_id) or {"id": contact_id,
                                                                                  "missing": True}

    def _apollo_email(self, contact_id: str) -> tuple[bool, str | None]:
        """(exists, email) of an Apollo contact: as last seen, else as the pull left it."""
        seen = self.apollo_seen.get(contact_id)
        if seen is not None:
            return (not seen.get("missing"), seen.get("email"))
        row = self.cache.conn.execute("SELECT email FROM apollo_contacts WHERE id = ?",
                                      (contact_id,)).fetchone()
        return (row is not None, row[0] if row else None)

    def _sf_read(self, object_name: str, ids: set[str]) -> dict[str, dict]:
        if not ids:
            return {}
        found = self.salesforce.read_emails(object_name, sorted(ids))
        return {id18(k): v for k, v in found.items()}

    # -- the run -------------------------------------------------------------------------------

    def run(self, run_id: int) -> None:
        """Finish every open row of ``run_id``: rounds, then a second pass for rows to resend."""
        kind = self.cache.conn.execute("SELECT kind FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        self.apollo_first = bool(kind) and kind[0] == "undo"
        for _ in range(MAX_SENDS + 1):
            open_rows = journal.entries(self.cache, run_id, journal.OPEN_STATES)
            if not open_rows:
                return
            rounds = _rounds(open_rows)
            total = sum(len(r) for r in rounds)
            finished = 0
            for entries in rounds:
                if self.cancel is not None and self.cancel.is_set():
                    self._cancel_rest(run_id)
                    return
                self._round(entries)
                if self.stop is not None:
                    raise self.stop
                finished += len(entries)
                self.progress("writing", finished, total)

    def _cancel_rest(self, run_id: int) -> None:
        """Stop: rows not yet sent are skipped (they never left); the journal stays final and
        their pairs keep the status they had (the choice is still there to apply later)."""
        self.cancelled = True
        rest = [e.entry_id for e in journal.entries(self.cache, run_id, ("planned",))]
        with self.cache.transaction():
            journal.set_state(self.cache, rest, "skipped", code="CANCELLED",
                              error="cancelled before it was sent")

    def _round(self, entries: list[Entry]) -> None:
        sf_object = entries[0].object if entries[0].system == "salesforce" else entries[0].partner_object
        sf_ids = {e.record_id if e.system == "salesforce" else e.partner_id for e in entries}
        apollo_ids = {e.record_id if e.system == "apollo" else e.partner_id for e in entries}
        # 1. re-read both sides
        sf_now = self._sf_read(sf_object, sf_ids)
        self._apollo_feed(apollo_ids)
        read_at = time.monotonic()
        # 2. mark and send: Salesforce first, then Apollo (whose push then finds the value
        # there). An undo sends Apollo first, then re-reads Salesforce and checks its rows
        # against what Apollo's push left there (DESIGN §5: undo replays the run backwards).
        answers: dict[int, _Sent] = {}
        first, later = ("apollo", "salesforce") if self.apollo_first else ("salesforce", "apollo")
        sent_first = self._check_and_send(first, entries, sf_object, sf_now, answers)
        checkpoint("mid_round")
        if sent_first and first == "apollo" and any(e.system == "salesforce" for e in entries):
            sf_now = self._sf_read(sf_object, sf_ids)
        sent_later = self._check_and_send(later, entries, sf_object, sf_now, answers)
        to_send = sent_first + sent_later
        if any(e.system == "apollo" for e in to_send):
            self.race_window = max(self.race_window, time.monotonic() - read_at)
        # 3. read back: Salesforce when it was written (an Apollo write was checked by its
        # answer, and its Salesforce record held the value just before); Apollo again only
        # after an answer was lost
        sf_sent = any(e.system == "salesforce" for e in to_send)
        sf_after = self._sf_read(sf_object, sf_ids) if sf_sent else sf_now
        lost_apollo = [e for e in to_send if e.system == "apollo"
                       and answers.get(e.entry_id) and answers[e.entry_id].ok is None]
        if lost_apollo:
            self._apollo_feed({e.record_id for e in lost_apollo})
        checkpoint("during_readback")
        # 4. record and settle, in one transaction
        with self.cache.transaction():
            for e in to_send:
                state, seen, code, message = self._outcome(e, answers.get(e.entry_id), sf_after)
                journal.set_state(self.cache, [e.entry_id], state, seen=seen, code=code,
                                  error=message)
            settle(self.cache, entries[0].run_id, {e.link_id for e in entries}, sf_after,
                    self._apollo_email)
        checkpoint("after_round_commit")

    # -- the precondition and the outcome ------------------------------------------------------

    def _current(self, system: str, record_id: str, sf_now: dict) -> tuple[bool, str | None, dict]:
        if system == "salesforce":
            record = sf_now.get(id18(record_id))
            return (record is not None, (record or {}).get("Email"), record or {})
        exists, email = self._apollo_email(record_id)
        return exists, email, {}

    def _precheck(self, e: Entry, sf_now: dict) -> tuple[str, str | None, str | None, str | None]:
        """``(state, seen, code, message)``; state ``send`` when the write may go."""
        exists, email, record = self._current(e.system, e.record_id, sf_now)
        if not exists:
            return "failed", None, "NOT_FOUND", "the record no longer exists"
        key = emails.comparison_key(email)
        if key == e.new_key:
            return "done", email, None, None
        if record.get("IsConverted"):
            return "skipped", email, "CONVERTED_LEAD", "a converted Lead is never written"
        if not e.holds_old(key):
            return "conflict", email, "CHANGED", f"now holds {email or 'nothing'}, not " \
                                                 f"{e.old_email or 'nothing'}"
        p_exists, p_email, _ = self._current("apollo" if e.system == "salesforce" else "salesforce",
                                             e.partner_id, sf_now)
        if not p_exists or emails.comparison_key(p_email) not in e.partner_keys:
            side = "Apollo" if e.system == "salesforce" else "Salesforce"
            return "conflict", email, "PARTNER_CHANGED", \
                f"the {side} record now holds {p_email or 'nothing'}"
        if e.sends >= MAX_SENDS:
            return "failed", email, "NOT_APPLIED", f"still not applied after {e.sends} sends"
        return "send", None, None, None

    def _outcome(self, e: Entry, sent: _Sent | None, sf_after: dict):
        exists, email, _ = self._current(e.system, e.record_id, sf_after)
        key = emails.comparison_key(email)
        if exists and key == e.new_key:
            return "done", email, None, None
        if sent is not None and sent.ok is False and sent.code != "PRECONDITION_FAILED":
            return "failed", email, sent.code, sent.message
        if exists and e.holds_old(key):
            if e.sends + 1 < MAX_SENDS:
                # Not applied (refused by its precondition, or lost): re-read, send again.
                return "planned", email, sent.code if sent else None, sent.message if sent else None
            return "failed", email, "NOT_APPLIED", f"still not applied after {e.sends + 1} sends"
        if not exists:
            return "failed", None, "NOT_FOUND", "the record no longer exists"
        return "conflict", email, "CHANGED", f"now holds {email or 'nothing'}"

    # -- sending -------------------------------------------------------------------------------

    def _check_and_send(self, system: str, entries: list[Entry], sf_object: str, sf_now: dict,
                        answers: dict[int, _Sent]) -> list[Entry]:
        """Check one system's rows of a round against what was just read; record those that
        cannot go, commit the rest ``sent``, send them; returns the rows sent."""
        rows = [e for e in entries if e.system == system]
        if not rows:
            return []
        verdicts = {e.entry_id: self._precheck(e, sf_now) for e in rows}
        to_send = [e for e in rows if verdicts[e.entry_id][0] == "send"]
        with self.cache.transaction():
            for e in rows:
                state, seen, code, message = verdicts[e.entry_id]
                if state != "send":
                    journal.set_state(self.cache, [e.entry_id], state, seen=seen, code=code,
                                      error=message)
            journal.set_state(self.cache, [e.entry_id for e in to_send], "sent", sent=True)
        checkpoint("after_mark_sent")
        if system == "salesforce" and to_send:
            answers.update(self._send_salesforce(sf_object, to_send, sf_now))
            checkpoint("after_send")
        for batch in chunked(to_send if system == "apollo" else [], APOLLO_BATCH):
            answers.update(self._send_apollo(batch))
            checkpoint("after_send")
        return to_send

    def _send_salesforce(self, object_name: str, rows: list[Entry], sf_now: dict) -> dict[int, _Sent]:
        try:
            if len(rows) == 1:
                e = rows[0]
                read = sf_now.get(id18(e.record_id)) or {}
                results = [self.salesforce.update_email(
                    object_name, e.record_id, e.new_email, parse_time(read.get("LastModifiedDate")))]
            else:
                results = self.salesforce.update_emails(
                    object_name, [(e.record_id, e.new_email) for e in rows])
        except WriteUnknown:
            return {e.entry_id: _Sent(None) for e in rows}
        except SourceError as exc:
            return self._refused(rows, exc)
        answers = {}
        for e, result in zip(rows, results):
            if result.get("success"):
                answers[e.entry_id] = _Sent(True)
            else:
                error = (result.get("errors") or [{}])[0]
                answers[e.entry_id] = _Sent(False, error.get("statusCode") or "ERROR",
                                            str(error.get("message") or "")[:300])
        return answers

    def _send_apollo(self, rows: list[Entry]) -> dict[int, _Sent]:
        try:
            answer = self.apollo.update_emails([(e.record_id, e.new_email) for e in rows])
        except WriteUnknown:
            return {e.entry_id: _Sent(None) for e in rows}
        except SourceError as exc:
            return self._refused(rows, exc)
        for contact in answer.get("contacts") or []:
            if isinstance(contact, dict) and contact.get("id"):
                self.apollo_seen[str(contact["id"])] = contact
        missing = {str(i) for i in answer.get("missing_contacts") or []}
        failed = {str(f.get("id")): str(f.get("error") or "") for f in
                  answer.get("failed_contacts") or [] if isinstance(f, dict)}
        answers = {}
        for e in rows:
            if e.record_id in missing:
                answers[e.entry_id] = _Sent(False, "NOT_FOUND", "Apollo has no such contact")
            elif e.record_id in failed:
                answers[e.entry_id] = _Sent(False, "REFUSED", failed[e.record_id][:300])
            else:
                answers[e.entry_id] = _Sent(True)
        return answers


    def _refused(self, rows: list[Entry], exc: SourceError) -> dict[int, _Sent]:
        """A whole request refused, so nothing of it was applied: its rows fail with the
        reason. A spent budget or refused credentials also stop the run after this round
        (its remaining rows stay planned and the next run resumes them)."""
        if isinstance(exc, (BudgetExhausted, AuthError, PermissionDenied)):
            self.stop = exc
        code = getattr(exc, "code", "") or type(exc).__name__
        return {e.entry_id: _Sent(False, code, str(exc)[:300]) for e in rows}


def _rounds(entries: list[Entry]) -> list[list[Entry]]:
    """Rows grouped by the Salesforce object of their pair, at most ``ROUND`` pairs a round;
    a pair's rows always share a round."""
    by_object: dict[str, dict[int, list[Entry]]] = {}
    for e in entries:
        sf_object = e.object if e.system == "salesforce" else e.partner_object
        by_object.setdefault(sf_object, {}).setdefault(e.link_id, []).append(e)
    rounds = []
    for links in by_object.values():
        # Pairs that write Salesforce share rounds, so a round that writes only Apollo costs
        # Salesforce a single read (its precondition).
        writes_sf = [p for p in links.values() if any(e.system == "salesforce" for e in p)]
        apollo_only = [p for p in links.values() if all(e.system == "apollo" for e in p)]
        for pairs in (writes_sf, apollo_only):
            for start in range(0, len(pairs), ROUND):
                rounds.append([e for pair in pairs[start:start + ROUND] for e in pair])
    return rounds


# -- runs ----------------------------------------------------------------------------------------


def _calls(salesforce, apollo) -> dict[str, int]:
    return {"salesforce": salesforce.api_calls if salesforce else 0,
            "apollo": apollo.api_calls if apollo else 0}


def finish_run(cache: Cache, summary: ApplySummary, out_dir: Path | None) -> ApplySummary:
    """Count the run's rows, write its success and error CSVs, close its ``runs`` row."""
    counts = journal.counts(cache, summary.run_id)
    summary.planned = sum(counts.values())
    summary.done, summary.conflict = counts["done"], counts["conflict"]
    summary.failed, summary.skipped = counts["failed"], counts["skipped"]
    if out_dir is not None:
        success, errors = write_run_files(journal.entries(cache, summary.run_id), out_dir,
                                          summary.run_id)
        summary.success_csv, summary.error_csv = str(success), str(errors)
    checkpoint("before_run_finish")
    runs.finish(cache, summary.run_id, summary.status, summary.as_dict(), summary.api_calls)
    return summary


def resume(cache: Cache, salesforce, apollo, *, out_dir: Path | None = None,
           progress: Progress | None = None) -> list[ApplySummary]:
    """Finish every run a crash (or a kill) left open, re-reading before any send."""
    finished = []
    for run_id in journal.unfinished_runs(cache):
        row = cache.conn.execute("SELECT kind FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        before = _calls(salesforce, apollo)
        Writer(cache, salesforce, apollo, progress=progress).run(run_id)
        after = _calls(salesforce, apollo)
        summary = ApplySummary(run_id, row[0] if row else "apply",
                               api_calls={k: after[k] - before[k] for k in after})
        finished.append(finish_run(cache, summary, out_dir))
    return finished


def apply_plan(cache: Cache, salesforce, apollo, plan: WritePlan, *,
               out_dir: Path | None = None, progress: Progress | None = None,
               cancel: threading.Event | None = None, kind: str = "apply",
               undoes: Sequence[int] | None = None) -> ApplySummary:
    """Journal ``plan`` and write it; an unfinished earlier run is finished first."""
    # The journal cannot be rebuilt from the remotes: every commit of a write-back reaches
    # the disk before the request it allows is sent (WAL with NORMAL may lose the last
    # commits on a power cut).
    cache.conn.execute("PRAGMA synchronous=FULL")
    try:
        return _apply(cache, salesforce, apollo, plan, out_dir=out_dir, progress=progress,
                      cancel=cancel, kind=kind, undoes=undoes)
    finally:
        cache.conn.execute("PRAGMA synchronous=NORMAL")


def _apply(cache: Cache, salesforce, apollo, plan: WritePlan, *, out_dir, progress, cancel,
           kind, undoes) -> ApplySummary:
    resumed = resume(cache, salesforce, apollo, out_dir=out_dir, progress=progress)
    before = _calls(salesforce, apollo)
    run_id, _ = runs.start(cache, kind)
    journal.record(cache, run_id, plan.writes, undoes)
    checkpoint("undo_after_journal_commit" if kind == "undo" else "after_journal_commit")
    writer = Writer(cache, salesforce, apollo, progress=progress, cancel=cancel)
    try:
        writer.run(run_id)
    finally:
        # Also when a spent budget or a failure stops the run: its rows so far are final or
        # still open (the next run resumes those), and the run says how far it got.
        after = _calls(salesforce, apollo)
        summary = ApplySummary(run_id, kind, plan_hash=plan.digest(),
                               cancelled=writer.cancelled, resumed=[r.run_id for r in resumed],
                               api_calls={k: after[k] - before[k] for k in after},
                               apollo_race_window=round(writer.race_window, 3))
        finish_run(cache, summary, out_dir)
    return summary
