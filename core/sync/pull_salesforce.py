"""Pulling Salesforce Contacts and Leads (converted Leads included) and their Email history.

Per object, in ``sync_state``:

- ``salesforce:<Object>:watermark``: the highest ``SystemModstamp`` committed. Each pull
  asks ``queryAll`` for ``SystemModstamp >= watermark - lookback`` ordered by
  ``SystemModstamp, Id``, so changes and deletions (``IsDeleted``) come together, page by
  page, and every page is committed with the new watermark. ``SystemModstamp`` has
  one-second resolution and a record saved while a query runs can carry a stamp the query
  already passed, so the watermark's own second and a short lookback are read again;
  unchanged rows cost nothing in the cache (ingest skips them by content hash).
- ``salesforce:<Object>:bulk``: an initial load above the source's ``bulk_threshold``
  (counted with ``SELECT COUNT()``) runs as a Bulk API 2.0 query job; its id and result
  locator are committed with each result page, so a restart continues the same job (jobs
  live 7 days). The watermark is then the highest stamp seen, and a REST pass picks up
  what changed while the job ran.
- ``salesforce:<Object>History:watermark``: ContactHistory/LeadHistory rows with
  ``Field = 'Email'``, by ``CreatedDate`` the same way. An org that does not track Email
  history (the object is refused, or simply empty) is a normal state, noted in
  ``salesforce:history``.

A page whose record count falls short of the query's ``totalSize`` (or a bulk job's
processed count), or a record that cannot be read, leaves the snapshot incomplete:
``salesforce:snapshot`` says so, and nothing is ever deleted because it was not seen.

Records emptied from the recycle bin (by a user, or by Salesforce after 15 days) no longer
come back from ``queryAll``, so an incremental pull cannot see them go; about once a day it
reads Salesforce's delete log instead (:mod:`core.sync.pull_deleted`). When the last pull
that read to the end is older than the recycle bin keeps records, or a full pull is asked
for on a cache that already holds records, the pull re-reads everything (a pending bulk
job is dropped) and notes each id it sees in ``pull_seen`` (committed with its page, so a
resumed pull keeps counting). Only if that snapshot is complete, and the live records seen
add up to Salesforce's own count of each object, are the cached records it did not see
marked deleted ("swept").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.model import PullStatus
from core.sources.errors import QueryRefused
from core.sources.salesforce import SalesforceSource
from core.store.cache import now_iso, parse_time
from core.store.ingest import IngestCounts, add_history, upsert_salesforce
from core.store.rows import SF_FIELDS, RecordError, cache_time, history_row, sf_row
from core.sync import pull_deleted
from core.sync.pull_state import PullContext, SystemResult

SYSTEM = "salesforce"
OBJECTS = ("Contact", "Lead")
LOOKBACK = timedelta(seconds=60)
RECYCLE_BIN = timedelta(days=15)  # how long Salesforce keeps deleted records queryable
_BOOLEAN = frozenset({"IsDeleted", "IsConverted"})
_DATETIME = frozenset({"EmailBouncedDate", "CreatedDate", "LastModifiedDate", "SystemModstamp"})
HISTORY_FIELDS = "Id, {parent}Id, Field, OldValue, NewValue, CreatedDate, CreatedById"


def _key(name: str) -> str:
    return f"salesforce:{name}"


def _since(stamp: str | None, lookback: timedelta) -> str | None:
    """The SOQL datetime literal ``lookback`` before a watermark, in whole seconds (the
    documented literal form; dropping the milliseconds only widens the window)."""
    if not stamp:
        return None
    return (parse_time(stamp) - lookback).strftime("%Y-%m-%dT%H:%M:%SZ")


def _canonical(record: dict) -> dict:
    """A REST record in the shape a Bulk CSV row is turned into (no nested attributes), so
    the same record hashes the same whichever way it was read."""
    account = record.get("Account")
    if isinstance(account, dict):
        record["Account"] = {"Name": account.get("Name")}
    return record


def from_bulk_row(row: dict, object_name: str) -> dict:
    """A Bulk API 2.0 CSV row (all strings) in the REST query shape."""
    record: dict = {}
    for name in SF_FIELDS[object_name]:
        if name == "Account.Name":
            record["Account"] = ({"Name": row.get(name) or None}
                                 if row.get("AccountId") else None)
            continue
        value = row.get(name)
        if value == "" or value is None:
            value = False if name in _BOOLEAN else None
        elif name in _BOOLEAN:
            value = value.lower() == "true"
        elif name in _DATETIME and value.endswith("Z"):
            value = value[:-1] + "+0000"
        record[name] = value
    return record


def _stamp_of(record: dict) -> str | None:
    try:
        return cache_time(record.get("SystemModstamp"))
    except ValueError:
        return None


def _ingest(ctx: PullContext, records: list[dict], object_name: str, prior_seen: str | None,
            result: SystemResult) -> IngestCounts:
    """Upsert a page (inside the caller's transaction); unreadable records are reported.
    During a sweeping pull, the ids seen are noted with the page."""
    if ctx.sweep:
        ctx.cache.conn.executemany(
            "INSERT OR IGNORE INTO pull_seen (system, id) VALUES ('salesforce', ?)",
            [(r["Id"],) for r in records if isinstance(r, dict) and r.get("Id")])
    pulled_at = now_iso()
    try:
        return upsert_salesforce(ctx.cache, records, pulled_at, object_name=object_name,
                                 prior_seen=prior_seen)
    except RecordError:
        good = []
        for record in records:
            try:
                sf_row(record, object_name)
            except RecordError as exc:
                result.record_error(record.get("Id") if isinstance(record, dict) else None,
                                    object_name, str(exc))
                continue
            good.append(record)
        return upsert_salesforce(ctx.cache, good, pulled_at, object_name=object_name,
                                 prior_seen=prior_seen)


def _rest_pull(ctx: PullContext, source: SalesforceSource, object_name: str,
               prior_seen: str | None, result: SystemResult, lookback: timedelta) -> None:
    ctx.check_cancel()
    key = _key(f"{object_name}:watermark")
    watermark = ctx.cache.get_state(key)
    since = _since(watermark, lookback)
    where = f" WHERE SystemModstamp >= {since}" if since else ""
    soql = (f"SELECT {', '.join(SF_FIELDS[object_name])} FROM {object_name}{where} "
            f"ORDER BY SystemModstamp, Id")
    done = total = 0
    for page in source.pages(soql, include_deleted=True, what=f"query {object_name}"):
        total = max(total, int(page.get("totalSize") or 0))
        records = [_canonical(r) for r in page.get("records") or []]
        stamps = [s for s in map(_stamp_of, records) if s]
        if stamps:
            watermark = max(stamps[-1], watermark or "")
        with ctx.cache.transaction():
            counts = _ingest(ctx, records, object_name, prior_seen, result)
            if watermark:
                ctx.cache.set_state(key, watermark)
        result.add_counts(counts)
        done += len(records)
        ctx.report(SYSTEM, object_name, done, total)
        ctx.check_cancel()
    _check_total(result, object_name, done, total)


def _check_total(result: SystemResult, what: str, got: int, expected: int) -> None:
    if got < expected:
        result.details.setdefault("shortfalls", {})[what] = {"expected": expected, "received": got}


def _bulk_pull(ctx: PullContext, source: SalesforceSource, object_name: str,
               prior_seen: str | None, result: SystemResult) -> None:
    """An initial load through a Bulk API 2.0 query job, resumable by its locator."""
    ctx.check_cancel()
    key = _key(f"{object_name}:bulk")
    job = ctx.cache.get_state(key)
    if job is not None and job.get("version") != source.api_version:
        # A job's results can only be read with the API version that created it (409
        # otherwise: Bulk API 2.0 guide, "Get Results for a Query Job"), so a job left by
        # a pull on another version is started over; what it stored stays.
        result.notices.append(f"A pending bulk query of {object_name} was made with API "
                              f"version {job.get('version') or 'unknown'}; it was started "
                              f"again with {source.api_version}.")
        job = None
    if job is not None:
        info = source.bulk_job(object_name, job["id"])
        if info is None or info.get("state") in ("Failed", "Aborted"):
            job = None  # gone (jobs live 7 days): start over; what was stored stays
    if job is None:
        soql = f"SELECT {', '.join(SF_FIELDS[object_name])} FROM {object_name}"
        # queryAll, as the REST pass reads: records in the recycle bin come too.
        job = {"id": source.bulk_start(object_name, soql, include_deleted=True),
               "locator": "", "max": None, "received": 0, "version": source.api_version}
        with ctx.cache.transaction():
            ctx.cache.set_state(key, job)
    info = source.bulk_wait(object_name, job["id"])
    total = int(info.get("numberRecordsProcessed") or 0)
    result.mode = "bulk"
    while True:
        rows, locator = source.bulk_page(object_name, job["id"], job["locator"])
        records = [from_bulk_row(row, object_name) for row in rows]
        stamps = [s for s in map(_stamp_of, records) if s]
        if stamps:
            job["max"] = max(max(stamps), job["max"] or "")
        job["locator"] = locator
        job["received"] += len(records)
        with ctx.cache.transaction():
            counts = _ingest(ctx, records, object_name, prior_seen, result)
            if locator:
                ctx.cache.set_state(key, job)
            else:
                # Done: the highest stamp seen becomes the watermark (records changed
                # while the job ran are stamped later and come with the REST pass).
                ctx.cache.conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))
                if job["max"]:
                    ctx.cache.set_state(_key(f"{object_name}:watermark"), job["max"])
        result.add_counts(counts)
        ctx.report(SYSTEM, object_name, job["received"], total)
        if not locator:
            break
        ctx.check_cancel()
    _check_total(result, f"{object_name} (bulk)", job["received"], total)


def _history_pull(ctx: PullContext, source: SalesforceSource, object_name: str,
                  result: SystemResult, lookback: timedelta) -> None:
    ctx.check_cancel()
    history = f"{object_name}History"
    key = _key(f"{history}:watermark")
    watermark = ctx.cache.get_state(key)
    since = _since(watermark, lookback)
    soql = (f"SELECT {HISTORY_FIELDS.format(parent=object_name)} FROM {history} "
            f"WHERE Field = 'Email'{f' AND CreatedDate >= {since}' if since else ''} "
            f"ORDER BY CreatedDate, Id")
    tracking = ctx.cache.get_state(_key("history"), {}) or {}
    done = total = 0
    try:
        for page in source.pages(soql, what=f"query {history}"):
            total = max(total, int(page.get("totalSize") or 0))
            rows = page.get("records") or []
            times = [t for t in (_history_time(r) for r in rows) if t]
            if times:
                watermark = max(times[-1], watermark or "")
            with ctx.cache.transaction():
                stored = _add_history(ctx, rows, history, result)
                if watermark:
                    ctx.cache.set_state(key, watermark)
                tracking[object_name] = "tracked" if (rows or watermark) else "no rows"
                ctx.cache.set_state(_key("history"), tracking)
            result.history_rows += stored
            done += len(rows)
            ctx.report(SYSTEM, history, done, total)
            ctx.check_cancel()
    except QueryRefused as exc:
        # The org does not track field history for this object: a normal state.
        with ctx.cache.transaction():
            tracking[object_name] = f"unavailable ({exc.code})"
            ctx.cache.set_state(_key("history"), tracking)
        return
    _check_total(result, history, done, total)


def _history_time(row: dict) -> str | None:
    try:
        return cache_time(row.get("CreatedDate"))
    except ValueError:
        return None


def _add_history(ctx: PullContext, rows: list[dict], history: str, result: SystemResult) -> int:
    try:
        return add_history(ctx.cache, rows)
    except (RecordError, ValueError):
        good = []
        for row in rows:
            try:
                history_row(row)
            except (RecordError, ValueError) as exc:
                result.record_error(row.get("Id") if isinstance(row, dict) else None, history,
                                    str(exc))
                continue
            good.append(row)
        return add_history(ctx.cache, good)


def pull_salesforce(ctx: PullContext, source: SalesforceSource, result: SystemResult, *,
                    lookback: timedelta = LOOKBACK) -> None:
    """Pull Contacts, Leads and their Email history into the cache (see the module doc)."""
    cache = ctx.cache
    last = cache.get_state(_key("last_complete")) or {}
    prior_seen = last.get("started_at")
    current = cache.get_state(_key("pull"))
    # Deletions are visible while records sit in the recycle bin, so what counts is when
    # the last pull read to the end (complete or not), not when the last complete one ran.
    last_read = (cache.get_state(_key("snapshot")) or {}).get("as_of") or prior_seen
    stale = _older_than_recycle_bin(last_read)
    if current is None or ctx.full:
        has_records = cache.conn.execute("SELECT 1 FROM sf_records LIMIT 1").fetchone()
        current = {"started_at": now_iso(),
                   "sweep": bool(has_records) and (ctx.full or stale)}
        # A sweep re-reads every record from scratch (a pending bulk job's earlier pages
        # were never noted as seen); a full pull also re-reads the Email history.
        reset = ([f"{name}:{what}" for name in OBJECTS for what in ("watermark", "bulk")]
                 if current["sweep"] else [])
        if ctx.full:
            reset += [f"{name}History:watermark" for name in OBJECTS]
        with cache.transaction():
            cache.set_state(_key("pull"), current)
            cache.conn.execute("DELETE FROM pull_seen WHERE system = 'salesforce'")
            cache.conn.executemany("DELETE FROM sync_state WHERE key = ?",
                                   [(_key(state),) for state in reset])
    ctx.sweep = bool(current.get("sweep"))
    if ctx.sweep and stale and not ctx.full:
        result.notices.append(
            f"The last Salesforce pull began {last_read[:10]}, longer ago than Salesforce "
            f"keeps deleted records ({RECYCLE_BIN.days} days), so this pull reads everything "
            "again to find the records deleted since.")
    result.mode = "full" if ctx.full or ctx.sweep or \
        cache.get_state(_key("Contact:watermark")) is None else "incremental"
    now = _now()
    for object_name in OBJECTS:
        first_load = cache.get_state(_key(f"{object_name}:watermark")) is None
        bulk_pending = cache.get_state(_key(f"{object_name}:bulk")) is not None
        if bulk_pending or (first_load and source.bulk_threshold is not None
                            and source.count(object_name) > source.bulk_threshold):
            _bulk_pull(ctx, source, object_name, prior_seen, result)
        _rest_pull(ctx, source, object_name, prior_seen, result, lookback)
        if not (first_load or ctx.sweep) and pull_deleted.due(ctx, object_name, now):
            pull_deleted.check_deleted(ctx, source, object_name, result, now, prior_seen)
    for object_name in OBJECTS:
        _history_pull(ctx, source, object_name, result, lookback)
    if ctx.sweep and not result.details.get("shortfalls"):
        _check_sweep_totals(ctx, source, result)
    complete = not result.details.get("shortfalls") and not result.record_error_count
    result.status = PullStatus.COMPLETE if complete else PullStatus.INCOMPLETE
    result.details["history"] = cache.get_state(_key("history"), {})
    reason = _incomplete_reason(result)
    result.message = "" if complete else reason
    with cache.transaction():
        if ctx.sweep and complete:
            _sweep(ctx, result)
        cache.conn.execute("DELETE FROM pull_seen WHERE system = 'salesforce'")
        cache.set_state(_key("snapshot"), {"complete": complete, "as_of": current["started_at"],
                                           "reason": reason})
        cache.conn.execute("DELETE FROM sync_state WHERE key = ?", (_key("pull"),))
        if complete:
            cache.set_state(_key("last_complete"), {"started_at": current["started_at"],
                                                    "finished_at": now_iso()})
            for object_name in OBJECTS:
                if ctx.sweep or not cache.get_state(_key(f"{object_name}:deleted")):
                    # everything was read: the delete log matters from this pull on
                    pull_deleted.start_tracking(ctx, object_name,
                                                parse_time(current["started_at"]))


def _now() -> datetime:
    """This pull's "now" for the delete log's window (tests move it)."""
    return datetime.now(UTC)


def _older_than_recycle_bin(started_at: str | None) -> bool:
    if not started_at:
        return False
    return datetime.now(UTC) - parse_time(started_at) > RECYCLE_BIN


def _check_sweep_totals(ctx: PullContext, source: SalesforceSource,
                        result: SystemResult) -> None:
    """A re-read may sweep only if it saw every live record Salesforce counts now.

    A page that came short in an earlier, interrupted attempt is not caught by the page
    totals of the resumed one; the count is (one call per object, on sweeping pulls only).
    """
    for name in OBJECTS:
        seen = ctx.cache.conn.execute(
            "SELECT count(*) FROM pull_seen p JOIN sf_records s ON s.id = p.id "
            "WHERE p.system = 'salesforce' AND s.object = ? AND s.is_deleted = 0",
            (name,)).fetchone()[0]
        _check_total(result, f"{name} (all records re-read)", seen, source.count(name))


def _sweep(ctx: PullContext, result: SystemResult) -> None:
    """After a complete re-read: cached records Salesforce no longer has are deleted.

    ``queryAll`` returns records in the recycle bin too, so a record it did not return was
    emptied from the bin. It is marked deleted (kept, with its data), like a deletion read
    from the API, and a new change number lets the next reconciliation unlink it.
    """
    seq = ctx.cache.next_seq()
    # No content hash: should the record ever be read again, ingest rewrites it whole.
    swept = ctx.cache.conn.execute(
        "UPDATE sf_records SET is_deleted = 1, raw_hash = NULL, seq = ? WHERE is_deleted = 0 "
        "AND NOT EXISTS (SELECT 1 FROM pull_seen p WHERE p.system = 'salesforce' "
        "AND p.id = sf_records.id)", (seq,)).rowcount
    result.details["swept"] = swept
    if swept:
        result.notices.append(f"{swept} Salesforce record(s) no longer exist in Salesforce "
                              "(emptied from its recycle bin); they are marked deleted.")


def _incomplete_reason(result: SystemResult) -> str:
    parts = []
    for what, numbers in (result.details.get("shortfalls") or {}).items():
        parts.append(f"{what}: received {numbers['received']} of {numbers['expected']}")
    if result.record_error_count:
        parts.append(f"{result.record_error_count} record(s) could not be read "
                     f"(listed with their ids)")
    if not parts:
        return ""
    return ("The Salesforce snapshot is incomplete (" + "; ".join(parts) + "). Nothing was "
            "deleted because of it; pull again to fill the gaps.")
