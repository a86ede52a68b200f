"""The decision table (DESIGN §3.2): what Apollo's sync will do, and what Concord recommends.

Pure functions, no I/O. :func:`decide` first compares each side with the base (the last
email both systems agreed on): a one-sided change simply propagates; only
when both changed, or there is no base, do edit times matter. Then the quality guards keep
a blank, invalid or bounced address from winning over a good one, and a policy preset may
replace the native prediction. Every outcome names its rule and gives a one-sentence reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import emails
from core.model import (
    UNKNOWN_TIME,
    ApolloContact,
    Base,
    Certainty,
    Decision,
    EditTime,
    MissedCause,
    Outcome,
    Prediction,
    Preset,
    Recommendation,
    SalesforceRecord,
    Settings,
    Side,
    Strength,
    TimeSource,
)

# Rule ids: stable, shown to users, stored in the cache and in reports.
SAME = "SAME"
APOLLO_ONLY_CREATE = "APOLLO_ONLY_CREATE"
APOLLO_ONLY_NO_PUSH = "APOLLO_ONLY_NO_PUSH"
SFDC_ONLY_IMPORT = "SFDC_ONLY_IMPORT"
SFDC_ONLY_IN_CRM = "SFDC_ONLY_IN_CRM"
LATE_SFDC_CREATE = "LATE_SFDC_CREATE"
ONE_SIDED = "ONE_SIDED"
LAST_EDIT = "LAST_EDIT"
UNKNOWN_ORDER = "UNKNOWN_ORDER"
CONVERTED_LEAD = "CONVERTED_LEAD"
Q_EMPTY = "Q_EMPTY"
Q_INVALID = "Q_INVALID"
Q_BOUNCED = "Q_BOUNCED"
Q_UNVERIFIED = "Q_UNVERIFIED"
PRESET_SALESFORCE = "PRESET_SALESFORCE"
PRESET_APOLLO = "PRESET_APOLLO"
PRESET_VERIFIED = "PRESET_VERIFIED"

# The rules of a record with no counterpart (every other rule is about a linked pair).
ONE_SIDED_RULES = (APOLLO_ONLY_CREATE, APOLLO_ONLY_NO_PUSH, SFDC_ONLY_IMPORT, SFDC_ONLY_IN_CRM)
NATIVE_RULES = (SAME, APOLLO_ONLY_CREATE, APOLLO_ONLY_NO_PUSH, SFDC_ONLY_IMPORT, SFDC_ONLY_IN_CRM,
                LATE_SFDC_CREATE, ONE_SIDED, LAST_EDIT, UNKNOWN_ORDER, CONVERTED_LEAD)
GUARD_RULES = (Q_EMPTY, Q_INVALID, Q_BOUNCED, Q_UNVERIFIED)
PRESET_RULES = (PRESET_SALESFORCE, PRESET_APOLLO, PRESET_VERIFIED)
ALL_RULES = NATIVE_RULES + GUARD_RULES + PRESET_RULES

# How long Apollo's sync may take to act on an email edit (DESIGN §3.1). A Salesforce edit
# waits for the next pull, every ``Settings.apollo_pull_minutes`` ("Apollo automatically syncs
# any new or updated records from Salesforce every 30 minutes": Apollo's article "Important
# Information about the Salesforce Integration"). An Apollo edit is pushed at once ("your
# records will be pushed in real-time ... whenever your saved records are updated": Apollo's
# article "Configure Salesforce Push Settings"), through a job queue (the contact's
# ``crm_job`` and ``queued_for_crm_push``), so allow this many minutes for the queue.
APOLLO_PUSH_MINUTES = 5
# The rules whose change travels over Apollo's link between the contact and the record.
_LINKED_RULES = (ONE_SIDED, LAST_EDIT)
_LEAD_PREFIX = "00Q"

_SIDE_NAME = {Side.APOLLO: "Apollo", Side.SALESFORCE: "Salesforce"}
_SOURCE_NAME = {
    TimeSource.HISTORY: "field history",
    TimeSource.OBSERVATION: "seen by Concord",
    TimeSource.RECORD: "record timestamp only",
}


# -- facts about one side ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Quality:
    """Whether an address may win: ``good``, or why not (``blank``, ``invalid``, ``bounced``)."""

    verdict: str
    detail: str = ""

    @property
    def good(self) -> bool:
        return self.verdict == "good"


_GUARD_FOR = {"blank": Q_EMPTY, "invalid": Q_INVALID, "bounced": Q_BOUNCED}


def _fmt_time(when: datetime | None) -> str:
    # isoformat is about twice as fast as strftime, and reasons are built for every pair.
    return when.isoformat(" ", "minutes")[:16] if when else "an unknown time"


def _fmt_edit(edit: EditTime) -> str:
    if not edit.known:
        return "at an unknown time"
    if edit.exact:
        return f"at {_fmt_time(edit.latest)} ({_SOURCE_NAME[edit.source]})"
    if edit.earliest is not None:
        return (f"between {_fmt_time(edit.earliest)} and {_fmt_time(edit.latest)} "
                f"({_SOURCE_NAME[edit.source]})")
    return f"no later than {_fmt_time(edit.latest)} ({_SOURCE_NAME[edit.source]})"


def _apollo_quality(contact: ApolloContact, check: emails.EmailCheck) -> _Quality:
    if check.blank:
        return _Quality("blank", "Apollo's email is blank")
    if not check.valid:
        return _Quality("invalid", f"Salesforce would reject {contact.email!r}: {check.error}")
    if (contact.email_status or "").lower() == "bounced":
        return _Quality("bounced", f"Apollo marks {contact.email} as bounced")
    return _Quality("good")


def _salesforce_bounced(record: SalesforceRecord) -> bool:
    """A bounce counts when it was recorded after the current address was (or may have been) set."""
    if record.bounced_at is None:
        return False
    edit = record.email_edit
    if edit.earliest is not None and record.bounced_at < edit.earliest:
        return False  # the bounce belongs to the address this one replaced
    return True


def _salesforce_quality(record: SalesforceRecord, check: emails.EmailCheck) -> _Quality:
    if check.blank:
        return _Quality("blank", f"the Salesforce {record.object}'s email is blank")
    if not check.valid:
        return _Quality("invalid", f"Salesforce would reject {record.email!r}: {check.error}")
    if _salesforce_bounced(record):
        reason = f" ({record.bounce_reason})" if record.bounce_reason else ""
        return _Quality("bounced", f"Salesforce recorded a bounce for {record.email} on "
                                   f"{_fmt_time(record.bounced_at)}{reason}")
    return _Quality("good")


# -- the decision ----------------------------------------------------------------------------

def decide(apollo: ApolloContact | None, salesforce: SalesforceRecord | None,
           base: Base | None, settings: Settings, now: datetime, *,
           duplicates: tuple[str, ...] = ()) -> Decision:
    """Predict Apollo's sync for one pair and recommend a winner, with rule ids and reasons.

    ``apollo`` or ``salesforce`` may be ``None`` (a record on one side only), not both.
    ``base`` is the last email both sides agreed on, if Concord has seen them agree.
    ``duplicates`` are other live Salesforce Leads/Contacts holding Apollo's address (a
    duplicate rule may refuse Apollo's push); they only explain a missed push.
    """
    if apollo is None and salesforce is None:
        raise ValueError("a pair needs an Apollo contact, a Salesforce record, or both")
    if salesforce is None:
        return _apollo_only(apollo, settings, now)
    if apollo is None:
        return _salesforce_only(salesforce, settings, now)

    a_check = emails.check(apollo.email, allow_unicode=settings.unicode_emails)
    # Salesforce already holds its value: never call it invalid for being non-ASCII.
    s_check = emails.check(salesforce.email, allow_unicode=True)
    if a_check.key == s_check.key:
        return same_decision(apollo.email, salesforce.email)
    hints = _hints(apollo.email, salesforce.email, a_check, s_check)
    if salesforce.is_converted:
        return _converted_lead(apollo, salesforce, hints)

    native, certainty = _native(apollo, salesforce, a_check, s_check, base)
    timing = _timing(native, apollo, salesforce, a_check, settings, now, duplicates)
    native = timing.apply(native)
    recommendation = _recommend(native, certainty, timing, apollo, salesforce, a_check, s_check,
                                settings)
    return Decision(True, native, recommendation, hints)


def _hints(a_email, s_email, a_check, s_check) -> tuple[str, ...]:
    found = [f"apollo:{h}" for h in a_check.hints]
    found += [f"salesforce:{h}" for h in s_check.hints]
    found += list(emails.pair_hints(a_email, s_email))
    return tuple(found)


def same_decision(apollo_email: str | None, salesforce_email: str | None) -> Decision:
    """The SAME outcome for two addresses with equal comparison keys.

    The cache keeps no decision row for agreeing pairs (they are most pairs); whoever shows
    one calls this. Hints of agreeing pairs are left to whoever shows the pair.
    """
    shown = salesforce_email or apollo_email
    if not shown:
        reason = "SAME: both systems have no email, so there is nothing to reconcile."
    elif (apollo_email or "") != (salesforce_email or ""):
        reason = (f"SAME: both systems hold {shown}, differing only in "
                  f"{_how_they_differ(apollo_email or '', salesforce_email or '')}, which never "
                  f"causes a write.")
    else:
        reason = f"SAME: both systems hold {shown}."
    return Decision(False, Prediction(Side.NONE, shown, SAME),
                    Recommendation(Side.NONE, shown, SAME, STRENGTH[Basis.NO_WRITE], reason))


def _apollo_only(apollo: ApolloContact, settings: Settings, now: datetime) -> Decision:
    check = emails.check(apollo.email, allow_unicode=settings.unicode_emails)
    stage = _stage(apollo)
    if settings.creates_for_stage(apollo.contact_stage, apollo.contact_stage_id):
        native = Prediction(Side.APOLLO, apollo.email, APOLLO_ONLY_CREATE)
        timing = _timing(native, apollo, None, check, settings, now)
        native = timing.apply(native)
        quality = _apollo_quality(apollo, check)
        if not quality.good:
            guard = _GUARD_FOR[quality.verdict]
            reason = (f"{guard}: the push settings create a Salesforce {settings.create_as} for "
                      f"this contact ({stage}), but {quality.detail}; fix the address in "
                      f"Apollo first.")
            return Decision(False, native,
                            Recommendation(Side.NONE, None, guard, STRENGTH[Basis.UNRESOLVED],
                                           reason),
                            tuple(f"apollo:{h}" for h in check.hints))
        reason = (f"APOLLO_ONLY_CREATE: the push settings create a Salesforce {settings.create_as} "
                  f"for contacts {stage}, so Apollo creates one with {apollo.email}"
                  f"{_outcome_tail(native, timing, settings.create_as)}.")
    else:
        native = Prediction(Side.NONE, apollo.email, APOLLO_ONLY_NO_PUSH)
        reason = (f"APOLLO_ONLY_NO_PUSH: no Salesforce record matches and the push settings do not "
                  f"create one {stage}; if someone creates one in Salesforce later, its email will "
                  f"overwrite Apollo's.")
    rec = Recommendation(native.winner, native.email, native.rule, STRENGTH[Basis.NO_WRITE],
                         reason)
    return Decision(False, native, rec, tuple(f"apollo:{h}" for h in check.hints))


def _salesforce_only(salesforce: SalesforceRecord, settings: Settings, now: datetime) -> Decision:
    check = emails.check(salesforce.email, allow_unicode=True)
    if settings.manage_crm_as_contacts:
        native = Prediction(Side.SALESFORCE, salesforce.email, SFDC_ONLY_IMPORT)
        timing = _timing(native, None, salesforce, check, settings, now)
        native = timing.apply(native)
        reason = (f"SFDC_ONLY_IMPORT: no Apollo contact matches this {salesforce.object}; Apollo "
                  f"imports CRM records as contacts, so it creates one with "
                  f"{salesforce.email or 'no email'}{_outcome_tail(native, timing, salesforce.object)}.")
    else:
        native = Prediction(Side.NONE, salesforce.email, SFDC_ONLY_IN_CRM)
        reason = (f"SFDC_ONLY_IN_CRM: no Apollo contact matches this {salesforce.object}; Apollo "
                  f"only lists it under In CRM, because In-CRM records are not managed as contacts.")
    rec = Recommendation(native.winner, native.email, native.rule, STRENGTH[Basis.NO_WRITE],
                         reason)
    return Decision(False, native, rec, tuple(f"salesforce:{h}" for h in check.hints))


def _converted_lead(apollo: ApolloContact, salesforce: SalesforceRecord, hints) -> Decision:
    target = salesforce.converted_contact_id
    where = f"Contact {target}" if target else "a Contact Concord has not pulled"
    reason = (f"CONVERTED_LEAD: the Salesforce Lead was converted to {where}, so Apollo's pushes to "
              f"the Lead fail and its email ({salesforce.email}) no longer changes; link the Apollo "
              f"contact to the Contact and decide there.")
    native = Prediction(Side.NONE, None, CONVERTED_LEAD)
    return Decision(True, native,
                    Recommendation(Side.NONE, None, CONVERTED_LEAD, STRENGTH[Basis.CONVERTED],
                                   reason), hints)


def _native(apollo, salesforce, a_check, s_check, base):
    """The native prediction (without its outcome) and how certain its ordering is
    (``definite``/``likely``)."""
    if base is not None:
        b_key = emails.comparison_key(base.email)
        a_changed, s_changed = a_check.key != b_key, s_check.key != b_key
        if a_changed != s_changed:
            winner = Side.APOLLO if a_changed else Side.SALESFORCE
            changed_email = apollo.email if a_changed else salesforce.email
            return Prediction(winner, changed_email, ONE_SIDED), Certainty.DEFINITE
    elif _late_salesforce_create(apollo, salesforce):
        return Prediction(Side.SALESFORCE, salesforce.email, LATE_SFDC_CREATE), Certainty.DEFINITE

    order = _later(apollo.email_edit, salesforce.email_edit)
    if order is None:
        return Prediction(Side.NONE, None, UNKNOWN_ORDER), Certainty.UNKNOWN
    winner, certainty = order
    email = apollo.email if winner is Side.APOLLO else salesforce.email
    return Prediction(winner, email, LAST_EDIT), certainty


def _late_salesforce_create(apollo: ApolloContact, salesforce: SalesforceRecord) -> bool:
    """S9: the Salesforce record came after the contact, Apollo never pushed it, and nobody
    edited either email since the record was created."""
    created = salesforce.created_at
    if created is None or apollo.created_at is None or created <= apollo.created_at:
        return False
    if salesforce.created_by_apollo:
        return False
    for edit in (apollo.email_edit, salesforce.email_edit):
        # Only positive evidence of a later edit rules S9 out: an upper bound proves nothing.
        if edit.earliest is not None and edit.earliest > created:
            return False
    return True


def _later(a: EditTime, s: EditTime) -> tuple[Side, Certainty] | None:
    """Which side's email edit came last, and whether that is ``definite`` or ``likely``."""
    if not a.known or not s.known:
        return None
    if a.earliest is not None and a.earliest > s.latest:
        return Side.APOLLO, Certainty.DEFINITE
    if s.earliest is not None and s.earliest > a.latest:
        return Side.SALESFORCE, Certainty.DEFINITE
    if a.exact and s.exact:
        return None  # the same instant: the order cannot be told
    if a.earliest is None and s.earliest is None:
        return None  # two "last touched" times say nothing about when each email was set
    if a.latest == s.latest:
        return None
    # Overlapping intervals: the later upper bound is the better guess, but only a guess.
    return (Side.APOLLO if a.latest > s.latest else Side.SALESFORCE), Certainty.LIKELY


# -- what Apollo's sync does next: the outcome ----------------------------------------------

@dataclass(frozen=True, slots=True)
class _Timing:
    """When Apollo's sync should act on the winning change, and whether it still will.

    ``deadline`` is when the change should have happened by (``due`` while pending). A
    ``blocked`` change is one the sync cannot carry at all (no link, an address Salesforce
    refuses), whatever its time.
    """

    outcome: Outcome
    edit: EditTime = UNKNOWN_TIME
    deadline: datetime | None = None
    uncertain: bool = False  # pending, but the edit may be older than the sync's last chance
    cause: MissedCause | None = None
    cause_text: str = ""
    blocked: bool = False

    def apply(self, native: Prediction) -> Prediction:
        """The prediction with this outcome (``due`` only while pending)."""
        due = self.deadline if self.outcome is Outcome.PENDING else None
        # Built directly: dataclasses.replace costs twice as much, once per differing pair.
        return Prediction(native.winner, native.email, native.rule, self.outcome, due, self.cause)


_NO_OUTCOME = _Timing(Outcome.NONE)


def _synced_change(native: Prediction, apollo, salesforce, settings: Settings):
    """The change Apollo's sync acts on for this rule, with the minutes it may take; None
    when no rule makes the sync act."""
    pull, push = settings.apollo_pull_minutes, APOLLO_PUSH_MINUTES
    rule, winner = native.rule, native.winner
    if rule in _LINKED_RULES:
        if winner is Side.APOLLO:
            return apollo.email_edit, push
        return salesforce.email_edit, pull
    if rule == LATE_SFDC_CREATE:
        return EditTime.at(salesforce.created_at, TimeSource.RECORD), pull
    if rule == APOLLO_ONLY_CREATE:  # saved at its stage no later than its last update
        return EditTime.upper_bound(apollo.updated_at), push
    if rule == SFDC_ONLY_IMPORT:  # Apollo pulls new or updated records
        changed = salesforce.system_modstamp or salesforce.last_modified or salesforce.created_at
        return EditTime.at(changed, TimeSource.RECORD), pull
    return None


def _apollo_link(apollo: ApolloContact) -> str | None:
    """The Salesforce record Apollo syncs the contact with: its Contact, else its Lead."""
    return apollo.salesforce_contact_id or apollo.salesforce_lead_id or apollo.salesforce_id


def _blocked(native: Prediction, apollo, salesforce, a_check, settings: Settings):
    """``(cause, words)`` when Apollo's sync cannot carry the change at all, else None."""
    if native.rule in _LINKED_RULES and salesforce.id:
        link = _apollo_link(apollo)
        if link is None:
            if not settings.creates_for_stage(apollo.contact_stage, apollo.contact_stage_id):
                return (MissedCause.STAGE_NOT_PUSHED,
                        f"the Apollo contact is linked to no Salesforce record, as the push "
                        f"settings create none for contacts {_stage(apollo)}")
            return MissedCause.NOT_LINKED, "the Apollo contact is linked to no Salesforce record"
        if link[:15] != salesforce.id[:15]:
            if link.startswith(_LEAD_PREFIX) and salesforce.object == "Contact":
                return (MissedCause.CONVERTED_LEAD,
                        f"the Apollo contact is still linked to Lead {link}, not to this Contact, "
                        f"and a converted Lead no longer syncs")
            return (MissedCause.LINKED_ELSEWHERE,
                    f"the Apollo contact is linked to another Salesforce record, {link}")
    if native.winner is Side.APOLLO and not a_check.blank and not a_check.valid:
        # Said briefly: the Q_INVALID guard that fires with it names the address and the error.
        return MissedCause.INVALID_ADDRESS, "Salesforce's validation refuses the address"
    return None


def _timing(native: Prediction, apollo, salesforce, a_check, settings: Settings,
            now: datetime, duplicates: tuple[str, ...] = ()) -> _Timing:
    """Pending, missed or none: is the winning change newer than the sync's last chance?

    The last chance is the edit's latest possible time plus the time the sync may take; an
    edit known only as an interval that straddles that moment is pending, uncertainly.
    """
    change = _synced_change(native, apollo, salesforce, settings)
    if change is None:
        return _NO_OUTCOME
    edit, minutes = change
    blocked = _blocked(native, apollo, salesforce, a_check, settings)
    if blocked is not None:
        return _Timing(Outcome.MISSED, edit, cause=blocked[0], cause_text=blocked[1], blocked=True)
    if edit.latest is None:
        return _Timing(Outcome.NONE, edit)  # when it happened, and so what is due, is unknown
    window = timedelta(minutes=minutes)
    deadline = edit.latest + window
    if now < deadline:
        uncertain = edit.earliest is None or edit.earliest + window <= now
        return _Timing(Outcome.PENDING, edit, deadline, uncertain)
    if native.winner is Side.APOLLO and duplicates:
        return _Timing(Outcome.MISSED, edit, deadline, cause=MissedCause.DUPLICATE,
                       cause_text=f"Salesforce {duplicates[0]} already holds {native.email}, so "
                                  f"a duplicate rule may have refused it")
    return _Timing(Outcome.MISSED, edit, deadline, cause=MissedCause.UNKNOWN,
                   cause_text="cause unknown")


def _stage(apollo: ApolloContact) -> str:
    """Where the contact stands, in words: "at stage Cold", or "in no stage"."""
    stage = apollo.contact_stage or apollo.contact_stage_id
    return f"at stage {stage}" if stage else "in no stage"


def _how_they_differ(a: str, b: str) -> str:
    """What separates two spellings of one address (their comparison keys are equal)."""
    a_text, b_text = emails.clean(a), emails.clean(b)
    if a_text.lower() == b_text.lower():
        return "case" if a_text != b_text else "spaces or wrapping"
    return "how the domain is written (Unicode or its ASCII form)"


def _outcome_tail(native: Prediction, timing: _Timing, sf_object: str) -> str:
    """How a reason ends: by when Apollo should act, or what it missed, when and why."""
    rule, outcome = native.rule, timing.outcome
    if outcome is Outcome.NONE:
        return ""
    if rule == APOLLO_ONLY_CREATE:
        act, done, then = "create it", "have created it", "the contact is saved again"
    elif rule == SFDC_ONLY_IMPORT:
        act, done, then = "import it", "have imported it", "the record is edited again"
    else:
        to = "Apollo" if native.winner is Side.SALESFORCE else "Salesforce"
        act = ("pull it into the contact" if native.winner is Side.SALESFORCE
               else f"push it to the Salesforce {sf_object}")
        day = _fmt_time(timing.edit.latest)[:10]
        if rule == LAST_EDIT:
            what = "it"  # the reason has just given both edit times
        elif rule == LATE_SFDC_CREATE:
            what = f"the {sf_object}'s creation on {day}"
        else:
            what = f"{_SIDE_NAME[native.winner]}'s edit of {day}"
        done = f"{what} should have reached {to}"
        then = "one is edited again"
    if outcome is Outcome.PENDING:
        maybe = (f" (the edit was made {_fmt_edit(timing.edit)}, so the sync may already have "
                 f"passed it by)" if timing.uncertain else "")
        return f", and Apollo should {act} by {_fmt_time(timing.deadline)}{maybe}"
    if timing.blocked:
        if timing.cause is MissedCause.INVALID_ADDRESS:
            until = "the address is corrected"
        else:
            until = f"the contact is linked to this {sf_object}"
        return (f", but Apollo's sync cannot carry it: {timing.cause_text}, so the two stay "
                f"different until {until}")
    if rule in (APOLLO_ONLY_CREATE, SFDC_ONLY_IMPORT):
        done = f"Apollo should {done} by {_fmt_time(timing.deadline)}"
    else:
        done = f"{done} by {_fmt_time(timing.deadline)}"
    stay = "the two stay different" if rule not in ONE_SIDED_RULES else "nothing happens"
    return f", but {done} and did not ({timing.cause_text}), so {stay} until {then}"


def _outcome_tag(timing: _Timing) -> str:
    """The outcome in a few words, inside the brackets after a rule id."""
    if timing.outcome is Outcome.PENDING:
        return f", due by {_fmt_time(timing.deadline)}"
    if timing.cause is MissedCause.INVALID_ADDRESS:
        return ", missed"  # the Q_INVALID guard around it says why
    if timing.outcome is Outcome.MISSED:
        return f", missed: {timing.cause_text}"
    return ""


def _native_sentence(native: Prediction, timing: _Timing, apollo: ApolloContact,
                     salesforce: SalesforceRecord) -> str:
    """What Apollo's rules make win and whether the sync still does it, as a clause."""
    tag = f"{native.rule}{_outcome_tag(timing)}"
    if native.winner is Side.APOLLO:
        return f"Apollo's sync would push {apollo.email or 'a blank email'} to Salesforce ({tag})"
    if native.winner is Side.SALESFORCE:
        return f"Apollo would pull {salesforce.email or 'a blank email'} from Salesforce ({tag})"
    return f"Apollo's outcome cannot be predicted ({tag})"


class Basis(enum.Enum):
    """Why a recommendation is as sure as it is; :data:`STRENGTH` turns each into a strength."""

    ONE_SIDED = "only one side changed since the base"
    DEFINITE_ORDER = "the later edit is certain"
    LIKELY_ORDER = "the later edit is only likely"
    GUARD = "a quality guard kept the one usable address"
    PRESET = "the policy preset chose the side"
    UNVERIFIED = "an address Apollo verified would be replaced by one it never verified"
    UNRESOLVED = "no address can be recommended: neither is usable, or the order is unknown"
    CONVERTED = "the Salesforce record is a converted Lead"
    NO_WRITE = "nothing to write: the pair agrees, or one side has no record"


# The one place strength is decided (DESIGN §3.2): one-click reconciliation applies only
# ``strong``; ``medium`` is a sound default to confirm; ``review`` needs a person.
STRENGTH = {
    Basis.ONE_SIDED: Strength.STRONG,
    Basis.DEFINITE_ORDER: Strength.MEDIUM,
    Basis.GUARD: Strength.MEDIUM,
    Basis.PRESET: Strength.MEDIUM,
    Basis.LIKELY_ORDER: Strength.REVIEW,
    Basis.UNVERIFIED: Strength.REVIEW,
    Basis.UNRESOLVED: Strength.REVIEW,
    Basis.CONVERTED: Strength.REVIEW,
    Basis.NO_WRITE: Strength.NONE,
}


def _order_basis(rule: str, certainty: Certainty) -> Basis:
    if rule == ONE_SIDED:
        return Basis.ONE_SIDED
    return Basis.DEFINITE_ORDER if certainty is Certainty.DEFINITE else Basis.LIKELY_ORDER


def _recommend(native: Prediction, certainty: Certainty, timing: _Timing, apollo: ApolloContact,
               salesforce: SalesforceRecord, a_check, s_check, settings: Settings) -> Recommendation:
    quality = {Side.APOLLO: _apollo_quality(apollo, a_check),
               Side.SALESFORCE: _salesforce_quality(salesforce, s_check)}
    email_of = {Side.APOLLO: apollo.email, Side.SALESFORCE: salesforce.email, Side.NONE: None}

    # 1. The preset picks a target; by default it is the native prediction.
    target, rule = native.winner, native.rule
    preset = settings.preset
    if preset is Preset.SALESFORCE_MASTER and target is not Side.SALESFORCE:
        target, rule = Side.SALESFORCE, PRESET_SALESFORCE
    elif preset is Preset.APOLLO_MASTER and target is not Side.APOLLO:
        target, rule = Side.APOLLO, PRESET_APOLLO
    elif (preset is Preset.VERIFIED_WINS and target is not Side.APOLLO
          and (apollo.email_status or "").lower() == "verified"):
        target, rule = Side.APOLLO, PRESET_VERIFIED
    by_preset = rule in PRESET_RULES

    # 2. Quality guards: never a blank, invalid or bounced address over a good one.
    if target is Side.NONE:
        good = [side for side in (Side.APOLLO, Side.SALESFORCE) if quality[side].good]
        if len(good) == 1:
            side = good[0]
            bad = quality[side.other]
            guard = _GUARD_FOR[bad.verdict]
            reason = (f"{guard}: {_native_sentence(native, timing, apollo, salesforce)}, but "
                      f"{bad.detail}; keep the {_SIDE_NAME[side]} address {email_of[side]}.")
            return Recommendation(side, email_of[side], guard, STRENGTH[Basis.GUARD], reason)
        if not good:
            reason = (f"{native.rule}: {_native_sentence(native, timing, apollo, salesforce)}, and "
                      f"neither address is usable ({quality[Side.APOLLO].detail}; "
                      f"{quality[Side.SALESFORCE].detail}); type a correct one.")
            return Recommendation(Side.NONE, None, native.rule, STRENGTH[Basis.UNRESOLVED], reason)
        reason = (f"UNKNOWN_ORDER: the addresses differ ({apollo.email} in Apollo, {salesforce.email} "
                  f"in Salesforce) and the order of the edits cannot be told (Apollo edited "
                  f"{_fmt_edit(apollo.email_edit)}, Salesforce {_fmt_edit(salesforce.email_edit)}); "
                  f"choose one.")
        return Recommendation(Side.NONE, None, native.rule, STRENGTH[Basis.UNRESOLVED], reason)

    if not quality[target].good:
        bad = quality[target]
        guard = _GUARD_FOR[bad.verdict]
        other = target.other
        if quality[other].good:
            lead = (f"your preset picks {_SIDE_NAME[target]}" if by_preset
                    else _native_sentence(native, timing, apollo, salesforce))
            reason = (f"{guard}: {lead}, but {bad.detail}; keep the {_SIDE_NAME[other]} "
                      f"address {email_of[other]} instead.")
            return Recommendation(other, email_of[other], guard, STRENGTH[Basis.GUARD], reason)
        reason = (f"{guard}: {_native_sentence(native, timing, apollo, salesforce)}, but neither "
                  f"address is usable ({quality[Side.APOLLO].detail}; "
                  f"{quality[Side.SALESFORCE].detail}); type a correct one.")
        return Recommendation(Side.NONE, None, guard, STRENGTH[Basis.UNRESOLVED], reason)

    # 3. The target is a good address.
    email = email_of[target]
    if by_preset:
        reason = (f"{rule}: your policy makes {_SIDE_NAME[target]} win, so keep {email} "
                  f"({_native_sentence(native, timing, apollo, salesforce)}).")
        return Recommendation(target, email, rule, STRENGTH[Basis.PRESET], reason)

    if (target is Side.SALESFORCE and (apollo.email_status or "").lower() == "verified"):
        reason = (f"Q_UNVERIFIED: {_native_sentence(native, timing, apollo, salesforce)}, "
                  f"replacing {apollo.email}, which Apollo verified, with an address Apollo never "
                  f"verified; review before accepting.")
        return Recommendation(target, email, Q_UNVERIFIED, STRENGTH[Basis.UNVERIFIED], reason)

    reason = _native_reason(native, certainty, timing, apollo, salesforce)
    strength = STRENGTH[_order_basis(native.rule, certainty)]
    return Recommendation(target, email, native.rule, strength, reason)


def _native_reason(native: Prediction, certainty: Certainty, timing: _Timing, apollo: ApolloContact,
                   salesforce: SalesforceRecord) -> str:
    winner_email = native.email or "a blank email"
    tail = _outcome_tail(native, timing, salesforce.object)
    if native.rule == ONE_SIDED:
        return (f"ONE_SIDED: only {_SIDE_NAME[native.winner]} changed since both systems agreed, "
                f"so {winner_email} wins{tail}.")
    if native.rule == LATE_SFDC_CREATE:
        return (f"LATE_SFDC_CREATE: the Salesforce {salesforce.object} was created "
                f"{_fmt_time(salesforce.created_at)}, after the Apollo contact "
                f"({_fmt_time(apollo.created_at)}) which Apollo never pushed, so {winner_email} "
                f"replaces {apollo.email or 'its blank email'}{tail}.")
    a_when, s_when = _fmt_edit(apollo.email_edit), _fmt_edit(salesforce.email_edit)
    who = _SIDE_NAME[native.winner]
    if certainty == Certainty.DEFINITE:
        return (f"LAST_EDIT: Apollo's email was set {a_when} and Salesforce's {s_when}; the "
                f"{who} edit is the latest, so {winner_email} wins{tail}.")
    return (f"LAST_EDIT: Apollo's email was set {a_when} and Salesforce's {s_when}; the times "
            f"are only bounds, so the {who} edit is probably the latest and {winner_email} "
            f"likely wins (check it){tail}.")
