"""Record ids shaped like the real ones: Salesforce 18-character ids, Apollo 24-hex ids."""

from __future__ import annotations

import string

# Key prefixes of the Salesforce objects the sandbox serves.
PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "User": "005",
    "Organization": "00D",
    "ContactHistory": "017",
    "LeadHistory": "017",
    "BulkJob": "750",
    "QueryLocator": "01g",
}
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"

ORG_ID = "00D5g000004SANDBOX"[:15]
APOLLO_SYNC_USER = "005SANDBOXAPOLLO"[:15]  # the Salesforce user Apollo's sync writes as
CONCORD_USER = "005SANDBOXCONCRD"[:15]  # the user Concord's credentials act as
OTHER_USER = "005SANDBOXOTHERS"[:15]  # "someone else" editing in Salesforce


def checksum_suffix(id15: str) -> str:
    """The three characters that make a 15-character Salesforce id case-insensitive."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def to18(id15: str) -> str:
    """A 15-character id with its checksum suffix."""
    return id15 + checksum_suffix(id15) if len(id15) == 15 else id15


def salesforce_id(object_name: str, number: int) -> str:
    """The ``number``-th id of an object, e.g. ``salesforce_id("Contact", 1)``."""
    prefix = PREFIX[object_name]
    digits = []
    for _ in range(12):
        number, rem = divmod(number, 62)
        digits.append(_BASE62[rem])
    body = "".join(reversed(digits))
    return to18(prefix + body)


def user_id(id15: str) -> str:
    return to18(id15)


def apollo_id(number: int, kind: int = 0x6) -> str:
    """A 24-hex-digit id like Apollo's (``kind`` separates contacts, stages, accounts)."""
    return f"{kind:02x}{0x5e66b638:08x}{number:014x}"
