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

import logging
import threading
from collections.abc import Callable

from core.model import PullStatus
from core.sources.errors import (
    AuthError,
    BudgetExhausted,
    NotConnected,
    PermissionDenied,
    PullCancelled,
    SourceError,
)
from core.store import runs
from core.store.cache import Cache
from core.sync.pull_apollo import pull_apollo
from core.sync.pull_salesforce import pull_salesforce
from core.sync.pull_state import (
    PullContext,
    PullProgress,
    PullSummary,
    SystemResult,
    pull_checkpoint_pages,
)

log = logging.getLogger(__name__)

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


def _finish_run(cache: Cache, summary: PullSummary, status: str | None = None) -> None:
    summary.finished_at = runs.finish(cache, summary.run_id, status or summary.status,
                                      summary.as_dict(), summary.api_calls)


def _run_system(ctx: PullContext, result: SystemResult, source, pull) -> None:
    """Run one system's pull, turning its expected failures into the result's status."""
    before = source.api_calls
    source.cancel = ctx.cancel
    result.notices = list(getattr(source, "notices", []))
    try:
        pull(ctx, source, result)
    except PullCancelled:
        result.status = PullStatus.CANCELLED
        result.message = "Cancelled; everything pulled before is saved and the next pull continues."
        raise
    except BudgetExhausted as exc:
        result.status = PullStatus.STOPPED
        result.message = str(exc)
        result.resume_at = exc.resume_at.isoformat() if exc.resume_at else None
    except (AuthError, NotConnected, PermissionDenied) as exc:
        result.status = PullStatus.FAILED
        result.message = str(exc)
    except SourceError as exc:
        result.status = PullStatus.FAILED
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
    for system, source in (("salesforce", salesforce), ("apollo", apollo)):
        _check_origin(cache, system, source)
    run_id, started = runs.start(cache, "pull")
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
