"""Properties of the decision engine that must hold for any pair (Hypothesis)."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from core import emails, rules
from core.model import (
    ApolloContact,
    Base,
    EditTime,
    Outcome,
    Preset,
    SalesforceRecord,
    Settings,
    Side,
    TimeSource,
)

UTC = timezone.utc
NOW = datetime(2026, 6, 1, tzinfo=UTC)

locals_ = st.sampled_from(["jo", "jo.smith", "j.smith", "smith.jo", "jo_s", "info", "jo+crm", "ana"])
domains = st.sampled_from(["acme.com", "acme.co.uk", "globex.io", "gmail.com", "initech.de"])
good_emails = st.builds(lambda l, d: f"{l}@{d}", locals_, domains)
bad_emails = st.sampled_from(["jo smith@acme.com", "jo@acme", "@acme.com", "jo@@acme.com",
                              "x" * 70 + "@acme.com", "jo@-acme.com", ".jo@acme.com"])
any_email = st.one_of(good_emails, good_emails, bad_emails, st.sampled_from(["", None, "  "]))
statuses = st.sampled_from([None, "verified", "guessed", "unverified", "bounced", "unavailable"])
day = st.integers(min_value=1, max_value=400)


@st.composite
def edit_times(draw):
    kind = draw(st.sampled_from(["exact", "interval", "upper", "unknown"]))
    at = NOW - timedelta(days=draw(day), hours=draw(st.integers(0, 23)))
    if kind == "exact":
        return EditTime.at(at, TimeSource.HISTORY)
    if kind == "interval":
        return EditTime(at - timedelta(hours=6), at, TimeSource.OBSERVATION)
    if kind == "upper":
        return EditTime.upper_bound(at)
    return EditTime(None, None, TimeSource.UNKNOWN)


@st.composite
def pairs(draw):
    a = ApolloContact("a1", email=draw(any_email), email_status=draw(statuses),
                      created_at=NOW - timedelta(days=draw(day)), email_edit=draw(edit_times()))
    bounced = draw(st.one_of(st.none(), st.integers(0, 5)))
    s_edit = draw(edit_times())
    s = SalesforceRecord(
        "003A", draw(st.sampled_from(["Lead", "Contact"])), email=draw(any_email),
        created_at=NOW - timedelta(days=draw(day)), created_by_apollo=draw(st.booleans()),
        bounced_at=(NOW - timedelta(days=bounced) if bounced is not None else None),
        email_edit=s_edit)
    b = draw(st.one_of(st.none(), st.builds(Base, any_email.map(lambda e: e or ""))))
    preset = draw(st.sampled_from(list(Preset)))
    return a, s, b, Settings(preset=preset)


def _usable(side: Side, a: ApolloContact, s: SalesforceRecord) -> bool:
    """An independent reading of 'a good address': present, valid, not bounced."""
    if side is Side.APOLLO:
        check = emails.check(a.email)
        return bool(check.key) and check.valid and (a.email_status or "") != "bounced"
    check = emails.check(s.email, allow_unicode=True)
    bounced = s.bounced_at is not None and not (
        s.email_edit.earliest is not None and s.bounced_at < s.email_edit.earliest)
    return bool(check.key) and check.valid and not bounced


@settings(max_examples=200, deadline=None)
@given(pairs())
def test_decide_is_deterministic(pair):
    a, s, b, cfg = pair
    assert rules.decide(a, s, b, cfg, NOW) == rules.decide(a, s, b, cfg, NOW)


@settings(max_examples=300, deadline=None)
@given(pairs())
def test_never_recommends_a_bad_address_over_a_good_one(pair):
    a, s, b, cfg = pair
    rec = rules.decide(a, s, b, cfg, NOW).recommendation
    if rec.winner in (Side.APOLLO, Side.SALESFORCE):
        loser = rec.winner.other
        assert _usable(rec.winner, a, s) or not _usable(loser, a, s), rec.reason
        assert emails.comparison_key(rec.email), "never a blank winner"
    if rec.strength.value == "strong":
        assert rec.winner is not Side.NONE and _usable(rec.winner, a, s)


@settings(max_examples=300, deadline=None)
@given(pairs(), st.sampled_from(["upper", "title", "spaces", "nbsp", "zero-width"]))
def test_case_or_whitespace_only_difference_is_never_a_conflict(pair, change):
    a, s, b, cfg = pair
    email = s.email or "jo@acme.com"
    variant = {"upper": email.upper(), "title": email.title(), "spaces": f"  {email} ",
               "nbsp": f"\u00a0{email}", "zero-width": f"\u200b{email}"}[change]
    a = replace(a, email=variant)
    s = replace(s, email=email.lower())
    decision = rules.decide(a, s, b, cfg, NOW)
    assert not decision.conflict
    assert decision.native.rule == rules.SAME and decision.recommendation.winner is Side.NONE


@settings(max_examples=300, deadline=None)
@given(good_emails, good_emails, statuses.filter(lambda x: x != "bounced"), edit_times(), edit_times())
def test_swapping_which_side_changed_swaps_the_winner(old, new, status, a_edit, s_edit):
    if emails.same(old, new):
        return
    base = Base(old, NOW - timedelta(days=30))
    a_changed = ApolloContact("a1", email=new, email_status=status, email_edit=a_edit)
    s_same = SalesforceRecord("003A", "Contact", email=old, email_edit=s_edit)
    a_same = ApolloContact("a1", email=old, email_status=status, email_edit=a_edit)
    s_changed = SalesforceRecord("003A", "Contact", email=new, email_edit=s_edit)
    first = rules.decide(a_changed, s_same, base, Settings(), NOW)
    second = rules.decide(a_same, s_changed, base, Settings(), NOW)
    assert first.native.winner is Side.APOLLO and second.native.winner is Side.SALESFORCE
    assert first.native.email == new and second.native.email == new


@settings(max_examples=200, deadline=None)
@given(pairs())
def test_every_outcome_names_a_known_rule_and_gives_one_sentence(pair):
    a, s, b, cfg = pair
    d = rules.decide(a, s, b, cfg, NOW)
    assert d.native.rule in rules.NATIVE_RULES
    assert d.recommendation.rule in rules.ALL_RULES
    assert d.recommendation.reason.startswith(d.recommendation.rule + ":")


@st.composite
def recent_edit_times(draw):
    """Edit times minutes to hours before NOW, so windows open and close across them."""
    latest = NOW - timedelta(minutes=draw(st.integers(0, 240)))
    kind = draw(st.sampled_from(["exact", "interval", "upper"]))
    if kind == "exact":
        return EditTime.at(latest, TimeSource.HISTORY)
    if kind == "interval":
        return EditTime(latest - timedelta(minutes=draw(st.integers(1, 120))), latest,
                        TimeSource.OBSERVATION)
    return EditTime.upper_bound(latest)


@settings(max_examples=300, deadline=None)
@given(pairs(), recent_edit_times(), recent_edit_times(), st.booleans(),
       st.integers(0, 300), st.integers(1, 300))
def test_time_only_turns_pending_into_missed(pair, a_edit, s_edit, linked, first, later):
    """As minutes pass, the winner and rule stay; pending lasts until ``due`` and then is
    missed; missed and none never change; ``due`` and ``cause`` go with their outcome."""
    a, s, b, cfg = pair
    a = replace(a, email_edit=a_edit, updated_at=a_edit.latest,
                salesforce_id=s.id if linked else None)
    s = replace(s, email_edit=s_edit, last_modified=s_edit.latest)
    t1 = NOW + timedelta(minutes=first)
    t2 = t1 + timedelta(minutes=later)
    one, two = (rules.decide(a, s, b, cfg, t).native for t in (t1, t2))
    assert (one.winner, one.email, one.rule) == (two.winner, two.email, two.rule)
    for native, when in ((one, t1), (two, t2)):
        assert (native.due is not None) == (native.outcome is Outcome.PENDING)
        assert (native.cause is not None) == (native.outcome is Outcome.MISSED)
        if native.due is not None:
            assert when < native.due <= when + timedelta(minutes=cfg.apollo_pull_minutes)
        if native.winner is Side.NONE:
            assert native.outcome is Outcome.NONE
    if one.outcome is Outcome.PENDING:
        assert two.outcome is (Outcome.PENDING if t2 < one.due else Outcome.MISSED)
        assert two.due in (one.due, None)
    else:
        assert (two.outcome, two.cause) == (one.outcome, one.cause)
