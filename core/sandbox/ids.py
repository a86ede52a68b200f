"""Record ids shaped like the real ones: Salesforce 18-character ids, Apollo 24-hex ids."""

from __future__ import annotations

import functools
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
    return "".join(_chunk_suffix(id15[start:start + 5]) for start in (0, 5, 10))


@functools.lru_cache(maxsize=4096)
def _chunk_suffix(chunk: str) -> str:
    bits = 0
    for i, ch in enumerate(chunk):
        if "A" <= ch <= "Z":
            bits |= 1 << i
    return _SUFFIX[bits]


def to18(id15: str) -> str:
    """A 15-character id with its checksum suffix."""
    return id15 + checksum_suffix(id15) if len(id15) == 15 else id15


def salesforce_id(object_name: str, number: int) -> str:
    """The ``number``-th id of an object, e.g. ``salesforce_id("Contact", 1)``."""
    digits = ""
    while number:
        number, rem = divmod(number, 62)
        digits = _BASE62[rem] + digits
    return to18(PREFIX[object_name] + digits.rjust(12, "0"))


def user_id(id15: str) -> str:
    return to18(id15)


def apollo_id(number: int, kind: int = 0x6) -> str:
    """A 24-hex-digit id like Apollo's (``kind`` separates contacts, stages, accounts)."""
    return f"{kind:02x}{0x5e66b638:08x}{number:014x}"
