"""Words and glyphs for directions, statuses, strengths and rules: one table, shown alike by
the window, the command line and the reports."""

from __future__ import annotations

from core import rules
from core.model import DecisionStatus, MissedCause, Outcome, Side, Strength

STATUS_LABELS = {
    DecisionStatus.OPEN: "Open",
    DecisionStatus.CHOSEN: "Chosen",
    DecisionStatus.SKIPPED: "Skipped",
    DecisionStatus.APPLIED: "Applied",
    DecisionStatus.FAILED: "Failed",
    DecisionStatus.CONFLICT: "Conflict",
    DecisionStatus.IN_SYNC: "In sync",
}
STRENGTH_LABELS = {Strength.STRONG: "Strong", Strength.MEDIUM: "Medium",
                   Strength.REVIEW: "Review", Strength.NONE: "—"}
SIDE_NAMES = {"apollo": "Apollo", "salesforce": "Salesforce", "none": "neither"}

# What Apollo's own sync does next with the pair (DESIGN §3.2, "Outcome").
OUTCOME_LABELS = {
    Outcome.PENDING: "Apollo's sync will act",
    Outcome.MISSED: "Missed by Apollo's sync",
    Outcome.NONE: "No sync action",
}
MISSED_CAUSE_LABELS = {
    MissedCause.NOT_LINKED: "the records were not linked in Apollo",
    MissedCause.STAGE_NOT_PUSHED: "the contact is not linked and the push settings skip its stage",
    MissedCause.CONVERTED_LEAD: "Apollo still links the contact to a converted Lead",
    MissedCause.LINKED_ELSEWHERE: "Apollo links the contact to another Salesforce record",
    MissedCause.INVALID_ADDRESS: "Salesforce would refuse the address",
    MissedCause.DUPLICATE: "another Salesforce record holds the same address",
    MissedCause.UNKNOWN: "cause unknown",
}
MISSED_GLYPH = "≠"  # the two stay different until someone edits one side


def sync_glyph(native_winner: str, outcome: str) -> str:
    """The Sync column: Apollo's own direction only while it is still due to act (pending),
    ``≠`` where it missed its chance, nothing otherwise."""
    if outcome == Outcome.PENDING:
        return arrow(native_winner)
    if outcome == Outcome.MISSED:
        return MISSED_GLYPH
    return ""


def outcome_sentence(outcome: str, due: str | None = None, cause: str | None = None) -> str:
    """What Apollo's sync does next with a pair, in a sentence (the list's Sync tooltip)."""
    if outcome == Outcome.PENDING:
        when = f" by {due[:16].replace('T', ' ')} UTC" if due else ""
        return f"{OUTCOME_LABELS[Outcome.PENDING]}{when}."
    if outcome == Outcome.MISSED:
        why = MISSED_CAUSE_LABELS.get(cause or MissedCause.UNKNOWN, cause)
        return (f"{OUTCOME_LABELS[Outcome.MISSED]} ({why}): the two stay different until one "
                f"side is edited again.")
    return OUTCOME_LABELS[Outcome.NONE] + "."


# Glyphs beyond core's arrows: the user's skip and typed value, and agreement.
SKIP_GLYPH = "⊘"
CUSTOM_GLYPH = "✎"
SAME_GLYPH = "="

# Plain words for each rule (the list's column, the filter, the panel); the code is shown in
# a tooltip beside them.
RULE_LABELS = {
    rules.SAME: "Both agree",
    rules.APOLLO_ONLY_CREATE: "Apollo only: to be created",
    rules.APOLLO_ONLY_NO_PUSH: "Apollo only: not pushed",
    rules.SFDC_ONLY_IMPORT: "Salesforce only: imported",
    rules.SFDC_ONLY_IN_CRM: "Salesforce only: In CRM",
    rules.LATE_SFDC_CREATE: "Salesforce made later",
    rules.ONE_SIDED: "One side changed",
    rules.LAST_EDIT: "Latest edit wins",
    rules.UNKNOWN_ORDER: "Edit order unknown",
    rules.CONVERTED_LEAD: "Converted Lead",
    rules.Q_EMPTY: "Guard: blank loses",
    rules.Q_INVALID: "Guard: invalid loses",
    rules.Q_BOUNCED: "Guard: bounced loses",
    rules.Q_UNVERIFIED: "Check: not verified",
    rules.PRESET_SALESFORCE: "Preset: Salesforce wins",
    rules.PRESET_APOLLO: "Preset: Apollo wins",
    rules.PRESET_VERIFIED: "Preset: verified wins",
}

# How two records came to be one pair.
LINK_METHODS = {
    "crm_id": "linked by the Salesforce id Apollo holds",
    "email": "linked by the same address",
    "fuzzy": "linked by a close match",
    "manual": "linked by you",
}


def rule_words(rule: str | None) -> str:
    """The rule in plain words (its code when it has none)."""
    return RULE_LABELS.get(rule or "", rule or "")


def arrow(winner: str) -> str:
    """The direction arrow for a winner (DESIGN §7): ``→`` Apollo to Salesforce, ``←``
    Salesforce to Apollo, ``?`` review."""
    return {Side.APOLLO: "→", Side.SALESFORCE: "←"}.get(winner, "?")


def direction_glyph(direction: str | None, rule: str | None = None) -> str:
    """``→`` Apollo to Salesforce, ``←`` Salesforce to Apollo, ``?`` review, and the user's
    ``⊘`` skip and ``✎`` typed value; ``=`` for a pair that agrees."""
    if direction == "skip":
        return SKIP_GLYPH
    if direction == "custom":
        return CUSTOM_GLYPH
    if direction == "none" and rule == rules.SAME:
        return SAME_GLYPH
    return arrow(direction or "none")


def direction_sentence(direction: str | None, email: str | None = None,
                       rule: str | None = None) -> str:
    """What a direction means, in words."""
    if direction in (None, "none") and rule == rules.SAME:
        return "nothing to do: both hold the same address"
    return {
        "apollo": "keep Apollo's address (write it to Salesforce)",
        "salesforce": "keep Salesforce's address (write it to Apollo)",
        "skip": "skip this pair",
        "custom": f"use {email or 'a typed address'} on both sides",
    }.get(direction or "", "no direction: needs review")
