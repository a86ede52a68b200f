"""Words and glyphs the window uses for directions, statuses, strengths and rules."""

from __future__ import annotations

from core import rules
from core.sync.reconcile import arrow

STATUS_LABELS = {
    "open": "Open",
    "chosen": "Chosen",
    "skipped": "Skipped",
    "applied": "Applied",
    "failed": "Failed",
    "conflict": "Conflict",
    "in_sync": "In sync",
}
STRENGTH_LABELS = {"strong": "Strong", "medium": "Medium", "review": "Review", "none": "—"}
SIDE_NAMES = {"apollo": "Apollo", "salesforce": "Salesforce", "none": "neither"}

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
