"""Pulling Apollo through requests against the emulator: rate limits, faults, the
50,000-record search cap, and incremental pulls."""

from __future__ import annotations

import pytest

from core.model import PullStatus
from core.sandbox.apollo.store import default_stages
from core.sandbox.ids import apollo_id
from core.store.cache import Cache
from core.sync.pull import pull_all
from tests.harness import ApolloOnly, make_contacts, snapshot

STAGE = {s["name"]: s["id"] for s in default_stages()}
COLD, REPLIED, INTERESTED = STAGE["Cold"], STAGE["Replied"], STAGE["Interested"]


def pulled_ids(cache: Cache) -> set[str]:
    return {r[0] for r in cache.conn.execute("SELECT id FROM apollo_contacts")}


def reference_pull(apollo: ApolloOnly, path) -> dict:
    limits = dict(apollo.app.limiter.limits)
    apollo.app.limiter.limits.update(minute=None, hour=None, day=None)
    try:
        with Cache(path) as reference:
            assert pull_all(reference, apollo=apollo.source()).apollo.status == PullStatus.COMPLETE
            return snapshot(reference)
    finally:
        apollo.app.limiter.limits.update(limits)


def test_paces_itself_under_the_minute_limit_without_429s(tls_material, tmp_path):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 1500)]),
                        limits={"minute": 7, "hour": None, "day": None})
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            source = apollo.source()
            summary = pull_all(cache, apollo=source)
            assert summary.apollo.status == PullStatus.COMPLETE and len(pulled_ids(cache)) == 1500
            assert source.rate_limited == 0  # paced from the headers, never refused
            assert source.waited > 0 and all(0 < s <= 61 for s in apollo.slept)
    finally:
        apollo.close()


# (situation, fault, options, app options, expected first status)
FAULTS = [
    ("429 minute with Retry-After", "rate_limit", dict(count=2, window="minute"), {}, PullStatus.COMPLETE),
    ("429 minute without Retry-After", "rate_limit", dict(count=2, window="minute"),
     {"retry_after": False}, PullStatus.COMPLETE),
    ("503 on search", "status", dict(route="/contacts/search", count=3, status=503), {}, PullStatus.COMPLETE),
    ("500 on search", "status", dict(route="/contacts/search", count=2, status=500), {}, PullStatus.COMPLETE),
    ("dropped connection", "drop", dict(route="/contacts/search", count=2), {}, PullStatus.COMPLETE),
    ("truncated body", "truncate", dict(route="/contacts/search", count=2), {}, PullStatus.COMPLETE),
    ("429 hourly limit", "rate_limit", dict(count=1, window="hour"), {}, PullStatus.STOPPED),
    ("429 daily limit", "rate_limit", dict(count=1, window="day"), {}, PullStatus.STOPPED),
    ("key revoked", "unauthorized", dict(count=1), {}, PullStatus.FAILED),
    ("500 every time", "status", dict(route="/contacts/search", status=500), {}, PullStatus.FAILED),
]


@pytest.mark.parametrize("situation, kind, options, app_options, first", FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_faults_are_survived_or_stop_cleanly(tls_material, tmp_path, situation, kind, options,
                                             app_options, first):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 450)]), **app_options)
    try:
        reference = reference_pull(apollo, tmp_path / "reference.sqlite")
        with Cache(tmp_path / "cache.sqlite") as cache:
            rule = apollo.app.faults.add(kind, **options)
            summary = pull_all(cache, apollo=apollo.source())
            assert rule.fired >= 1
            result = summary.apollo
            assert result.status == first, result.message
            if first == PullStatus.STOPPED:
                assert result.resume_at and "continues where it stopped" in result.message
            if first == PullStatus.FAILED:
                assert result.message
            apollo.app.faults.clear()
            assert pull_all(cache, apollo=apollo.source()).apollo.status == PullStatus.COMPLETE
            assert snapshot(cache) == reference
    finally:
        apollo.close()


@pytest.mark.parametrize("header_style", ["live", "documented"])
def test_spent_hour_and_day_windows_stop_and_resume_to_the_same_cache(tls_material, tmp_path,
                                                                      header_style):
    # Given a workspace that needs ~9 searches, and 4 requests per hour and 6 per day
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 800)]), header_style=header_style,
                        limits={"minute": None, "hour": 4, "day": 6})
    try:
        reference = reference_pull(apollo, tmp_path / "reference.sqlite")
        apollo.app.limiter.reset()
        windows = []
        with Cache(tmp_path / "cache.sqlite") as cache:
            for _ in range(10):
                source = apollo.source()
                summary = pull_all(cache, apollo=source)
                if summary.apollo.status == PullStatus.COMPLETE:
                    break
                # Then each pull stops when a header says the window is spent, before a 429
                assert summary.apollo.status == PullStatus.STOPPED and source.rate_limited == 0
                windows.append("daily" if "daily" in summary.apollo.message else "hourly")
                apollo.clock.advance(hours=24 if windows[-1] == "daily" else 1, seconds=1)
            assert summary.apollo.status == PullStatus.COMPLETE
            assert "hourly" in windows and "daily" in windows
            assert snapshot(cache) == reference
    finally:
        apollo.close()


def test_beyond_the_cap_stages_are_read_from_both_ends(tls_material, tmp_path):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 700), (REPLIED, 400), (INTERESTED, 90)]))
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            source = apollo.source(max_pages=5)
            summary = pull_all(cache, apollo=source)
            assert summary.apollo.status == PullStatus.COMPLETE, summary.apollo.message
            assert len(pulled_ids(cache)) == 1190
            assert cache.get_state("apollo_stages")[COLD] == "Cold"
            slices = {s["name"]: s for s in summary.apollo.details["apollo_full"]["slices"]}
            assert slices["stage Cold"] == {"name": "stage Cold", "total": 700, "seen": 700}
            # stage list + probe + one probe per stage (9) + Cold 4+2 more pages + Replied 3
            assert source.api_calls == 2 + 9 + 6 + 3
            assert cache.get_state("apollo:snapshot")["complete"] is True
    finally:
        apollo.close()


# Apollo documents that search shows at most 50,000 contacts (500 pages of 100) but not what
# pagination.total_entries says beyond that. Both ways, scaled down to a cap of 500:
# (situation, contacts per stage, total_entries capped, snapshot complete, contacts pulled)
CAPPED_TOTALS = [
    ("totals as counted, stages under the cap", [(COLD, 450), (REPLIED, 400), (INTERESTED, 90)],
     False, True, 940),
    ("totals capped, stages under the cap: split by stage, complete",
     [(COLD, 450), (REPLIED, 400), (INTERESTED, 90)], True, True, 940),
    ("totals as counted, a stage over the cap read from both ends", [(COLD, 700), (REPLIED, 400)],
     False, True, 1100),
    ("totals capped, a stage over the cap: at least, never called complete",
     [(COLD, 700), (REPLIED, 400)], True, False, 1100),
    ("totals capped, some contacts in no stage: they cannot be counted",
     [(COLD, 300), (None, 150), (REPLIED, 200)], True, False, 650),
    ("totals as counted, some contacts in no stage", [(COLD, 300), (None, 250), (REPLIED, 200)],
     False, True, 750),
]


@pytest.mark.parametrize("situation, stages, capped, complete, pulled", CAPPED_TOTALS,
                         ids=[c[0] for c in CAPPED_TOTALS])
def test_a_total_at_the_cap_is_at_least_never_the_whole(tls_material, tmp_path, situation,
                                                        stages, capped, complete, pulled):
    apollo = ApolloOnly(tls_material, make_contacts(stages), display_cap=500,
                        cap_total_entries=capped)
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            summary = pull_all(cache, apollo=apollo.source(max_pages=5))
            assert len(pulled_ids(cache)) == pulled, situation
            assert cache.get_state("apollo:snapshot")["complete"] is complete, situation
            assert (summary.apollo.status == PullStatus.COMPLETE) == complete
            if not complete:
                assert "at least" in summary.apollo.message
                assert "never treated as deleted" in summary.apollo.message
    finally:
        apollo.close()


def test_contacts_in_no_stage_are_reached_from_the_unfiltered_ends(tls_material, tmp_path):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 300), (None, 300), (REPLIED, 300)]))
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            summary = pull_all(cache, apollo=apollo.source(max_pages=5))
            assert summary.apollo.status == PullStatus.COMPLETE, summary.apollo.message
            assert len(pulled_ids(cache)) == 900
    finally:
        apollo.close()


def test_unreachable_contacts_mark_the_snapshot_incomplete_and_are_never_deleted(
        tls_material, tmp_path, monkeypatch):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 1200), (REPLIED, 50)],
                                                    updated_like_created=True))
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            # Given everything was pulled once (all of it reachable)
            assert pull_all(cache, apollo=apollo.source()).apollo.status == PullStatus.COMPLETE
            # When search shows only 500 per filter and one stage holds 1,200 whose
            # created and updated orders are the same (so 200 in the middle are unreachable)
            summary = pull_all(cache, apollo=apollo.source(max_pages=5), full=True)
            # Then the pull says so, and the contacts it could not reach stay in the cache
            assert summary.apollo.status == PullStatus.INCOMPLETE
            assert "stage Cold: reached 1000 of 1200" in summary.apollo.message
            assert "never treated as deleted" in summary.apollo.message
            assert len(pulled_ids(cache)) == 1250
            assert cache.get_state("apollo:snapshot")["complete"] is False
    finally:
        apollo.close()


def test_incremental_pull_reads_only_what_changed(tls_material, tmp_path):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 600), (REPLIED, 200)]))
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            assert pull_all(cache, apollo=apollo.source()).apollo.mode == "full"
            source = apollo.source()
            unchanged = pull_all(cache, apollo=source)
            assert unchanged.apollo.mode == "incremental" and source.api_calls == 1
            assert unchanged.apollo.inserted == unchanged.apollo.updated == 0
            ids = sorted(pulled_ids(cache))[:3]
            for contact_id in ids:
                apollo.clock.advance(seconds=1)
                apollo.store.update(contact_id, {"email": f"moved.{contact_id}@elsewhere.example"})
            source = apollo.source()
            changed = pull_all(cache, apollo=source)
            assert source.api_calls == 1
            assert changed.apollo.updated == 3 and changed.apollo.email_changes == 3
            emails = dict(cache.conn.execute("SELECT id, email FROM apollo_contacts WHERE id IN "
                                             "(?, ?, ?)", ids))
            assert all(emails[i] == f"moved.{i}@elsewhere.example" for i in ids)
    finally:
        apollo.close()


def test_too_many_changes_for_one_search_become_a_full_pull(tls_material, tmp_path):
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 400), (REPLIED, 400)]))
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            assert pull_all(cache, apollo=apollo.source(max_pages=5)).apollo.status == PullStatus.COMPLETE
            for contact_id in sorted(pulled_ids(cache))[:650]:
                apollo.store.update(contact_id, {"title": "Changed"})
            summary = pull_all(cache, apollo=apollo.source(max_pages=5))
            assert summary.apollo.mode == "full" and summary.apollo.status == PullStatus.COMPLETE
            assert summary.apollo.updated == 650
    finally:
        apollo.close()


def test_a_workspace_of_120000_contacts_is_pulled_completely_past_the_cap(tls_material, tmp_path):
    # total_entries as counted (see CAPPED_TOTALS for the capped case)
    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 70_000), (REPLIED, 45_000),
                                                     (INTERESTED, 5_000)]),
                        cap_total_entries=False)
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            source = apollo.source()
            summary = pull_all(cache, apollo=source)
            result = summary.apollo
            assert result.status == PullStatus.COMPLETE, result.message
            assert cache.conn.execute("SELECT count(*) FROM apollo_contacts").fetchone()[0] == 120_000
            assert result.details["apollo_full"]["reached"] == 120_000
            # 1,200 pages of 100 (three of them the stage probes), plus the stage list, the
            # first probe and the probes of the six empty stages
            assert source.api_calls == 1_200 + 2 + 6
            assert cache.conn.execute("SELECT count(*) FROM pull_seen").fetchone()[0] == 0
    finally:
        apollo.close()


def test_a_full_pull_supersedes_an_unfinished_incremental_one(tls_material, tmp_path):
    import threading

    apollo = ApolloOnly(tls_material, make_contacts([(COLD, 500)]))
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            assert pull_all(cache, apollo=apollo.source()).apollo.status == PullStatus.COMPLETE
            for contact_id in sorted(pulled_ids(cache))[:250]:
                apollo.store.update(contact_id, {"title": "Changed"})
            cancel = threading.Event()
            summary = pull_all(cache, apollo=apollo.source(), cancel=cancel,
                               progress=lambda p: cancel.set())
            assert summary.apollo.status == "cancelled"
            assert cache.get_state("apollo:incremental")["page"] == 2
            assert pull_all(cache, apollo=apollo.source(), full=True).apollo.status == PullStatus.COMPLETE
            assert cache.get_state("apollo:incremental") is None
            source = apollo.source()
            assert pull_all(cache, apollo=source).apollo.mode == "incremental"
            assert source.api_calls == 1
    finally:
        apollo.close()


# -- splitting large stages by list ---------------------------------------------------------

LISTS = [{"id": apollo_id(i + 1, kind=0x8), "name": name, "modality": "contacts"}
         for i, name in enumerate(("Newsletter", "EMEA Enterprise", "Q3 Webinar",
                                   "Trade show 2026", "Partner referrals", "Board intros"))]
LIST_IDS = [label["id"] for label in LISTS]


def in_lists(number: int, *, unlisted=lambda n: n < 8_000) -> list[str]:
    """Uneven lists (40/25/15/10/7/3 %), every fourth contact in a second one; ``unlisted``
    contacts (by default the oldest 8,000, imported before lists were used) in none."""
    if unlisted(number):
        return []
    share = (number * 2654435761) % 100
    first = next(i for i, bound in enumerate((40, 65, 80, 90, 97, 100)) if share < bound)
    chosen = {first, (first + 2) % 6} if number % 4 == 0 else {first}
    return [LIST_IDS[i] for i in sorted(chosen)]


def test_a_stage_of_130000_is_split_by_list_and_pulled_completely(tls_material, tmp_path):
    contacts = make_contacts([(COLD, 130_000), (REPLIED, 20_000)], lists=in_lists)
    # total_entries as counted (see CAPPED_TOTALS for the capped case)
    apollo = ApolloOnly(tls_material, contacts, labels=LISTS, cap_total_entries=False)
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            source = apollo.source()
            result = pull_all(cache, apollo=source).apollo
            # Then every contact is stored once, those in two lists counted once
            assert result.status == PullStatus.COMPLETE, result.message
            assert len(pulled_ids(cache)) == 150_000
            assert result.details["apollo_full"]["reached"] == 150_000
            slices = {s["name"]: s for s in result.details["apollo_full"]["slices"]}
            cold = {k: v for k, v in slices.items() if k.startswith("stage Cold")}
            assert "stage Cold, list Newsletter" in cold and "stage Cold, in no list" in cold
            assert sum(s["total"] for s in cold.values()) == 130_000
            assert all(s["seen"] == s["total"] for s in slices.values())
            assert slices["stage Cold, in no list"]["total"] == 8_000
            assert slices["stage Replied"] == {"name": "stage Replied", "total": 20_000,
                                               "seen": 20_000}
            # The lists hold 1.25 memberships a contact: reading them costs more than 1,500
            # pages, but far less than every end of every slice.
            pages = -(-sum(len(c["label_ids"]) for c in contacts[:130_000]) // 100)
            assert 1_500 < source.api_calls < pages + 200 + 80 + 20, source.api_calls
            assert cache.get_state("apollo:snapshot")["complete"] is True
    finally:
        apollo.close()


def test_contacts_in_no_list_out_of_reach_leave_the_snapshot_incomplete(tls_material, tmp_path):
    # Given a stage of 1,300 whose created and updated orders are the same (both ends reach
    # 1,000), and every tenth contact in no list
    contacts = make_contacts([(COLD, 1_300)], updated_like_created=True,
                             lists=lambda n: in_lists(n, unlisted=lambda m: m % 10 == 0))
    apollo = ApolloOnly(tls_material, contacts, labels=LISTS)
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            summary = pull_all(cache, apollo=apollo.source(max_pages=5))
            # Then every listed contact is reached, and the 30 unlisted ones in the middle
            # are reported with the way to reach them
            result = summary.apollo
            assert result.status == PullStatus.INCOMPLETE
            assert "1270 of 1300 contacts were reached, 30 not" in result.message
            assert "stage Cold, in no list: reached 100 of 130" in result.message
            assert "putting them in a list" in result.message
            assert len(pulled_ids(cache)) == 1_270
            assert cache.get_state("apollo:snapshot")["complete"] is False
    finally:
        apollo.close()


def test_without_a_master_key_large_stages_are_not_split_and_the_message_says_why(
        tls_material, tmp_path):
    contacts = make_contacts([(COLD, 1_300)], updated_like_created=True, lists=in_lists)
    apollo = ApolloOnly(tls_material, contacts, labels=LISTS,
                        key_routes=["contacts/search", "contact_stages/index", "labels/index"])
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            result = pull_all(cache, apollo=apollo.source(max_pages=5)).apollo
            assert result.status == PullStatus.INCOMPLETE
            assert "stage Cold: reached 1000 of 1300" in result.message
            assert "needs a master API key" in result.message
    finally:
        apollo.close()


@pytest.mark.parametrize("labels_shape", ["array", "object"])
def test_contacts_in_no_stage_are_split_by_list_too(tls_material, tmp_path,
                                                    labels_shape):
    # Given 1,300 contacts in no stage (too many for the unfiltered search's ends) and a
    # list of accounts, which holds no contacts and must be left out
    accounts_list = {"id": apollo_id(99, kind=0x8), "name": "Target accounts",
                     "modality": "accounts"}
    contacts = make_contacts([(None, 1_300), (COLD, 200)],
                             lists=lambda n: in_lists(n, unlisted=lambda m: m < 100))
    apollo = ApolloOnly(tls_material, contacts, labels=[*LISTS, accounts_list],
                        labels_shape=labels_shape)
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            result = pull_all(cache, apollo=apollo.source(max_pages=5)).apollo
            assert result.status == PullStatus.COMPLETE, result.message
            assert len(pulled_ids(cache)) == 1_500
            names = [s["name"] for s in result.details["apollo_full"]["slices"]]
            assert "contacts without a known stage, list Newsletter" in names
            assert not any("Target accounts" in name for name in names)
            none = [s for s in result.details["apollo_full"]["slices"]
                    if s["name"].startswith("contacts without")]
            assert sum(s["total"] for s in none) == 1_300
            assert [s["total"] for s in none if s["name"].endswith("in no list")] == [100]
    finally:
        apollo.close()


def test_a_pull_split_by_list_stops_and_resumes_to_the_same_cache(tls_material, tmp_path):
    # Given a stage split by list, and 15 searches an hour
    contacts = make_contacts([(COLD, 1_300), (REPLIED, 100)],
                             lists=lambda n: in_lists(n, unlisted=lambda m: m < 60))
    apollo = ApolloOnly(tls_material, contacts, labels=LISTS,
                        limits={"minute": None, "hour": 15, "day": None})
    try:
        reference = reference_pull(apollo, tmp_path / "reference.sqlite")
        apollo.app.limiter.reset()
        with Cache(tmp_path / "cache.sqlite") as cache:
            stops = 0
            while (summary := pull_all(cache, apollo=apollo.source(max_pages=5))).apollo.status != PullStatus.COMPLETE:
                # Then each pull stops cleanly and the next one goes on from there
                assert summary.apollo.status == PullStatus.STOPPED, summary.apollo.message
                stops += 1
                assert stops < 20
                apollo.clock.advance(hours=1, seconds=1)
            assert stops >= 2
            assert snapshot(cache) == reference
    finally:
        apollo.close()
