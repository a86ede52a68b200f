"""A contact as Apollo's API shapes it (wire JSON), and the email edits Apollo makes to one.

The store keeps contacts as exactly this JSON; these helpers build a new one, set its email
with the statuses Apollo gives each kind of edit, and say how emails and names compare.
"""

from __future__ import annotations

import hashlib
import re

from ..ids import apollo_id

STAGE_KIND, LABEL_KIND, USER_KIND, JOB_KIND, CONTACT_KIND = 0x5, 0x4, 0x3, 0x2, 0x6
TEAM_OWNER_ID = apollo_id(1, USER_KIND)  # the Apollo user the API key belongs to

# Fields a PATCH /contacts/{id} (and bulk_update, and create) may set directly.
PLAIN_FIELDS = ("first_name", "last_name", "organization_name", "title", "account_id",
                "website_url", "present_raw_address")
PHONE_FIELDS = {"direct_phone": "work_direct", "corporate_phone": "work_hq",
                "mobile_phone": "mobile", "home_phone": "home", "other_phone": "other"}

_EMAIL_SYNTAX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_key(email: str | None) -> str | None:
    """How emails compare: trimmed and lower-cased (blank → None)."""
    if email is None:
        return None
    key = email.strip().lower()
    return key or None


def plausible_email(email: str | None) -> bool:
    """Apollo ignores emails it cannot parse; this is the syntax check it applies."""
    return bool(email) and _EMAIL_SYNTAX.match(email.strip()) is not None


def name_key(first: str | None, last: str | None, company: str | None) -> str:
    """First + last name + company, case-insensitive: how a person is matched without email."""
    return "\x1f".join((v or "").strip().casefold() for v in (first, last, company))


def email_entry(email: str, *, status: str, true_status: str, source: str) -> dict:
    """One ``contact_emails[]`` entry as Apollo shapes it (position 0 = primary)."""
    lowered = email.strip().lower()
    return {"email": email, "position": 0, "email_status": status,
            "email_true_status": true_status, "source": source,
            "email_md5": hashlib.md5(lowered.encode()).hexdigest(),
            "email_sha256": hashlib.sha256(lowered.encode()).hexdigest(),
            "free_domain": lowered.rsplit("@", 1)[-1] in {"gmail.com", "yahoo.com",
                                                          "hotmail.com", "outlook.com"},
            "extrapolated_email_confidence": None, "third_party_vendor_name": None,
            "vendor_validation_statuses": [], "email_needs_tickling": None,
            "email_status_unavailable_reason": None}


def new_contact(contact_id: str, now: str, *, source: str) -> dict:
    """A blank wire contact as Apollo creates it (every documented key present)."""
    return {
        "id": contact_id, "first_name": None, "last_name": None, "name": None,
        "linkedin_url": None, "title": None, "contact_stage_id": None,
        "owner_id": TEAM_OWNER_ID, "creator_id": TEAM_OWNER_ID, "person_id": None,
        "email_needs_tickling": False, "organization_name": None, "source": source,
        "original_source": source, "organization_id": None, "headline": None,
        "photo_url": None, "present_raw_address": None, "linkedin_uid": None,
        "extrapolated_email_confidence": None, "salesforce_id": None,
        "salesforce_lead_id": None, "salesforce_contact_id": None,
        "salesforce_account_id": None, "crm_owner_id": None, "crm_id": None,
        "crm_record_url": None, "created_at": now, "updated_at": now,
        "emailer_campaign_ids": [], "email_manually_changed": False,
        "email": None, "email_status": None, "email_true_status": None, "email_source": None,
        "email_from_customer": None, "contact_emails": [], "account_id": None,
        "last_activity_date": None, "merged_crm_ids": [], "typed_custom_fields": {},
        "queued_for_crm_push": False, "label_ids": [], "existence_level": "full",
        "phone_numbers": [], "city": None, "state": None, "country": None, "time_zone": None,
    }


def set_email(contact: dict, email: str | None, *, how: str) -> None:
    """Set the primary email of a wire contact in place, with the statuses Apollo gives it.

    ``how``: ``manual`` (a user's or the API's edit: verified, User Managed, manually
    changed), ``crm`` (pulled from Salesforce: the customer's value, not an Apollo
    verification), ``create`` (given when the contact was created).
    """
    others = [e for e in contact.get("contact_emails") or ()
              if email is None or email_key(e.get("email")) != email_key(email)]
    others = [e for e in others if e.get("position") != 0 or email is None]
    if email is None:
        contact.update(email=None, email_status=None, email_true_status=None,
                       email_source=None, contact_emails=[])
        if how == "manual":
            contact["email_manually_changed"] = True
        return
    if how == "crm":
        status, true_status, source = "verified", "User Managed", "crm"
    else:
        status, true_status, source = "verified", "User Managed", "User Managed"
    entry = email_entry(email, status=status, true_status=true_status, source=source)
    for position, other in enumerate(others, start=1):
        other["position"] = position
    contact.update(email=email, email_status=status, email_true_status=true_status,
                   email_from_customer=True, contact_emails=[entry, *others])
    contact["email_source"] = "crm" if how == "crm" else None
    if how == "manual":
        contact["email_manually_changed"] = True
