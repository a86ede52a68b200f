"""What the signed-in Salesforce user can read, checked with calls any API user may make.

The org's ``/limits`` resource is "available ... for API users with the View Setup and
Configuration permission" (REST API Developer Guide, "Limits"), which a least-privilege
integration user does not have, so it cannot be the connection check. Instead Concord
runs the queries its pull runs, one row each: ``SELECT <the pulled fields> FROM Contact
LIMIT 1`` (and Lead), and a one-row query of ContactHistory / LeadHistory. SOQL answers
INVALID_TYPE for an object the user cannot read and INVALID_FIELD ("No such column") for a
field hidden by field-level security, so each refusal names what is missing. The daily API
usage comes from the ``Sforce-Limit-Info`` header those answers carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.sources.errors import PermissionDenied, QueryRefused

_COLUMN = re.compile(r"No such column '([\w.]+)'")
OBJECTS = ("Contact", "Lead")


@dataclass
class AccessReport:
    """What the user can read: ``problems`` are what the pull needs and cannot get (each a
    sentence); ``history`` says per object whether Email history can be read."""

    problems: list[str] = field(default_factory=list)
    history: dict[str, str] = field(default_factory=dict)
    calls: int = 0


def _missing_fields(source, object_name: str, fields: list[str],
                    report: AccessReport) -> list[str]:
    """The fields of ``fields`` the user cannot read (a query per missing field, at most)."""
    missing: list[str] = []
    remaining = list(fields)
    while remaining:
        report.calls += 1
        try:
            source.query(f"SELECT {', '.join(remaining)} FROM {object_name} LIMIT 1",
                         what=f"check access to {object_name}")
            return missing
        except QueryRefused as exc:
            match = _COLUMN.search(str(exc))
            if exc.code != "INVALID_FIELD" or not match:
                raise
            name = match.group(1)
            hidden = next((f for f in remaining if f.split(".")[0] == name.split(".")[0]), None)
            if hidden is None:
                raise
            missing.append(hidden)
            remaining.remove(hidden)
    return missing


def check_access(source, fields: dict[str, list[str]]) -> AccessReport:
    """Check that the user can read each object of ``fields`` (name -> the fields the pull
    selects) and its Email history. Raises what the source raises for anything but a
    refused object or field (a 403 such as API_DISABLED_FOR_USER, a network failure)."""
    report = AccessReport()
    for object_name in OBJECTS:
        try:
            missing = _missing_fields(source, object_name, fields[object_name], report)
        except PermissionDenied as exc:
            if "API_DISABLED" in str(exc):
                raise PermissionDenied(
                    "salesforce", "Salesforce refused every API call of this user "
                                  "(API_DISABLED_FOR_ORG): give the user the API Enabled "
                                  "permission (profile or permission set); the org's edition "
                                  "must include API access too.") from None
            raise
        except QueryRefused as exc:
            if exc.code != "INVALID_TYPE":
                raise
            report.problems.append(
                f"The user cannot read {object_name} records (give the user's profile or a "
                f"permission set Read on {object_name}).")
            continue
        if missing:
            report.problems.append(
                f"The user cannot read these {object_name} fields: {', '.join(missing)} (give "
                f"them Read access in field-level security).")
        history = f"{object_name}History"
        report.calls += 1
        try:
            page = source.query(f"SELECT Id FROM {history} WHERE Field = 'Email' LIMIT 1",
                                what=f"check access to {history}")
            report.history[object_name] = ("readable" if page.get("records") else
                                           "readable, no Email changes tracked yet")
        except QueryRefused as exc:
            report.history[object_name] = f"unavailable ({exc.code})"
            report.problems.append(
                f"{history} cannot be read ({exc.code}): Concord then times Email edits less "
                f"precisely. Turn on field history tracking for Email on {object_name} and "
                f"give the user Read on {object_name}.")
    return report
