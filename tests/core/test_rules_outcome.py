"""The outcome beside the native winner (DESIGN §3.2): what Apollo's sync does next.

Apollo pushes an Apollo email edit at once (S8) and pulls Salesforce edits every
``apollo_pull_minutes`` (S1). A difference younger than that is ``pending``; one that
outlived it was ``missed`` and stays until someone edits a side again. One row per situation.
"""

from dataclasses import replace
from datetime import timedelta

import pytest

from core import rules
from core.model import CreatePolicy, EditTime, MissedCause, Outcome, Settings, TimeSource
from tests.core.test_rules import NOW, SETTINGS, apollo, base, salesforce

PENDING, MISSED, NONE = Outcome.PENDING, Outcome.MISSED, Outcome.NONE
PUSH = rules.APOLLO_PUSH_MINUTES


def ago(minutes: float):
    return NOW - timedelta(minutes=minutes)


def sf_edited(minutes: float, email="jsmith@acme.com", **kw):
    """A Salesforce record whose email field history dates the edit ``minutes`` ago."""
    return replace(salesforce(email, **kw), email_edit=EditTime.at(ago(minutes), TimeSource.HISTORY),
                   last_modified=ago(minutes))


def sf_seen(earliest: float | None, latest: float, email="jsmith@acme.com"):
    """A Salesforce edit known as an interval (minutes ago), or an upper bound only."""
    source = TimeSource.OBSERVATION if earliest is not None else TimeSource.RECORD
    first = ago(earliest) if earliest is not None else None
    return replace(salesforce(email), email_edit=EditTime(first, ago(latest), source),
                   last_modified=ago(latest))


def ap_edited(minutes: float, email="jo.smith@acme.com", **kw):
    """An Apollo contact whose email Concord saw change within the minute ``minutes`` ago."""
    return replace(apollo(email, **kw), updated_at=ago(minutes),
                   email_edit=EditTime(ago(minutes + 1), ago(minutes), TimeSource.OBSERVATION))


def minutes_from_now(m: float):
    return NOW + timedelta(minutes=m)


LINKED_TO_LEAD = {"salesforce_id": "00QL", "salesforce_lead_id": "00QL"}
STAGES = Settings(create_policy=CreatePolicy.STAGES, create_stages=("Interested",))

# (situation, apollo, salesforce, base, settings, duplicates, rule, outcome, due, cause)
TABLE = [
    # S1: a Salesforce edit waits for Apollo's next pull, at most apollo_pull_minutes away
    ("S1: a Salesforce edit 29 minutes old: Apollo's next pull is still to come",
     apollo(), sf_edited(29), base(), SETTINGS, (),
     rules.ONE_SIDED, PENDING, minutes_from_now(1), None),
    ("S1: a Salesforce edit exactly 30 minutes old: the pull due now had its chance, so it missed",
     apollo(), sf_edited(30), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.UNKNOWN),
    ("S1: a Salesforce edit three weeks old that Apollo never took",
     apollo(), sf_edited(21 * 1440), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.UNKNOWN),
    ("S1 with Apollo pulling hourly: a 45-minute-old edit is still pending",
     apollo(), sf_edited(45), base(), Settings(apollo_pull_minutes=60), (),
     rules.ONE_SIDED, PENDING, minutes_from_now(15), None),

    # Edit times known only as intervals
    ("Concord saw the old address 40 and the new one 10 minutes ago: it straddles the window",
     apollo(), sf_seen(40, 10), base(), SETTINGS, (),
     rules.ONE_SIDED, PENDING, minutes_from_now(20), None),
    ("Concord saw the change between 20 and 10 minutes ago: wholly inside the window",
     apollo(), sf_seen(20, 10), base(), SETTINGS, (),
     rules.ONE_SIDED, PENDING, minutes_from_now(20), None),
    ("Concord saw the change between 90 and 31 minutes ago: wholly before the window",
     apollo(), sf_seen(90, 31), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.UNKNOWN),
    ("Only LastModifiedDate, 10 minutes ago: the edit may be older, so pending with doubt",
     apollo(), sf_seen(None, 10), base(), SETTINGS, (),
     rules.ONE_SIDED, PENDING, minutes_from_now(20), None),
    ("No time at all for the edit: what is due cannot be told",
     apollo(), replace(salesforce("jsmith@acme.com"), email_edit=EditTime(None, None, TimeSource.UNKNOWN)),
     base(), SETTINGS, (), rules.ONE_SIDED, NONE, None, None),

    # S8: an Apollo edit is pushed at once (allowing a few minutes for Apollo's job queue)
    ("S8: an Apollo edit 3 minutes old: the push is still in Apollo's queue",
     ap_edited(3), salesforce(), base(), SETTINGS, (),
     rules.ONE_SIDED, PENDING, minutes_from_now(PUSH - 3), None),
    ("S8: an Apollo edit 10 minutes old missed its push, though a Salesforce edit would still wait",
     ap_edited(10), salesforce(), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.UNKNOWN),
    ("S3: both changed; the newer Apollo edit (2 minutes) is still being pushed",
     ap_edited(2, "jo.s@acme.com"), sf_edited(3 * 1440, "smith.jo@acme.com"), base(), SETTINGS, (),
     rules.LAST_EDIT, PENDING, minutes_from_now(PUSH - 2), None),
    ("S3: both changed; the newer Salesforce edit (12 minutes) waits for the pull",
     ap_edited(3 * 1440, "jo.s@acme.com"), sf_edited(12, "smith.jo@acme.com"), base(), SETTINGS, (),
     rules.LAST_EDIT, PENDING, minutes_from_now(18), None),

    # Why a change was missed, where the data tells
    ("Missed: another Salesforce Lead already holds Apollo's new address (a duplicate rule)",
     ap_edited(600), salesforce(), base(), SETTINGS, ("00QDUP",),
     rules.ONE_SIDED, MISSED, None, MissedCause.DUPLICATE),
    ("A duplicate does not stop a push that is still in the queue",
     ap_edited(1), salesforce(), base(), SETTINGS, ("00QDUP",),
     rules.ONE_SIDED, PENDING, minutes_from_now(PUSH - 1), None),
    ("Missed at once: Apollo's new address would fail Salesforce's validation",
     ap_edited(1, "jo smith@acme.com"), salesforce(), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.INVALID_ADDRESS),
    ("Missed at once: the contact is linked to no record and its stage is not pushed",
     ap_edited(1, salesforce_id=None), salesforce(), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.STAGE_NOT_PUSHED),
    ("Missed at once: the contact is linked to no record though its stage would be pushed",
     apollo(salesforce_id=None, stage="Interested"), sf_edited(5), base(), STAGES, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.NOT_LINKED),
    ("Missed at once: the contact is linked to another Salesforce Contact",
     apollo(salesforce_id="003OTHER"), sf_edited(5), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.LINKED_ELSEWHERE),
    ("Ids compare on their first 15 characters: an 18-character link is the same record",
     apollo(salesforce_id="003A00000000001AAA"),
     replace(sf_edited(5), id="003A00000000001"), base(), SETTINGS, (),
     rules.ONE_SIDED, PENDING, minutes_from_now(25), None),

    # Converted Leads
    ("A Lead converted after its email was edited 10 minutes ago: no prediction, follow the Contact",
     apollo(**LINKED_TO_LEAD),
     sf_edited(10, obj="Lead", is_converted=True, converted_contact_id="003A"), base(), SETTINGS, (),
     rules.CONVERTED_LEAD, NONE, None, None),
    ("The Contact a Lead became was edited 10 minutes ago, but Apollo is still on the Lead",
     apollo(**LINKED_TO_LEAD), sf_edited(10), base(), SETTINGS, (),
     rules.ONE_SIDED, MISSED, None, MissedCause.CONVERTED_LEAD),

    # S9: a late Salesforce create is pulled like an edit
    ("S9: a Lead created 10 minutes ago for an unpushed contact: Apollo's pull will overwrite",
     apollo("jo@gmail.com", created=100, salesforce_id=None),
     replace(salesforce("jo@acme.com", obj="Lead", created=1), created_at=ago(10)), None, SETTINGS, (),
     rules.LATE_SFDC_CREATE, PENDING, minutes_from_now(20), None),
    ("S9: a Lead created yesterday whose address never reached the contact",
     apollo("jo@gmail.com", created=100), salesforce("jo@acme.com", obj="Lead", created=1), None,
     SETTINGS, (), rules.LATE_SFDC_CREATE, MISSED, None, MissedCause.UNKNOWN),

    # One side only
    ("S7: a contact moved to a pushed stage 2 minutes ago: its Lead is being created",
     replace(apollo(stage="Interested", salesforce_id=None), updated_at=ago(2)), None, None, STAGES, (),
     rules.APOLLO_ONLY_CREATE, PENDING, minutes_from_now(PUSH - 2), None),
    ("S7: a contact at a pushed stage since last week with no Salesforce record",
     replace(apollo(stage="Interested", salesforce_id=None), updated_at=ago(7 * 1440)), None, None,
     STAGES, (), rules.APOLLO_ONLY_CREATE, MISSED, None, MissedCause.UNKNOWN),
    ("S7: an invalid address at a pushed stage can never be created",
     replace(apollo("jo@acme", stage="Interested", salesforce_id=None), updated_at=ago(1)), None, None,
     STAGES, (), rules.APOLLO_ONLY_CREATE, MISSED, None, MissedCause.INVALID_ADDRESS),
    ("S6: a Salesforce Contact created 10 minutes ago is imported on the next pull",
     None, replace(salesforce(), system_modstamp=ago(10)), None, SETTINGS, (),
     rules.SFDC_ONLY_IMPORT, PENDING, minutes_from_now(20), None),
    ("S6: a Salesforce Contact unchanged for months that Apollo never imported",
     None, salesforce(), None, SETTINGS, (), rules.SFDC_ONLY_IMPORT, MISSED, None, MissedCause.UNKNOWN),
    ("S6: In-CRM only: nothing is due", None, salesforce(), None,
     Settings(manage_crm_as_contacts=False), (), rules.SFDC_ONLY_IN_CRM, NONE, None, None),
    ("S7: push settings off: nothing is due", apollo(salesforce_id=None), None, None, SETTINGS, (),
     rules.APOLLO_ONLY_NO_PUSH, NONE, None, None),

    # No rule, nothing due
    ("Agreeing pairs: nothing to do", apollo(), sf_edited(5, "jo@acme.com"), base(), SETTINGS, (),
     rules.SAME, NONE, None, None),
    ("Unknown order: no prediction, so nothing is due",
     apollo("jo.s@acme.com", edited=2, edit_source="record"),
     salesforce("smith.jo@acme.com", edited=3, history=False, by_apollo=True), None, SETTINGS, (),
     rules.UNKNOWN_ORDER, NONE, None, None),
]


@pytest.mark.parametrize("situation, a, s, b, settings, duplicates, rule, outcome, due, cause",
                         TABLE, ids=[row[0] for row in TABLE])
def test_outcome_table(situation, a, s, b, settings, duplicates, rule, outcome, due, cause):
    native = rules.decide(a, s, b, settings, NOW, duplicates=duplicates).native
    assert (native.rule, native.outcome, native.due, native.cause) == (rule, outcome, due, cause)


def reason(a, s, b=None, settings=SETTINGS, **kw) -> str:
    return rules.decide(a, s, b, settings, NOW, **kw).recommendation.reason


@pytest.mark.parametrize("a, s, says", [
    (apollo(), sf_edited(10), "and Apollo should pull it into the contact by 2026-03-02 12:20."),
    (ap_edited(2), salesforce(), "and Apollo should push it to the Salesforce Contact by 2026-03-02 12:03."),
    (apollo(), sf_edited(3 * 1440),
     "but Salesforce's edit of 2026-02-27 should have reached Apollo by 2026-02-27 12:30 and did "
     "not (cause unknown), so the two stay different until one is edited again."),
    (ap_edited(600), salesforce(),
     "but Apollo's edit of 2026-03-02 should have reached Salesforce by 2026-03-02 02:05 and did not"),
    (apollo(), sf_seen(40, 10),
     "by 2026-03-02 12:20 (the edit was made between 2026-03-02 11:20 and 2026-03-02 11:50 (seen "
     "by Concord), so the sync may already have passed it by)"),
    (apollo(**LINKED_TO_LEAD), sf_edited(10),
     "Apollo's sync cannot carry it: the Apollo contact is still linked to Lead 00QL, not to this "
     "Contact, and a converted Lead no longer syncs, so the two stay different until the contact "
     "is linked to this Contact."),
    (ap_edited(1, salesforce_id=None), salesforce(),
     "linked to no Salesforce record, as the push settings create none for contacts in no stage"),
], ids=["pending pull", "pending push", "missed pull", "missed push", "straddling",
        "converted Lead", "stage not pushed"])
def test_the_reason_says_what_is_due_or_what_was_missed_when_and_why(a, s, says):
    text = reason(a, s, base())
    assert says in text, text
    assert text.count(". ") == 0, "one sentence"


def test_a_duplicate_is_named_in_the_reason():
    text = reason(ap_edited(600), salesforce(), base(), duplicates=("00QDUP",))
    assert "Salesforce 00QDUP already holds jo.smith@acme.com" in text


def test_pending_only_while_the_window_lasts():
    """The same pair, decided as the minutes pass: pending until the deadline, then missed."""
    a, s = apollo(), sf_edited(0)
    seen = []
    for minute in (0, 10, 29, 30, 31, 600):
        native = rules.decide(a, s, base(), SETTINGS, NOW + timedelta(minutes=minute)).native
        seen.append(native.outcome)
        assert native.winner.value == "salesforce" and native.rule == rules.ONE_SIDED
    assert seen == [PENDING] * 3 + [MISSED] * 3


def test_an_interval_inside_the_window_is_pending_without_doubt():
    text = reason(apollo(), sf_seen(20, 10), base())
    assert "by 2026-03-02 12:20" in text and "may already" not in text
