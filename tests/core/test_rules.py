"""The decision table, one row per situation a sales-ops user meets, quoting the rule it checks.

Apollo's own rules (S1–S9) are quoted from its help article on which email wins.
"""

from datetime import datetime, timedelta, timezone

import pytest

from core import rules
from core.model import (
    ApolloContact,
    Base,
    CreatePolicy,
    EditTime,
    Outcome,
    Preset,
    SalesforceRecord,
    Settings,
    Side,
    Strength,
    TimeSource,
)

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
APOLLO_USER = "005SANDBOXAPOLLOAAA"


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def apollo(email="jo@acme.com", *, status="guessed", created=400, edited=None, edit_source="observation",
           stage=None, **kw) -> ApolloContact:
    """An Apollo contact; ``edited`` is days ago the email was set (None: unknown)."""
    if edited is None:
        edit = EditTime.upper_bound(days_ago(60))
    elif edit_source == "observation":
        edit = EditTime(days_ago(edited + 0.25), days_ago(edited), TimeSource.OBSERVATION)
    else:
        edit = EditTime.upper_bound(days_ago(edited))
    kw.setdefault("salesforce_id", "003A")  # linked to the record below, as most pairs are
    return ApolloContact("a1", email=email, email_status=status, first_name="Jo",
                         last_name="Smith", organization_name="Acme", created_at=days_ago(created),
                         updated_at=days_ago(edited if edited is not None else 60),
                         email_edit=edit, contact_stage=stage, **kw)


def salesforce(email="jo@acme.com", *, obj="Contact", created=390, edited=None, history=True,
               bounced=None, by_apollo=False, **kw) -> SalesforceRecord:
    """A Salesforce record; ``edited`` is days ago the email was set (field history if tracked)."""
    if edited is None:
        edit = EditTime.upper_bound(days_ago(90))
    elif history:
        edit = EditTime.at(days_ago(edited), TimeSource.HISTORY)
    else:
        edit = EditTime.upper_bound(days_ago(edited))
    return SalesforceRecord("003A", obj, email=email, first_name="Jo", last_name="Smith",
                            created_at=days_ago(created), created_by_apollo=by_apollo,
                            created_by_id=APOLLO_USER if by_apollo else "005OTHER",
                            last_modified=days_ago(edited if edited is not None else 90),
                            bounced_at=days_ago(bounced) if bounced is not None else None,
                            bounce_reason="550 mailbox unavailable" if bounced is not None else None,
                            email_edit=edit, **kw)


def base(email="jo@acme.com", days=30) -> Base:
    return Base(email, days_ago(days))


SETTINGS = Settings()

# (situation, apollo, salesforce, base, settings, native winner, native rule, rec winner, rec rule, strength)
TABLE = [
    # SAME
    ("Both systems hold the same address", apollo(), salesforce(), base(), SETTINGS,
     "none", rules.SAME, "none", rules.SAME, "none"),
    ("Only the case differs: Salesforce lower-cases emails; a case-only difference never writes",
     apollo("Jo@ACME.com"), salesforce("jo@acme.com"), base(), SETTINGS,
     "none", rules.SAME, "none", rules.SAME, "none"),
    ("A trailing space and a no-break space in Apollo's copy are not a difference",
     apollo(" jo@acme.com\u00a0"), salesforce("jo@acme.com"), None, SETTINGS,
     "none", rules.SAME, "none", rules.SAME, "none"),
    ("Both emails are blank", apollo(""), salesforce(None), None, SETTINGS,
     "none", rules.SAME, "none", rules.SAME, "none"),

    # ONE_SIDED — S1/S5 (Salesforce edit pulled), S3/S8 (Apollo edit pushed)
    ("S8: a rep fixed the email in Apollo; Salesforce still has the old one",
     apollo("jo.smith@acme.com", edited=2), salesforce(), base(), SETTINGS,
     "apollo", rules.ONE_SIDED, "apollo", rules.ONE_SIDED, "strong"),
    ("S1: an admin changed the Lead's email in Salesforce; Apollo has the old one",
     apollo(), salesforce("jsmith@acme.com", obj="Lead", edited=2), base(), SETTINGS,
     "salesforce", rules.ONE_SIDED, "salesforce", rules.ONE_SIDED, "strong"),
    ("S5: a Contact's email changed in Salesforce 10 minutes ago: in flight, Apollo pulls soon",
     apollo(), salesforce("jsmith@acme.com", edited=10 / 1440), base(), SETTINGS,
     "salesforce", rules.ONE_SIDED, "salesforce", rules.ONE_SIDED, "strong"),
    ("S1 over a verified Apollo address: the prediction stands, strength drops to review",
     apollo(status="verified"), salesforce("jsmith@acme.com", edited=2), base(), SETTINGS,
     "salesforce", rules.ONE_SIDED, "salesforce", rules.Q_UNVERIFIED, "review"),

    # LAST_EDIT — S3: the most recent manual edit wins
    ("S3: both changed since they agreed; the Salesforce edit (field history) is newer",
     apollo("jo.s@acme.com", edited=9), salesforce("smith.jo@acme.com", edited=3), base(), SETTINGS,
     "salesforce", rules.LAST_EDIT, "salesforce", rules.LAST_EDIT, "medium"),
    ("S3: both changed; the Apollo edit (seen by Concord) is newer",
     apollo("jo.s@acme.com", edited=1), salesforce("smith.jo@acme.com", edited=6), base(), SETTINGS,
     "apollo", rules.LAST_EDIT, "apollo", rules.LAST_EDIT, "medium"),
    ("No base: Salesforce field history dates its edit after Apollo's last possible edit",
     apollo("jo.s@acme.com", edited=20, edit_source="record"), salesforce("smith.jo@acme.com", edited=5),
     None, SETTINGS, "salesforce", rules.LAST_EDIT, "salesforce", rules.LAST_EDIT, "medium"),
    ("Exact Salesforce time against Apollo's updated_at only: a guess to check",
     apollo("jo.s@acme.com", edited=2, edit_source="record"), salesforce("smith.jo@acme.com", edited=5),
     base("old@acme.com"), SETTINGS, "apollo", rules.LAST_EDIT, "apollo", rules.LAST_EDIT, "review"),

    # UNKNOWN_ORDER
    ("First run without field history: two 'last modified' stamps say nothing about emails",
     apollo("jo.s@acme.com", edited=2, edit_source="record"),
     salesforce("smith.jo@acme.com", edited=3, history=False, by_apollo=True), None, SETTINGS,
     "none", rules.UNKNOWN_ORDER, "none", rules.UNKNOWN_ORDER, "review"),

    # LATE_SFDC_CREATE — S9
    ("S9: someone created a Lead for an unpushed Apollo contact, with another address",
     apollo("jo@gmail.com", created=100), salesforce("jo@acme.com", obj="Lead", created=1), None,
     SETTINGS, "salesforce", rules.LATE_SFDC_CREATE, "salesforce", rules.LATE_SFDC_CREATE, "medium"),
    ("Not S9: Apollo created the record itself (the contact was pushed)",
     apollo("jo@gmail.com", created=100, edited=1), salesforce("jo@acme.com", created=50, edited=20, by_apollo=True),
     None, SETTINGS, "apollo", rules.LAST_EDIT, "apollo", rules.LAST_EDIT, "medium"),

    # CONVERTED_LEAD
    ("The linked Lead was converted: pushes to it fail; follow the Contact",
     apollo("jo.s@acme.com"), salesforce(obj="Lead", is_converted=True, converted_contact_id="003B"),
     base(), SETTINGS, "none", rules.CONVERTED_LEAD, "none", rules.CONVERTED_LEAD, "review"),

    # Quality guards
    ("Q_BOUNCED: Salesforce changed to an address that bounced since; keep Apollo's",
     apollo(), salesforce("jsmith@acme.com", edited=5, bounced=2), base(), SETTINGS,
     "salesforce", rules.ONE_SIDED, "apollo", rules.Q_BOUNCED, "medium"),
    ("A bounce recorded before the current address was set does not count",
     apollo(), salesforce("jsmith@acme.com", edited=5, bounced=8), base(), SETTINGS,
     "salesforce", rules.ONE_SIDED, "salesforce", rules.ONE_SIDED, "strong"),
    ("Q_BOUNCED: Apollo marks its new address bounced; keep Salesforce's",
     apollo("jo.smith@acme.com", status="bounced", edited=2), salesforce(), base(), SETTINGS,
     "apollo", rules.ONE_SIDED, "salesforce", rules.Q_BOUNCED, "medium"),
    ("Q_EMPTY: someone blanked the email in Salesforce; never recommend blank",
     apollo(), salesforce("", edited=2), base(), SETTINGS,
     "salesforce", rules.ONE_SIDED, "apollo", rules.Q_EMPTY, "medium"),
    ("Q_EMPTY: Apollo lost its email; keep Salesforce's",
     apollo(None, edited=1), salesforce(), base(), SETTINGS,
     "apollo", rules.ONE_SIDED, "salesforce", rules.Q_EMPTY, "medium"),
    ("Q_INVALID: Apollo's new address has a space, which Salesforce rejects",
     apollo("jo smith@acme.com", edited=1), salesforce(), base(), SETTINGS,
     "apollo", rules.ONE_SIDED, "salesforce", rules.Q_INVALID, "medium"),
    ("Q_INVALID: an 81-character address would be rejected by Salesforce",
     apollo("j" * 70 + "@acme-co.com", edited=1), salesforce(), base(), SETTINGS,
     "apollo", rules.ONE_SIDED, "salesforce", rules.Q_INVALID, "medium"),
    ("Unknown order, but one side bounced: recommend the other",
     apollo("jo.s@acme.com", status="bounced", edited=2, edit_source="record"),
     salesforce("smith.jo@acme.com", edited=3, history=False, by_apollo=True), None, SETTINGS,
     "none", rules.UNKNOWN_ORDER, "salesforce", rules.Q_BOUNCED, "medium"),
    ("Neither address is usable: type one",
     apollo("jo smith@acme", edited=1), salesforce("", edited=3), base(), SETTINGS,
     "apollo", rules.LAST_EDIT, "none", rules.Q_INVALID, "review"),

    # Presets (the guards still apply on top)
    ("Preset 'Salesforce is the source of truth' over an Apollo edit",
     apollo("jo.smith@acme.com", edited=2), salesforce(), base(), Settings(preset=Preset.SALESFORCE_MASTER),
     "apollo", rules.ONE_SIDED, "salesforce", rules.PRESET_SALESFORCE, "medium"),
    ("Preset 'Apollo is the source of truth' over a Salesforce edit",
     apollo(), salesforce("jsmith@acme.com", edited=2), base(), Settings(preset=Preset.APOLLO_MASTER),
     "salesforce", rules.ONE_SIDED, "apollo", rules.PRESET_APOLLO, "medium"),
    ("Preset 'verified wins' keeps Apollo's verified address",
     apollo(status="verified"), salesforce("jsmith@acme.com", edited=2), base(),
     Settings(preset=Preset.VERIFIED_WINS),
     "salesforce", rules.ONE_SIDED, "apollo", rules.PRESET_VERIFIED, "medium"),
    ("A preset never picks a bounced address",
     apollo(), salesforce("jsmith@acme.com", edited=5, bounced=1), base(),
     Settings(preset=Preset.SALESFORCE_MASTER),
     "salesforce", rules.ONE_SIDED, "apollo", rules.Q_BOUNCED, "medium"),
    ("A preset that agrees with Apollo's sync keeps the native rule",
     apollo(), salesforce("jsmith@acme.com", edited=2), base(), Settings(preset=Preset.SALESFORCE_MASTER),
     "salesforce", rules.ONE_SIDED, "salesforce", rules.ONE_SIDED, "strong"),

    # One side only — S6 and S7
    ("S7: creation push on for the contact's stage: Apollo will create a Lead",
     apollo(stage="Interested"), None, None,
     Settings(create_policy=CreatePolicy.STAGES, create_stages=("Interested",)),
     "apollo", rules.APOLLO_ONLY_CREATE, "apollo", rules.APOLLO_ONLY_CREATE, "none"),
    ("S7: creation push off: the contact stays unpushed (a candidate for S9 later)",
     apollo(stage="Cold"), None, None, Settings(create_policy=CreatePolicy.OFF),
     "none", rules.APOLLO_ONLY_NO_PUSH, "none", rules.APOLLO_ONLY_NO_PUSH, "none"),
    ("S7 with a bounced address: Apollo would create a record with it",
     apollo(status="bounced", stage="Interested"), None, None, Settings(create_policy=CreatePolicy.ON),
     "apollo", rules.APOLLO_ONLY_CREATE, "none", rules.Q_BOUNCED, "review"),
    ("S6: a Salesforce record with no contact, In-CRM records managed as contacts",
     None, salesforce(), None, Settings(manage_crm_as_contacts=True),
     "salesforce", rules.SFDC_ONLY_IMPORT, "salesforce", rules.SFDC_ONLY_IMPORT, "none"),
    ("S6: a Salesforce record with no contact, only shown In CRM",
     None, salesforce(), None, Settings(manage_crm_as_contacts=False),
     "none", rules.SFDC_ONLY_IN_CRM, "none", rules.SFDC_ONLY_IN_CRM, "none"),
]


@pytest.mark.parametrize(
    "situation, a, s, b, settings, native_winner, native_rule, rec_winner, rec_rule, strength",
    TABLE, ids=[row[0] for row in TABLE])
def test_decision_table(situation, a, s, b, settings, native_winner, native_rule, rec_winner,
                        rec_rule, strength):
    decision = rules.decide(a, s, b, settings, NOW)
    assert decision.native.winner.value == native_winner
    assert decision.native.rule == native_rule
    assert decision.recommendation.winner.value == rec_winner
    assert decision.recommendation.rule == rec_rule
    assert decision.recommendation.strength.value == strength
    reason = decision.recommendation.reason
    assert reason.startswith(rec_rule + ":"), "the reason names the rule first"
    assert len(reason) < 400 and reason.count(". ") == 0, "one sentence"


def test_every_rule_has_a_row():
    used = {row[6] for row in TABLE} | {row[8] for row in TABLE}
    assert used >= set(rules.ALL_RULES)


def test_seed_sentences_each_have_a_row():
    for sentence in ("S1", "S3", "S5", "S6", "S7", "S8", "S9"):
        assert any(row[0].startswith(sentence) or f"{sentence}:" in row[0] or f" {sentence} " in row[0]
                   for row in TABLE), sentence
    # S2 and S4 are matching rules: S4 (Contact preferred over Lead) is in test_matching.py;
    # S2 (Salesforce→Apollo updates are automatic) is the same event as S1.


def test_in_flight_salesforce_edit_is_flagged_and_explained():
    d = rules.decide(apollo(), salesforce("jsmith@acme.com", edited=10 / 1440), base(), SETTINGS, NOW)
    assert d.native.in_flight and d.native.outcome is Outcome.PENDING
    assert "Apollo should pull it into the contact by 2026-03-02 12:20" in d.recommendation.reason


def test_reasons_name_the_facts_used():
    d = rules.decide(apollo(), salesforce("jsmith@acme.com", edited=5, bounced=2), base(), SETTINGS, NOW)
    assert "jsmith@acme.com" in d.recommendation.reason
    assert "bounce" in d.recommendation.reason
    assert "jo@acme.com" in d.recommendation.reason


def test_plus_tag_and_gmail_dots_are_hints_never_merged():
    d = rules.decide(apollo("jo+crm@acme.com", edited=1), salesforce("jo@acme.com"), base(), SETTINGS, NOW)
    assert d.conflict and "same_mailbox_plus_tag" in d.hints
    d = rules.decide(apollo("j.o.smith@gmail.com", edited=1), salesforce("josmith@gmail.com"),
                     base("josmith@gmail.com"), SETTINGS, NOW)
    assert d.conflict and "same_mailbox_gmail_dots" in d.hints


def test_role_account_is_a_hint():
    d = rules.decide(apollo("info@acme.com", edited=1), salesforce("sales@acme.com"),
                     base("sales@acme.com"), SETTINGS, NOW)
    assert "apollo:role_account" in d.hints and "salesforce:role_account" in d.hints


def test_a_pair_needs_a_side():
    with pytest.raises(ValueError, match="needs"):
        rules.decide(None, None, None, SETTINGS, NOW)


def test_decision_json_shape():
    d = rules.decide(apollo("jo.smith@acme.com", edited=2), salesforce(), base(), SETTINGS, NOW).as_dict()
    assert set(d) == {"conflict", "native", "recommendation", "hints"}
    assert set(d["native"]) == {"winner", "email", "rule", "outcome", "due", "cause"}
    assert d["native"]["outcome"] in {o.value for o in Outcome}
    assert set(d["recommendation"]) == {"winner", "email", "rule", "strength", "reason"}
    assert d["native"]["winner"] in {s.value for s in Side}
    assert d["recommendation"]["strength"] in {s.value for s in Strength}


# -- the strength table (DESIGN §3.2: "strong (one-sided change, no guard fired), medium,
# review, none"; one-click reconciliation applies strong only) ---------------------------------

@pytest.mark.parametrize("basis, strength", [
    (rules.Basis.ONE_SIDED, Strength.STRONG),  # the only automatic writes
    (rules.Basis.DEFINITE_ORDER, Strength.MEDIUM),  # a sound default to confirm
    (rules.Basis.GUARD, Strength.MEDIUM),  # the one usable address, by a guard
    (rules.Basis.PRESET, Strength.MEDIUM),  # the user's own policy
    (rules.Basis.LIKELY_ORDER, Strength.REVIEW),  # a guessed order is never applied unseen
    (rules.Basis.UNVERIFIED, Strength.REVIEW),
    (rules.Basis.UNRESOLVED, Strength.REVIEW),
    (rules.Basis.CONVERTED, Strength.REVIEW),
    (rules.Basis.NO_WRITE, Strength.NONE),
])
def test_the_strength_table(basis, strength):
    assert rules.STRENGTH[basis] is strength


def test_every_basis_has_a_strength():
    assert set(rules.STRENGTH) == set(rules.Basis)


@pytest.mark.parametrize("apollo_email, sf_email, says", [
    ("Jo@Acme.com", "jo@acme.com", "differing only in case"),
    ("jo@bücher.example", "jo@xn--bcher-kva.example", "differing only in how the domain is written"),
    (" jo@acme.com", "jo@acme.com", "differing only in spaces or wrapping"),
    ("Jo <jo@acme.com>", "jo@acme.com", "differing only in spaces or wrapping"),
])
def test_an_agreeing_pair_says_what_separates_the_two_spellings(apollo_email, sf_email, says):
    reason = rules.same_decision(apollo_email, sf_email).recommendation.reason
    assert says in reason, reason


def test_reasons_use_plain_words_not_the_design_codes():
    """No "(S9)" or "stage no stage" reaches a user."""
    a = apollo(stage=None, salesforce_id=None)
    decision = rules.decide(a, None, None, SETTINGS, NOW)
    reason = decision.recommendation.reason
    assert "in no stage" in reason and "(S9)" not in reason and "stage no stage" not in reason
