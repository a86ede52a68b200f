"""Pulling Salesforce through the real client against the sandbox with its faults.

Each situation is survived (the pull completes) or stops cleanly (a typed status, nothing
lost); either way, pulling again ends with exactly what a pull without faults stores."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.model import PullStatus
from core.sandbox.ids import OTHER_USER
from core.sources.salesforce import SalesforceSource
from core.store.cache import Cache
from core.sync.pull import pull_all
from tests.harness import sandbox, snapshot

OBJECTS_QUERY = r"/queryAll/?$"  # the Contact/Lead pages (history goes through /query/)
MORE_PAGES = r"/queryAll/01g"


def source(running, **options) -> SalesforceSource:
    options.setdefault("page_size", 200)  # several pages even for a small org
    options.setdefault("bulk_threshold", None)
    return SalesforceSource.from_sandbox_info(running.info(), sleep=lambda s: None, **options)


@pytest.fixture
def org(tls_dir):
    running = sandbox(1000, 11, tls_dir=tls_dir)
    yield running
    running.stop()


def clean_pull(running, tmp_path, **options) -> dict:
    """What a pull without faults stores (the reference every case must reach)."""
    with Cache(tmp_path / "reference.sqlite") as reference:
        assert pull_all(reference, source(running, **options)).status == PullStatus.COMPLETE
        return snapshot(reference)


# (situation, fault kind, fault options, how the first pull ends)
SURVIVED = [
    ("503 on a query", "status", dict(route=OBJECTS_QUERY, count=2, status=503), PullStatus.COMPLETE),
    ("500 on a next page", "status", dict(route=MORE_PAGES, count=2, status=500), PullStatus.COMPLETE),
    ("connection dropped", "drop", dict(route=OBJECTS_QUERY, count=2), PullStatus.COMPLETE),
    ("dropped after the answer", "drop_after", dict(route=MORE_PAGES, count=2), PullStatus.COMPLETE),
    ("truncated body", "truncate", dict(route=MORE_PAGES, count=2, fraction=0.4), PullStatus.COMPLETE),
    ("session expired", "session_expiry", dict(route=MORE_PAGES, count=1), PullStatus.COMPLETE),
    ("slow answers", "latency", dict(route=OBJECTS_QUERY, count=2, seconds=0.05), PullStatus.COMPLETE),
    ("503 every time", "status", dict(route=MORE_PAGES, status=503), PullStatus.FAILED),
    ("daily limit reached", "request_limit", dict(route=MORE_PAGES, count=1), PullStatus.STOPPED),
    # REQUEST_LIMIT_EXCEEDED for too many long requests at once: waited out, not a spent day
    ("too many long requests at once", "request_limit",
     dict(route=MORE_PAGES, count=2, concurrent=True), PullStatus.COMPLETE),
    ("long requests keep the org busy", "request_limit",
     dict(route=MORE_PAGES, concurrent=True), PullStatus.STOPPED),
]


@pytest.mark.parametrize("situation, kind, options, first", SURVIVED,
                         ids=[s[0] for s in SURVIVED])
@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
def test_faults_are_survived_or_stop_cleanly(org, tmp_path, situation, kind, options, first, bulk):
    extra = {"bulk_threshold": 100} if bulk else {}
    if bulk and "01g" in options.get("route", ""):
        options = {**options, "route": r"/jobs/query/750\w+/results"}
    reference = clean_pull(org, tmp_path, **extra)
    with Cache(tmp_path / "cache.sqlite") as cache:
        rule = org.salesforce_app.faults.add(kind, **options)
        summary = pull_all(cache, source(org, **extra))
        assert rule.fired >= 1, f"the fault never struck: {situation}"
        assert summary.salesforce.status == first, summary.salesforce.message
        if first != PullStatus.COMPLETE:
            assert summary.salesforce.message  # says what happened and what to do
        org.salesforce_app.faults.clear()
        again = pull_all(cache, source(org, **extra))
        assert again.salesforce.status == PullStatus.COMPLETE
        assert snapshot(cache) == reference


def test_request_limit_exceeded_says_when_and_sends_nothing_more(org, tmp_path):
    with Cache(tmp_path / "cache.sqlite") as cache:
        sf = source(org)
        org.salesforce_app.set_api_usage(used=org.salesforce_app.daily_limit - 3)
        sf.reserve = 0  # only Salesforce's own limit here
        summary = pull_all(cache, sf)
        result = summary.salesforce
        assert result.status == PullStatus.STOPPED and "REQUEST_LIMIT_EXCEEDED" in result.message
        assert "rolling 24 hours" in result.message and result.resume_at
        used_at_stop = org.salesforce_app.api_used
        assert result.api_calls == 4  # 3 allowed, the 4th refused; no retries after it
        # the budget frees up: the pull continues and ends like a clean one
        org.salesforce_app.set_api_usage(used=0)
        assert pull_all(cache, source(org)).salesforce.status == PullStatus.COMPLETE
        assert used_at_stop == org.salesforce_app.daily_limit
        assert snapshot(cache) == clean_pull(org, tmp_path)


@pytest.mark.parametrize("situation, fault, window, at_most", [
    ("the daily budget is spent", dict(exhaust=True), "day", timedelta(hours=24)),
    ("long requests keep the org busy", dict(concurrent=True), "concurrency",
     timedelta(minutes=5)),
])
def test_request_limit_exceeded_names_its_window_and_a_fitting_resume(org, tmp_path, situation,
                                                                       fault, window, at_most):
    org.salesforce_app.faults.add("request_limit", route=MORE_PAGES, **fault)
    with Cache(tmp_path / "cache.sqlite") as cache:
        slept = []
        sf = source(org, reserve=0)
        sf._sleep = slept.append
        result = pull_all(cache, sf).salesforce
    assert result.status == PullStatus.STOPPED, situation
    resume = datetime.fromisoformat(result.resume_at) - datetime.now(UTC)
    assert timedelta(0) < resume <= at_most, (situation, resume)
    assert ("concurrent" in result.message) == (window == "concurrency")
    assert slept == ([5.0, 15.0, 40.0] if window == "concurrency" else [])


@pytest.mark.parametrize("message, usage, kind", [
    ("TotalRequests Limit exceeded.", (100, 100), "day"),
    ("TotalRequests Limit exceeded.", (5, 100), "day"),  # the message decides first
    ("ConcurrentPerOrgLongTxn Limit exceeded.", (100, 100), "concurrency"),
    ("ConcurrentRequests (Concurrent API Requests) Limit exceeded.", None, "concurrency"),
    ("Limit exceeded.", (5, 100), "concurrency"),  # requests left today: not the budget
    ("Limit exceeded.", (100, 100), "day"),
    ("Limit exceeded.", None, "day"),
])
def test_limit_kind_reads_the_message_then_the_usage_header(message, usage, kind):
    from core.sources.salesforce import limit_kind

    assert limit_kind(message, usage) == kind


def test_stops_before_the_reserve_left_for_other_integrations(org, tmp_path):
    app = org.salesforce_app
    app.set_api_usage(used=5, limit=100)
    with Cache(tmp_path / "cache.sqlite") as cache:
        summary = pull_all(cache, source(org, reserve=0.9))
        assert summary.salesforce.status == PullStatus.STOPPED
        assert "other integrations" in summary.salesforce.message
        assert app.api_used <= 11  # stopped as soon as 90 % of 100 was seen used


def test_incremental_pull_reads_only_changes_and_deletions(org, tmp_path):
    store = org.sf_store
    with Cache(tmp_path / "cache.sqlite") as cache:
        first = pull_all(cache, source(org))
        assert first.salesforce.mode == "full" and first.salesforce.api_calls > 4
        # nothing changed: one call per object, one per history object
        again = pull_all(cache, source(org))
        assert again.salesforce.api_calls == 4 and again.salesforce.inserted == 0
        assert again.salesforce.updated == 0 and again.salesforce.mode == "incremental"
        # some edits, a deletion and a conversion
        contacts = store.query("SELECT Id, Email FROM Contact ORDER BY Id LIMIT 3")
        for contact in contacts:
            store.external_edit("Contact", contact["Id"], {"Email": "new." + contact["Email"]},
                                user_id=OTHER_USER)
        lead = store.query("SELECT Id FROM Lead WHERE IsConverted = false ORDER BY Id LIMIT 2")
        store.delete("Lead", lead[0]["Id"], user_id=OTHER_USER)
        store.convert_lead(lead[1]["Id"], user_id=OTHER_USER)
        changed = pull_all(cache, source(org))
        result = changed.salesforce
        assert result.api_calls == 4
        assert result.email_changes == 3 and result.history_rows >= 3
        rows = dict(cache.conn.execute(
            "SELECT id, is_deleted FROM sf_records WHERE id IN (?, ?)", (lead[0]["Id"], lead[1]["Id"])))
        assert rows[lead[0]["Id"]] == 1
        converted = cache.conn.execute("SELECT is_converted, converted_contact_id FROM sf_records "
                                       "WHERE id = ?", (lead[1]["Id"],)).fetchone()
        assert converted[0] == 1 and converted[1]
        observed = cache.conn.execute(
            "SELECT count(*) FROM observations WHERE side = 'salesforce' AND prior_seen_at IS NOT NULL"
        ).fetchone()[0]
        assert observed >= 3  # each new email value is bounded by the previous pull


def test_org_without_email_history_is_a_normal_state(org, tmp_path):
    org.salesforce_app.faults.add("status", route=r"/query/?$", status=400, body=[{
        "errorCode": "INVALID_TYPE", "message": "sObject type 'ContactHistory' is not supported."}])
    with Cache(tmp_path / "cache.sqlite") as cache:
        summary = pull_all(cache, source(org))
        assert summary.salesforce.status == PullStatus.COMPLETE
        assert summary.salesforce.history_rows == 0
        assert cache.get_state("salesforce:history") == {"Contact": "unavailable (INVALID_TYPE)",
                                                         "Lead": "unavailable (INVALID_TYPE)"}


def test_a_malformed_record_is_reported_by_id_and_the_rest_is_stored(org, tmp_path):
    good = org.sf_store.query("SELECT Id, FirstName, LastName, Email, SystemModstamp FROM Contact "
                              "ORDER BY SystemModstamp, Id LIMIT 1")[0]
    bad = {"attributes": {"type": "Contact"}, "Id": "003000000000BADAAA", "LastName": "Broken",
           "SystemModstamp": "not a time"}
    body = {"totalSize": 2, "done": True, "records": [good, bad]}
    org.salesforce_app.faults.add("status", route=OBJECTS_QUERY, count=1, status=200, body=body)
    with Cache(tmp_path / "cache.sqlite") as cache:
        summary = pull_all(cache, source(org))
        result = summary.salesforce
        assert result.status == PullStatus.INCOMPLETE
        assert result.record_errors[0]["id"] == "003000000000BADAAA"
        assert "unreadable timestamp" in result.record_errors[0]["error"]
        assert cache.conn.execute("SELECT count(*) FROM sf_records WHERE id = ?",
                                  (good["Id"],)).fetchone()[0] == 1
        assert cache.get_state("salesforce:snapshot")["complete"] is False
        assert "003000000000BADAAA" not in {r[0] for r in cache.conn.execute("SELECT id FROM sf_records")}


def test_a_short_page_marks_the_snapshot_incomplete(org, tmp_path):
    page = org.sf_store.query("SELECT Id, FirstName, LastName, Email, SystemModstamp FROM Contact "
                              "ORDER BY SystemModstamp, Id LIMIT 5")
    org.salesforce_app.faults.add("status", route=OBJECTS_QUERY, count=1, status=200,
                                  body={"totalSize": 9, "done": True, "records": page})
    with Cache(tmp_path / "cache.sqlite") as cache:
        summary = pull_all(cache, source(org))
        assert summary.salesforce.status == PullStatus.INCOMPLETE
        assert "received 5 of 9" in summary.salesforce.message
        assert "Nothing was deleted" in summary.salesforce.message


def test_a_bulk_load_killed_between_pages_continues_the_same_job(tls_dir, tmp_path):
    running = sandbox(2400, 12, tls_dir=tls_dir)

    def bulk_source():
        return SalesforceSource.from_sandbox_info(running.info(), sleep=lambda s: None,
                                                  bulk_threshold=100, bulk_page_size=300)

    try:
        with Cache(tmp_path / "cache.sqlite") as cache, \
                Cache(tmp_path / "reference.sqlite") as reference:
            pages = []

            def crash(progress):
                pages.append(progress)
                if len(pages) == 2:
                    raise RuntimeError("power cut")

            with pytest.raises(RuntimeError):
                pull_all(cache, bulk_source(), progress=crash)
            job = cache.get_state("salesforce:Contact:bulk")
            assert job and job["locator"] and job["received"] == 600
            jobs_before = len(running.salesforce_app._jobs)
            assert pull_all(cache, bulk_source()).salesforce.status == PullStatus.COMPLETE
            assert len(running.salesforce_app._jobs) == jobs_before + 1  # only the Lead job
            assert pull_all(reference, bulk_source()).salesforce.status == PullStatus.COMPLETE
            assert snapshot(cache) == snapshot(reference)
    finally:
        running.stop()


@pytest.mark.parametrize("situation, resume_version, new_jobs", [
    ("resumed with the version that created the job", "59.0", 1),  # only the Lead job
    ("resumed after an upgrade to another API version", "60.0", 2),  # Contact restarted
])
def test_a_pending_bulk_job_is_read_only_with_its_own_api_version(tls_dir, tmp_path, situation,
                                                                  resume_version, new_jobs):
    running = sandbox(1200, 12, tls_dir=tls_dir)

    def bulk_source(version):
        return SalesforceSource.from_sandbox_info(running.info(), sleep=lambda s: None,
                                                  bulk_threshold=100, bulk_page_size=300,
                                                  api_version=version)

    try:
        with Cache(tmp_path / "cache.sqlite") as cache, \
                Cache(tmp_path / "reference.sqlite") as reference:
            def crash(progress):
                if progress.done >= 300:
                    raise RuntimeError("power cut")

            with pytest.raises(RuntimeError):
                pull_all(cache, bulk_source("59.0"), progress=crash)
            assert cache.get_state("salesforce:Contact:bulk")["version"] == "59.0"
            jobs_before = len(running.salesforce_app._jobs)
            result = pull_all(cache, bulk_source(resume_version)).salesforce
            assert result.status == PullStatus.COMPLETE, (situation, result.message)
            assert len(running.salesforce_app._jobs) == jobs_before + new_jobs, situation
            assert any("API version" in n for n in result.notices) == (new_jobs == 2)
            assert pull_all(reference, bulk_source(resume_version)).salesforce.status == \
                PullStatus.COMPLETE
            assert snapshot(cache) == snapshot(reference)
    finally:
        running.stop()


# -- records emptied from the recycle bin -------------------------------------------------------

def _purge_a_contact(store) -> str:
    contact = store.query("SELECT Id FROM Contact ORDER BY Id LIMIT 1")[0]["Id"]
    store.delete("Contact", contact, user_id=OTHER_USER)
    store.purge("Contact", contact)
    return contact


def _is_deleted(cache, record_id) -> int:
    return cache.conn.execute("SELECT is_deleted FROM sf_records WHERE id = ?",
                              (record_id,)).fetchone()[0]


def _last_pull_began(cache, days_ago: int) -> None:
    began = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with cache.transaction():
        cache.set_state("salesforce:last_complete", {"started_at": began, "finished_at": began})
        cache.set_state("salesforce:snapshot", {"complete": True, "as_of": began, "reason": ""})


# (situation, days since the last complete pull, full pull asked, a short page, swept)
RECYCLE_BIN = [
    ("last pull 20 days ago: everything is re-read", 20, False, False, 1),
    ("a full pull is asked for", 0, True, False, 1),
    ("a recent incremental pull never guesses", 1, False, False, 0),
    ("an incomplete re-read deletes nothing", 20, False, True, 0),
]


@pytest.mark.parametrize("situation, days, full, short, swept", RECYCLE_BIN,
                         ids=[r[0] for r in RECYCLE_BIN])
def test_records_emptied_from_the_recycle_bin(org, tmp_path, situation, days, full, short, swept):
    with Cache(tmp_path / "cache.sqlite") as cache:
        assert pull_all(cache, source(org)).salesforce.status == PullStatus.COMPLETE
        purged = _purge_a_contact(org.sf_store)
        # queryAll no longer returns it; getDeleted still lists it
        assert not org.sf_store.query(f"SELECT Id FROM Contact WHERE Id = '{purged}'",
                                      include_deleted=True)
        _last_pull_began(cache, days)
        if short:
            org.salesforce_app.faults.add("status", route=OBJECTS_QUERY, count=1, status=200,
                                          body={"totalSize": 9, "done": True, "records": []})
        result = pull_all(cache, source(org), full=full).salesforce
        assert result.status == (PullStatus.INCOMPLETE if short else PullStatus.COMPLETE)
        assert result.details.get("swept", 0) == swept
        assert _is_deleted(cache, purged) == swept
        # nothing else was touched, and the bookkeeping is gone
        assert cache.conn.execute("SELECT count(*) FROM sf_records WHERE is_deleted = 1 "
                                  "AND id != ?", (purged,)).fetchone()[0] == \
            len(org.sf_store.query("SELECT Id FROM Contact WHERE IsDeleted = true",
                                   include_deleted=True)) + \
            len(org.sf_store.query("SELECT Id FROM Lead WHERE IsDeleted = true",
                                   include_deleted=True))
        assert cache.conn.execute("SELECT count(*) FROM pull_seen").fetchone()[0] == 0
        if days > 15 and not short:
            assert "15 days" in " ".join(result.notices)


def test_a_sweep_cancelled_midway_resumes_and_still_sweeps(org, tmp_path):
    cancel = threading.Event()

    def stop_after_a_page(progress):
        if progress.system == "salesforce" and progress.done >= 200:
            cancel.set()

    with Cache(tmp_path / "cache.sqlite") as cache:
        assert pull_all(cache, source(org)).salesforce.status == PullStatus.COMPLETE
        purged = _purge_a_contact(org.sf_store)
        _last_pull_began(cache, 30)
        first = pull_all(cache, source(org), progress=stop_after_a_page, cancel=cancel)
        assert first.salesforce.status != PullStatus.COMPLETE and _is_deleted(cache, purged) == 0
        assert cache.conn.execute("SELECT count(*) FROM pull_seen").fetchone()[0] >= 200
        resumed = pull_all(cache, source(org)).salesforce
        assert resumed.status == PullStatus.COMPLETE and resumed.details["swept"] == 1
        assert _is_deleted(cache, purged) == 1
        again = pull_all(cache, source(org)).salesforce  # now recent: incremental again
        assert again.mode == "incremental" and "swept" not in again.details


def _live_marked_deleted(cache, store) -> list[str]:
    live = {r["Id"] for obj in ("Contact", "Lead")
            for r in store.query(f"SELECT Id FROM {obj} WHERE IsDeleted = false")}
    return [r[0] for r in cache.conn.execute("SELECT id FROM sf_records WHERE is_deleted = 1")
            if r[0] in live]


def test_a_full_pull_over_an_unfinished_bulk_load_sweeps_nothing_alive(tls_dir, tmp_path):
    running = sandbox(2400, 12, tls_dir=tls_dir)
    try:
        def bulk_source():
            return source(running, bulk_threshold=100, bulk_page_size=300)

        with Cache(tmp_path / "cache.sqlite") as cache:
            reports = []

            def power_cut(progress):
                reports.append(progress)
                if len(reports) == 2:
                    raise RuntimeError("power cut")

            with pytest.raises(RuntimeError):
                pull_all(cache, bulk_source(), progress=power_cut)
            assert cache.get_state("salesforce:Contact:bulk") is not None
            result = pull_all(cache, bulk_source(), full=True).salesforce
            assert result.status == PullStatus.COMPLETE
            assert result.details["swept"] == 0
            assert _live_marked_deleted(cache, running.sf_store) == []
    finally:
        running.stop()


def test_a_page_short_before_a_cancel_stops_the_sweep_after_the_resume(org, tmp_path):
    with Cache(tmp_path / "cache.sqlite") as cache:
        assert pull_all(cache, source(org)).salesforce.status == PullStatus.COMPLETE
        _last_pull_began(cache, 20)
        rows = org.sf_store.query("SELECT Id, FirstName, LastName, Email, SystemModstamp "
                                  "FROM Contact ORDER BY SystemModstamp, Id LIMIT 50")
        skipped = rows[10]["Id"]
        org.salesforce_app.faults.add("status", route=OBJECTS_QUERY, count=1, status=200, body={
            "totalSize": 50, "done": True, "records": rows[:10] + rows[11:]})
        cancel = threading.Event()

        def cancel_after_the_page(progress):
            if progress.system == "salesforce":
                cancel.set()

        first = pull_all(cache, source(org), progress=cancel_after_the_page, cancel=cancel)
        assert first.salesforce.status != PullStatus.COMPLETE
        resumed = pull_all(cache, source(org)).salesforce
        assert resumed.status == PullStatus.INCOMPLETE and "all records re-read" in resumed.message
        assert "swept" not in resumed.details
        assert _is_deleted(cache, skipped) == 0


def _deleted_log_checked(cache, days_ago: float) -> None:
    when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    with cache.transaction():
        for name in ("Contact", "Lead"):
            cache.set_state(f"salesforce:{name}:deleted", {"covered_to": when, "checked_at": when})


# (situation, days since the delete log was last read, whether the emptied record is found,
#  delete-log calls this pull makes)
DELETE_LOG = [
    ("a day later: the delete log finds it", 1.5, 1, 2),
    ("the same day: not asked again, found tomorrow", 0.1, 0, 0),
]


@pytest.mark.parametrize("situation, days, found, log_calls", DELETE_LOG,
                         ids=[d[0] for d in DELETE_LOG])
def test_a_record_emptied_from_the_bin_between_pulls_is_found_within_a_day(
        org, tmp_path, monkeypatch, situation, days, found, log_calls):
    from core.sync import pull_salesforce

    # getDeleted windows are whole seconds: the next pull runs a moment after the deletion
    monkeypatch.setattr(pull_salesforce, "_now",
                        lambda: datetime.now(UTC) + timedelta(seconds=2))
    with Cache(tmp_path / "cache.sqlite") as cache:
        assert pull_all(cache, source(org)).salesforce.status == PullStatus.COMPLETE
        assert cache.get_state("salesforce:Contact:deleted")  # tracked from the first pull
        purged = _purge_a_contact(org.sf_store)  # deleted and emptied before the next pull
        _deleted_log_checked(cache, days)
        sf = source(org)
        paths = []
        sf.session.hooks["response"].append(
            lambda response, *a, **k: paths.append(response.request.path_url))
        result = pull_all(cache, sf).salesforce
        assert result.status == PullStatus.COMPLETE
        assert _is_deleted(cache, purged) == found, situation
        assert sum("/deleted/" in p for p in paths) == log_calls
        # the rest of the pull costs what it always did: records and history, per object
        assert sf.api_calls == 4 + log_calls


def test_the_delete_log_is_read_again_only_a_day_later(org, tmp_path):
    with Cache(tmp_path / "cache.sqlite") as cache:
        pull_all(cache, source(org))
        _deleted_log_checked(cache, 2)
        pull_all(cache, source(org))
        checked = cache.get_state("salesforce:Contact:deleted")["checked_at"]
        again = source(org)
        pull_all(cache, again)
        assert again.api_calls == 4
        assert cache.get_state("salesforce:Contact:deleted")["checked_at"] == checked
