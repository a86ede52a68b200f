"""What a pull passes around: its progress, each system's result, the run's summary, and
the context a system's pull gets (the cache, options, progress and cancel).

Kept apart from :mod:`core.sync.pull` so the per-system pulls
(:mod:`core.sync.pull_salesforce`, :mod:`core.sync.pull_apollo`) and the orchestration
import it without importing each other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from core.model import PullStatus
from core.sources.errors import PullCancelled
from core.store.cache import Cache
from core.store.ingest import IngestCounts

log = logging.getLogger(__name__)

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
    status: str = PullStatus.SKIPPED
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
        attempted = [r.status for r in self.results if r.status != PullStatus.SKIPPED]
        for worst in (PullStatus.FAILED, PullStatus.CANCELLED, PullStatus.STOPPED, PullStatus.INCOMPLETE):
            if worst in attempted:
                return worst
        return PullStatus.COMPLETE if attempted else PullStatus.SKIPPED

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
