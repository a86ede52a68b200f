"""Plain data that the engine passes around: both sides of a pair, the base, settings, decisions.

Everything here is immutable and free of I/O. Timestamps are timezone-aware UTC datetimes;
an unknown time is ``None``. Emails are kept exactly as the remote system holds them; the
comparison key lives in :mod:`core.emails`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone

UTC = timezone.utc


class Side(str, enum.Enum):
    """Which system a value or a winner belongs to."""

    APOLLO = "apollo"
    SALESFORCE = "salesforce"
    NONE = "none"

    @property
    def other(self) -> "Side":
        if self is Side.APOLLO:
            return Side.SALESFORCE
        if self is Side.SALESFORCE:
            return Side.APOLLO
        return Side.NONE


class Strength(str, enum.Enum):
    """How sure a recommendation is; one-click reconciliation applies ``strong`` only."""

    STRONG = "strong"
    MEDIUM = "medium"
    REVIEW = "review"
    NONE = "none"

    @property
    def rank(self) -> int:
        return _STRENGTH_RANK[self]


_STRENGTH_RANK = {Strength.NONE: 0, Strength.REVIEW: 1, Strength.MEDIUM: 2, Strength.STRONG: 3}


class DecisionStatus(enum.StrEnum):
    """Where a pair stands: decided by Concord, chosen by the user, or written."""

    IN_SYNC = "in_sync"  # both sides agree; nothing to do
    OPEN = "open"  # differs, and the user has not chosen yet
    CHOSEN = "chosen"  # the user chose a direction or typed a value, not yet written
    SKIPPED = "skipped"  # the user chose to leave this pair as it is
    APPLIED = "applied"  # written to both systems
    FAILED = "failed"  # a write was refused; the error is kept
    CONFLICT = "conflict"  # a side changed after the pull; never overwritten

    @property
    def needs_attention(self) -> bool:
        """Whether the pair is on the working list (not yet settled)."""
        return self in ATTENTION_STATUSES


ATTENTION_STATUSES = (DecisionStatus.OPEN, DecisionStatus.CHOSEN, DecisionStatus.FAILED,
                      DecisionStatus.CONFLICT)


class PullStatus(enum.StrEnum):
    """How one system's pull ended."""

    COMPLETE = "complete"  # everything read; the snapshot is whole
    INCOMPLETE = "incomplete"  # read to the end, but some records could not be reached or read
    STOPPED = "stopped"  # an API budget ran out; continues on the next pull
    CANCELLED = "cancelled"  # the user cancelled; continues on the next pull
    FAILED = "failed"  # could not run (sign-in, network, refused); the message says why
    SKIPPED = "skipped"  # not attempted (no connection given, or the pull was cancelled before)


class Certainty(enum.StrEnum):
    """How sure the order of two email edits is."""

    DEFINITE = "definite"  # the intervals do not overlap, or only one side moved
    LIKELY = "likely"  # overlapping intervals; the later upper bound probably came later
    UNKNOWN = "unknown"  # cannot be told


class TimeSource(str, enum.Enum):
    """Where an email edit time comes from, best first."""

    HISTORY = "history"  # Salesforce field history: the exact time
    OBSERVATION = "observation"  # Concord saw the old value, then the new one: an interval
    RECORD = "record"  # LastModifiedDate / updated_at: an upper bound only
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class EditTime:
    """When an email value was set, as an interval ``(earliest, latest]``.

    Field history gives an exact time (``earliest == latest``). An observation bounds the
    edit between the last pull that saw the old value and the first that saw the new one.
    A record timestamp is only an upper bound (``earliest`` is ``None``).
    """

    earliest: datetime | None
    latest: datetime | None
    source: TimeSource

    @property
    def known(self) -> bool:
        return self.latest is not None

    @property
    def exact(self) -> bool:
        return self.latest is not None and self.earliest == self.latest

    @classmethod
    def at(cls, when: datetime | None, source: TimeSource = TimeSource.HISTORY) -> "EditTime":
        return cls(when, when, source if when else TimeSource.UNKNOWN)

    @classmethod
    def upper_bound(cls, when: datetime | None) -> "EditTime":
        return cls(None, when, TimeSource.RECORD if when else TimeSource.UNKNOWN)


UNKNOWN_TIME = EditTime(None, None, TimeSource.UNKNOWN)


@dataclass(frozen=True, slots=True)
class ApolloContact:
    """An Apollo contact as far as email reconciliation cares."""

    id: str
    email: str | None = None
    email_status: str | None = None  # verified, guessed, unavailable, bounced, ... (lower case)
    first_name: str = ""
    last_name: str = ""
    organization_name: str = ""
    email_from_customer: bool = False
    contact_stage_id: str | None = None
    contact_stage: str | None = None  # the stage's display name, when known
    salesforce_id: str | None = None
    salesforce_lead_id: str | None = None
    salesforce_contact_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    email_edit: EditTime = UNKNOWN_TIME

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class SalesforceRecord:
    """A Salesforce Lead or Contact as far as email reconciliation cares."""

    id: str
    object: str  # "Lead" | "Contact"
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    company: str = ""  # Lead.Company, or the Account name for a Contact when known
    account_id: str | None = None
    bounced_at: datetime | None = None
    bounce_reason: str | None = None
    is_converted: bool = False
    converted_contact_id: str | None = None
    created_at: datetime | None = None
    created_by_id: str | None = None
    created_by_apollo: bool = False
    last_modified: datetime | None = None
    system_modstamp: datetime | None = None
    email_edit: EditTime = UNKNOWN_TIME

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class Base:
    """The last email both systems agreed on, and when."""

    email: str
    synced_at: datetime | None = None


class CreatePolicy(str, enum.Enum):
    """Apollo's push setting for net-new contacts (S7)."""

    OFF = "off"
    ON = "on"
    STAGES = "stages"


class Preset(str, enum.Enum):
    """Policy presets that may replace the native prediction as the recommendation."""

    MOST_RECENT_EDIT = "most_recent_edit"
    SALESFORCE_MASTER = "salesforce_master"
    APOLLO_MASTER = "apollo_master"
    VERIFIED_WINS = "verified_wins"


@dataclass(frozen=True, slots=True)
class Settings:
    """Apollo's push/pull settings mirrored, plus Concord's own policy."""

    create_policy: CreatePolicy = CreatePolicy.OFF
    create_stages: tuple[str, ...] = ()
    create_as: str = "Lead"
    manage_crm_as_contacts: bool = True
    preset: Preset = Preset.MOST_RECENT_EDIT
    apollo_pull_minutes: int = 30  # Apollo pulls Salesforce changes about this often
    auto_apply: Strength = Strength.STRONG  # reconcile-all applies this strength and above
    unicode_emails: bool = False  # Salesforce's Email Address Internationalization is on
    apollo_user_ids: tuple[str, ...] = ()  # Salesforce users Apollo's sync writes as

    def creates_for_stage(self, stage: str | None, stage_id: str | None = None) -> bool:
        """Whether Apollo's push settings create a Salesforce record for a contact at a stage."""
        if self.create_policy is CreatePolicy.ON:
            return True
        if self.create_policy is CreatePolicy.STAGES:
            wanted = {s.casefold() for s in self.create_stages}
            return any(s and s.casefold() in wanted for s in (stage, stage_id))
        return False


class Outcome(enum.StrEnum):
    """What Apollo's sync does next with the native winner (DESIGN §3.2, "Outcome")."""

    PENDING = "pending"  # the winning edit is newer than the sync's last chance: due soon
    MISSED = "missed"  # the sync had its chance and did not act: nothing changes by itself
    NONE = "none"  # no rule applies: agreeing, unknown order, a converted Lead, nothing to push


class MissedCause(enum.StrEnum):
    """Why the sync missed a pair, where the data can tell."""

    NOT_LINKED = "not_linked"  # the Apollo contact is linked to no Salesforce record
    STAGE_NOT_PUSHED = "stage_not_pushed"  # ... because the push settings skip its stage
    CONVERTED_LEAD = "converted_lead"  # the contact is still linked to a Lead, not this Contact
    LINKED_ELSEWHERE = "linked_elsewhere"  # the contact is linked to another record
    INVALID_ADDRESS = "invalid_address"  # Salesforce's validation refuses the address
    DUPLICATE = "duplicate"  # another Salesforce record holds the address
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Prediction:
    """What Apollo's own sync makes win (``winner``, ``rule``), and whether it still will.

    ``outcome`` says whether the change is still coming (``due`` is the time by which it
    should have happened) or was missed (``cause`` says why, where the data can tell).
    """

    winner: Side
    email: str | None
    rule: str
    outcome: Outcome = Outcome.NONE
    due: datetime | None = None  # pending only
    cause: MissedCause | None = None  # missed only

    @property
    def in_flight(self) -> bool:
        """A Salesforce edit Apollo has not pulled yet (the window's older flag)."""
        return self.outcome is Outcome.PENDING and self.winner is Side.SALESFORCE


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What Concord recommends, with the rule that decided it and a reason a user can read."""

    winner: Side
    email: str | None
    rule: str
    strength: Strength
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's verdict on one pair."""

    conflict: bool
    native: Prediction
    recommendation: Recommendation
    hints: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """The JSON shape of ``concord decide`` (DESIGN §3.3)."""
        return {
            "conflict": self.conflict,
            "native": {
                "winner": self.native.winner.value,
                "email": self.native.email,
                "rule": self.native.rule,
                "outcome": self.native.outcome.value,
                "due": _json_time(self.native.due),
                "cause": self.native.cause.value if self.native.cause else None,
            },
            "recommendation": {
                "winner": self.recommendation.winner.value,
                "email": self.recommendation.email,
                "rule": self.recommendation.rule,
                "strength": self.recommendation.strength.value,
                "reason": self.recommendation.reason,
            },
            "hints": list(self.hints),
        }


def _json_time(when: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z``, as ``concord decide`` reads its own input times."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UserMessage(Exception):
    """Something the user should read, not a failure: shown as information."""

    def __init__(self, title: str, text: str, details: str = ""):
        super().__init__(text)
        self.title = title
        self.text = text
        self.details = details
