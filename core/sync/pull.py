"""The pull step: bring both systems' records into the workspace cache.

:func:`pull_all` pulls Salesforce (Contacts, Leads, their Email history) and then Apollo
(contacts, stages) through :class:`~core.sources.salesforce.SalesforceSource` and
:class:`~core.sources.apollo.ApolloSource`. Every batch of records is written in one
transaction together with the state that says how far the pull got (a watermark, a bulk
job's locator, a search plan's page), so a pull that is killed, cancelled or stopped by an
API limit continues where it stopped the next time, with nothing lost or duplicated.

Progress goes to a callback as :class:`PullProgress`; a ``threading.Event`` cancels
between batches (and ends any wait). Each call records a ``runs`` row (kind ``pull``) with
the API calls spent per system. What each system's pull does is in
:mod:`core.sync.pull_salesforce` and :mod:`core.sync.pull_apollo`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from core.store.cache import Cache, now_iso
from core.store.ingest import IngestCounts
from core.sources.errors import (AuthError, BudgetExhausted, NotConnected, PermissionDenied,
                             PullCancelled, SourceError)

log = logging.getLogger(__name__)

# What a system's pull ended as.
COMPLETE = "complete"  # everything read; the snapshot is whole
INCOMPLETE = "incomplete"  # read to the end, but some records could not be reached or read
STOPPED = "stopped"  # an API budget ran out; continues on the next pull
CANCELLED = "cancelled"  # the user cancelled; continues on the next pull
FAILED = "failed"  # could not run (sign-in, network, refused); the message says why
SKIPPED = "skipped"  # not attempted (no connection given, or the pull was cancelled before)
MAX_RECORD_ERRORS = 200  # kept per system and run; the count is always exact
PULL_CHECKPOINT_BYTES = 64 << 20  # WAL checkpoint interval while pulling


def pull_checkpoint_pages(cache: Cache) -> int:
    """:data:`PULL_CHECKPOINT_BYTES` in pages of this cache (``wal_autocheckpoint``'s unit)."""
    return PULL_CHECKPOINT_BYTES // cache.conn.execute("PRAGMA page_size").fetchone()[0]


@dataclass(frozen=True)
class PullProgress:
    """One progress report: ``system`` (``salesforce``/``apollo``), ``phase`` (``Contact``,
    ``Lead``, ``ContactHistory``, ``LeadHistory``, ``contacts``, ``stages``, ``waiting``...),
    records ``done`` of ``total`` in this phase (``total`` 0 = unknown), the API calls spent
    so far in this run per system, and an optional sentence (e.g. why it is waiting)."""

    system: str
    phase: str
    done: int
    total: int
    api_calls: dict
    message: str = ""


@dataclass
class SystemResult:
    """How one system's pull went."""

    system: str
    status: str = SKIPPED
    mode: str = ""  # incremental | full | bulk (how records were read this time)
    fetched: int = 0  # records received
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    email_changes: int = 0
    history_rows: int = 0
    api_calls: int = 0
    message: str = ""
    resume_at: str | None = None
    notices: list[str] = field(default_factory=list)
    record_errors: list[dict] = field(default_factory=list)  # {"id", "object", "error"}
    record_error_count: int = 0
    details: dict = field(default_factory=dict)

    def add_counts(self, counts: IngestCounts) -> None:
        """Add what one batch did to the totals."""
        self.fetched += counts.received
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.email_changes += counts.email_changes

    def record_error(self, record_id: str | None, object_name: str, error: str) -> None:
        """Note a record that could not be read (it is reported, never silently dropped)."""
        self.record_error_count += 1
        if len(self.record_errors) < MAX_RECORD_ERRORS:
            self.record_errors.append({"id": record_id, "object": object_name, "error": error})
        log.warning("%s: skipped %s %s: %s", self.system, object_name, record_id, error)


@dataclass
class PullSummary:
    """What :func:`pull_all` did: one :class:`SystemResult` per system."""

    run_id: int
    started_at: str
    finished_at: str = ""
    salesforce: SystemResult = field(default_factory=lambda: SystemResult("salesforce"))
    apollo: SystemResult = field(default_factory=lambda: SystemResult("apollo"))

    @property
    def results(self) -> list[SystemResult]:
        """Both systems' results (Salesforce first)."""
        return [self.salesforce, self.apollo]

    @property
    def status(self) -> str:
        """``complete`` when every attempted system completed; otherwise the worst outcome
        (failed, then cancelled, stopped, incomplete)."""
        attempted = [r.status for r in self.results if r.status != SKIPPED]
        for worst in (FAILED, CANCELLED, STOPPED, INCOMPLETE):
            if worst in attempted:
                return worst
        return COMPLETE if attempted else SKIPPED

    @property
    def api_calls(self) -> dict:
        """API calls spent per system in this run."""
        return {r.system: r.api_calls for r in self.results}

    def as_dict(self) -> dict:
        """JSON-able (the ``--json`` output and the ``runs`` row's summary)."""
        return {"run_id": self.run_id, "status": self.status, "started_at": self.started_at,
                "finished_at": self.finished_at, "api_calls": self.api_calls,
                "salesforce": asdict(self.salesforce), "apollo": asdict(self.apollo)}


class PullContext:
    """What a system's pull needs besides its source: the cache, the options, the
    progress callback and the cancel flag."""

    def __init__(self, cache: Cache, *, full: bool, progress, cancel: threading.Event | None,
                 api_calls: Callable[[], dict]):
        self.cache = cache
        self.full = full
        self.sweep = False  # a Salesforce re-read that marks records it does not see deleted
        self._progress = progress
        self.cancel = cancel
        self._api_calls = api_calls

    def check_cancel(self) -> None:
        """Raise :class:`PullCancelled` when the user asked to stop (between batches)."""
        if self.cancel is not None and self.cancel.is_set():
            raise PullCancelled()

    def report(self, system: str, phase: str, done: int, total: int, message: str = "") -> None:
        """Tell the progress callback (after a batch is committed)."""
        if self._progress is not None:
            self._progress(PullProgress(system, phase, done, total, self._api_calls(), message))


def _api_calls(source) -> int:
    return source.api_calls if source is not None else 0


def _check_origin(cache: Cache, system: str, source) -> None:
    """Refuse another org's or team's cache before anything is written, when the source can
    say whose records it reads (signing in if needed; a failure there is the pull's to
    report)."""
    origin = getattr(source, "origin", None)
    if origin is None:
        return
    try:
        cache.check_origin(system, origin())
    except SourceError:
        pass


def _start_run(cache: Cache) -> tuple[int, str]:
    started = now_iso()
    with cache.transaction():
        # A pull that was killed left its row 'running'; it is over.
        cache.conn.execute("UPDATE runs SET status = 'interrupted' "
                           "WHERE kind = 'pull' AND status = 'running'")
        cursor = cache.conn.execute(
            "INSERT INTO runs (kind, started_at, status) VALUES ('pull', ?, 'running')", (started,))
    return cursor.lastrowid, started


def _finish_run(cache: Cache, summary: PullSummary, status: str | None = None) -> None:
    summary.finished_at = now_iso()
    with cache.transaction():
        cache.conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ?, api_calls = ? "
            "WHERE run_id = ?",
            (summary.finished_at, status or summary.status, json.dumps(summary.as_dict()),
             json.dumps(summary.api_calls), summary.run_id))


def _run_system(ctx: PullContext, result: SystemResult, source, pull) -> None:
    """Run one system's pull, turning its expected failures into the result's status."""
    before = source.api_calls
    source.cancel = ctx.cancel
    result.notices = list(getattr(source, "notices", []))
    try:
        pull(ctx, source, result)
    except PullCancelled:
        result.status = CANCELLED
        result.message = "Cancelled; everything pulled before is saved and the next pull continues."
        raise
    except BudgetExhausted as exc:
        result.status = STOPPED
        result.message = str(exc)
        result.resume_at = exc.resume_at.isoformat() if exc.resume_at else None
    except (AuthError, NotConnected, PermissionDenied) as exc:
        result.status = FAILED
        result.message = str(exc)
    except SourceError as exc:
        result.status = FAILED
        result.message = str(exc)
    finally:
        result.api_calls = source.api_calls - before


def pull_all(cache: Cache, salesforce=None, apollo=None, *,
             progress: Callable[[PullProgress], None] | None = None,
             cancel: threading.Event | None = None, full: bool = False) -> PullSummary:
    """Pull both systems into ``cache``; return what happened.

    ``salesforce`` / ``apollo`` are connected sources (either may be None to skip that
    system). ``full`` reads everything again instead of only changes (a full pull already
    under way continues). A system that fails or runs out of API budget does not stop the
    other; a cancel stops both. Unexpected errors (bugs, a full disk) propagate after the
    run is recorded as failed; whatever was committed stays and the next pull continues.
    """
    from core.sync.pull_apollo import pull_apollo
    from core.sync.pull_salesforce import pull_salesforce

    for system, source in (("salesforce", salesforce), ("apollo", apollo)):
        _check_origin(cache, system, source)
    run_id, started = _start_run(cache)
    summary = PullSummary(run_id, started)
    start_calls = {"salesforce": _api_calls(salesforce), "apollo": _api_calls(apollo)}

    def calls_so_far() -> dict:
        return {"salesforce": _api_calls(salesforce) - start_calls["salesforce"],
                "apollo": _api_calls(apollo) - start_calls["apollo"]}

    ctx = PullContext(cache, full=full, progress=progress, cancel=cancel, api_calls=calls_so_far)
    # Checkpoint the WAL every 64 MB rather than every 1000 pages while pulling: a checkpoint
    # (copy and fsync) after nearly every batch costs a quarter of the ingest time.
    checkpoint = cache.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    cache.conn.execute(f"PRAGMA wal_autocheckpoint = {pull_checkpoint_pages(cache)}")
    try:
        for source, result, pull in ((salesforce, summary.salesforce, pull_salesforce),
                                     (apollo, summary.apollo, pull_apollo)):
            if source is None:
                continue
            _run_system(ctx, result, source, pull)
    except PullCancelled:
        pass  # the cancelled system says so; later ones stay skipped
    except BaseException:
        _finish_run(cache, summary, status="failed")
        raise
    finally:
        cache.conn.execute(f"PRAGMA wal_autocheckpoint = {checkpoint}")
    _finish_run(cache, summary)
    cache.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    return summary
