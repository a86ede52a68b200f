"""Records emptied from Salesforce's recycle bin between two pulls, found within a day.

An incremental pull reads ``queryAll`` from its watermark, which shows a deleted record
while it sits in the recycle bin (``IsDeleted``). A record deleted and emptied from the bin
before the next pull (by a user, or by Salesforce) never comes back from ``queryAll``, so
only a full or late re-read would notice it. The delete log does: sObject Get Deleted lists
"individual records that have been deleted within the given timespan", for no more than
15 days back (REST API Developer Guide, "sObject Get Deleted"; SOAP API Developer Guide,
"getDeleted()"). It is one call per object, so it runs at most about once a day
(:data:`EVERY`): other pulls keep costing their two calls per object (records, history).

State per object in ``salesforce:<Object>:deleted``: ``covered_to``, the end of the last
window asked for (the next window starts there), and ``checked_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.store.cache import parse_time
from core.sync.pull_state import PullContext, SystemResult

# "Once a day", with an hour's slack so a run scheduled daily at a slightly earlier time
# than yesterday's still checks.
EVERY = timedelta(hours=23)
LOG_DAYS = timedelta(days=15)  # how far back the delete log answers
MIN_SPAN = timedelta(minutes=1)  # the start must precede the end by more than a minute


def _key(object_name: str) -> str:
    return f"salesforce:{object_name}:deleted"


def start_tracking(ctx: PullContext, object_name: str, now: datetime) -> None:
    """After a pull that read everything (first load or re-read): the delete log is needed
    only from now on (call inside the pull's final transaction)."""
    ctx.cache.set_state(_key(object_name), {"covered_to": now.isoformat(),
                                            "checked_at": now.isoformat()})


def due(ctx: PullContext, object_name: str, now: datetime) -> bool:
    """Whether this pull should read the delete log of ``object_name``."""
    state = ctx.cache.get_state(_key(object_name))
    if not state:
        return True
    return now - parse_time(state["checked_at"]) >= EVERY


def check_deleted(ctx: PullContext, source, object_name: str, result: SystemResult,
                  now: datetime, since: str | None) -> int:
    """Read the delete log since the last window (else since ``since``, when the last
    complete pull began) and mark the cached records it lists deleted; returns how many
    were newly marked. Costs one API call."""
    state = ctx.cache.get_state(_key(object_name)) or {}
    start = parse_time(state.get("covered_to") or since or now.isoformat())
    start = max(start, now - LOG_DAYS + MIN_SPAN)
    if now - start <= MIN_SPAN:
        return 0
    answer = source.deleted(object_name, start.astimezone(UTC), now)
    ids = [row["id"] for row in answer.get("deletedRecords") or [] if row.get("id")]
    covered = answer.get("latestDateCovered") or now.isoformat()
    with ctx.cache.transaction():
        marked = 0
        if ids:
            seq = ctx.cache.next_seq()
            marks = ",".join("?" * len(ids))
            # No content hash: should the record ever be read again, ingest rewrites it whole.
            marked = ctx.cache.conn.execute(
                f"UPDATE sf_records SET is_deleted = 1, raw_hash = NULL, seq = ? "
                f"WHERE is_deleted = 0 AND id IN ({marks})", (seq, *ids)).rowcount
        ctx.cache.set_state(_key(object_name), {"covered_to": parse_time(covered).isoformat(),
                                                "checked_at": now.isoformat()})
    if marked:
        result.notices.append(f"{marked} Salesforce {object_name} record(s) were deleted "
                              f"(Salesforce's delete log lists them); they are marked deleted.")
    result.details.setdefault("deleted_log", {})[object_name] = marked
    return marked
