"""Email addresses as Salesforce and Apollo hold them: keys, validation, hints, diffs."""

import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import emails

KEYS = [
    ("a rep pasted it with spaces around", "  jo@acme.com ", "jo@acme.com"),
    ("Salesforce lower-cases; Apollo kept capitals", "Jo.Smith@ACME.com", "jo.smith@acme.com"),
    ("a zero-width space copied from a web page", "\u200bjo@acme.com", "jo@acme.com"),
    ("a no-break space at the end", "jo@acme.com\u00a0", "jo@acme.com"),
    ("a mailto: link pasted", "mailto:jo@acme.com", "jo@acme.com"),
    ("a display name wrapper pasted", "Jo Smith <jo@acme.com>", "jo@acme.com"),
    ("an internationalised domain compares in ASCII", "jo@bücher.de", "jo@xn--bcher-kva.de"),
    ("blank", "   ", ""),
    ("missing", None, ""),
]


@pytest.mark.parametrize("situation, raw, key", KEYS, ids=[k[0] for k in KEYS])
def test_comparison_key(situation, raw, key):
    assert emails.comparison_key(raw) == key


VALIDITY = [
    ("an everyday address", "jo.smith@acme.com", True, None),
    ("a plus tag", "jo+crm@acme.co.uk", True, None),
    ("consecutive dots: Salesforce accepts them", "jo..smith@acme.com", True, None),
    ("a trailing dot before @: Salesforce accepts it", "jo.@acme.com", True, None),
    ("a leading dot", ".jo@acme.com", False, "starts with a dot"),
    ("a space inside", "jo smith@acme.com", False, "contains ' '"),
    ("no dot in the domain", "jo@acme", False, "needs a dot"),
    ("two @", "jo@@acme.com", False, "exactly one @"),
    ("longer than Salesforce's 80 characters", "j" * 75 + "@acme.com", False, "80"),
    ("a 65-character local part", "j" * 65 + "@a.io", False, "64"),
    ("a reserved domain", "jo@printer.local", False, "special-use"),
    ("a hyphen right after @", "jo@-acme.com", False, "hyphen"),
    ("non-ASCII needs Email Address Internationalization", "jö@acme.com", False, "non-ASCII"),
    ("an apostrophe is fine", "o'brien@acme.ie", True, None),
    ("a formula-looking but valid address", "=cmd@acme.com", True, None),
    ("blank", "", False, "blank"),
]


@pytest.mark.parametrize("situation, raw, valid, message", VALIDITY, ids=[v[0] for v in VALIDITY])
def test_salesforce_validity(situation, raw, valid, message):
    check = emails.check(raw)
    assert check.valid is valid
    if message:
        assert message in check.error


def test_unicode_allowed_with_internationalization():
    assert emails.check("jö@acme.com", allow_unicode=True).valid


HINTS = [
    ("role account", "info@acme.com", ("role_account",)),
    ("role account with a tag", "sales+eu@acme.com", ("plus_tag", "role_account")),
    ("gmail dots", "j.smith@gmail.com", ("gmail_dots",)),
    ("workspace domain: dots matter", "j.smith@acme.com", ()),
    ("needs cleanup", " jo@acme.com", ("needs_cleanup",)),
]


@pytest.mark.parametrize("situation, raw, hints", HINTS, ids=[h[0] for h in HINTS])
def test_hints(situation, raw, hints):
    assert emails.hints_for(raw) == hints


def test_pair_hints_flag_possible_same_mailbox_without_merging():
    assert emails.pair_hints("jo+crm@acme.com", "jo@acme.com") == ("same_mailbox_plus_tag",)
    assert emails.pair_hints("j.o.smith@gmail.com", "josmith@googlemail.com") == ("same_mailbox_gmail_dots",)
    assert emails.pair_hints("j.smith@acme.com", "jsmith@acme.com") == ()
    assert not emails.same("jo+crm@acme.com", "jo@acme.com")


def test_diff_is_plain_data_that_rebuilds_both_sides():
    segments = emails.diff("jo.smith@acme.com", "jsmith@acme.io")
    assert "".join(s.a for s in segments) == "jo.smith@acme.com"
    assert "".join(s.b for s in segments) == "jsmith@acme.io"
    assert {s.op for s in segments} <= {"equal", "replace", "delete", "insert"}
    assert any(s.op != "equal" for s in segments)


# The fast path must never accept what email-validator (plus Salesforce's own limits) rejects.
atext = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_+'!#", min_size=1, max_size=20)
label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@settings(max_examples=500, deadline=None)
@given(atext, st.lists(label, min_size=1, max_size=3), st.sampled_from(["com", "io", "de", "local", "test", "c0m", "x"]))
def test_fast_path_agrees_with_email_validator(local, labels, tld):
    address = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        emails.validate(address)
        ours = True
    except emails.EmailError:
        ours = False
    probe_local = local.replace("..", ".").rstrip(".") or "x"
    while ".." in probe_local:
        probe_local = probe_local.replace("..", ".")
    try:
        email_validator.validate_email(f"{probe_local}@{'.'.join(labels)}.{tld}",
                                       check_deliverability=False, globally_deliverable=False)
        theirs = not local.startswith(".") and len(address) <= 80 and len(local) <= 64
    except email_validator.EmailNotValidError:
        theirs = False
    assert ours == theirs, address


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_normalising_is_idempotent_and_never_raises(text):
    key = emails.comparison_key(text)
    assert emails.comparison_key(key) == key
    check = emails.check(text)
    assert check.valid or check.error
