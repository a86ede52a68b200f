"""The Salesforce emulator's own email rule, and where Concord's rule (core.emails) differs.

Each row: the address, whether the org stores it (the emulator, written from Salesforce's
documentation), whether Concord counts it valid (``core.emails.check``), and, when the two
differ, why the difference is deliberate. A row whose verdicts differ without a reason, or
agree with one, fails: a change to either rule has to be looked at here.
"""

from __future__ import annotations

import pytest

from core import emails
from core.sandbox.salesforce.addresses import InvalidEmail, accepted_email

TABLE = [
    # address, the org stores it, Concord counts it valid, why they differ
    ("jo.smith@acme.com", True, True, None),
    ("jo+crm@acme.co.uk", True, True, None),
    ("o'brien@acme.ie", True, True, None),
    ("=cmd@acme.com", True, True, None),
    ("jo..smith@acme.com", True, True, None),  # consecutive dots: documented, unlike the RFC
    ("jo.@acme.com", True, True, None),  # a dot before the @: documented
    ("jo@acme.123", True, True, None),
    (" jo@acme.com ", True, True, None),  # surrounding spaces are trimmed by both
    ("j" * 60 + "@" + "a" * 15 + ".com", True, True, None),  # exactly 80 characters
    (".jo@acme.com", False, False, None),
    ("jo smith@acme.com", False, False, None),
    ("jo@acme", False, False, None),
    ("jo@@acme.com", False, False, None),
    ("j" * 75 + "@acme.com", False, False, None),  # 84 characters
    ("j" * 65 + "@a.io", False, False, None),  # a 65-character local part
    ("jö@acme.com", False, False, None),  # Email Address Internationalization is off
    ("jo@-acme.com", False, False, None),
    ("jo@acme_corp.com", False, False, None),
    ("", False, False, None),
    ("Jo Smith <jo@acme.com>", False, True,
     "Concord unwraps what people paste and compares the bare address; the org takes only "
     "the address itself, and Concord never writes the wrapper"),
    ("mailto:jo@acme.com", False, True, "as above: Concord strips the prefix before comparing"),
    ("jo\u200b@acme.com", False, True,
     "Concord drops invisible characters pasted with an address; the org refuses them"),
    ("jo@printer.local", True, False,
     "Concord refuses special-use domains no mailbox can have (.local, .test, ...), so it "
     "never recommends one; the org stores them"),
    ("jo@(work)acme.com", True, False,
     "comments are documented but nobody means them; Concord leaves such an address to the "
     "user instead of recommending it"),
    ("jo@acme.com(work)", True, False, "as above"),
]


def org_stores(address: str) -> bool:
    try:
        accepted_email(address)
    except InvalidEmail:
        return False
    return True


@pytest.mark.parametrize("address, org, concord, why", TABLE, ids=[repr(r[0]) for r in TABLE])
def test_the_emulator_and_concord_on_tricky_addresses(address, org, concord, why):
    assert org_stores(address) is org
    assert emails.check(address).valid is concord
    assert (why is not None) is (org != concord), "a difference needs a reason, and only one"


def test_the_org_stores_addresses_trimmed_and_lower_cased():
    assert accepted_email("  Jo.Smith@ACME.com ") == "jo.smith@acme.com"


def test_the_refusal_says_why():
    with pytest.raises(InvalidEmail, match="80"):
        accepted_email("j" * 75 + "@acme.com")
