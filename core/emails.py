"""Email addresses: the comparison key, validation as Salesforce would do it, hints, diffs.

Two addresses are *equal* when their comparison keys are equal: Salesforce stores emails
lower-cased, so case and surrounding whitespace never make a difference (and never cause
a write). Plus-tags, Gmail dots and role accounts are reported as *hints*; they are never
merged silently, because ``jo+crm@acme.com`` and ``jo@acme.com`` are different values in
both systems.

The comparison key is cheap (it runs for every record at ingest); validation uses
email-validator without DNS and is cached, because it runs only for differing pairs.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass

import email_validator

MAX_LENGTH = 80  # Salesforce Email fields hold at most 80 characters
MAX_LOCAL_LENGTH = 64

ROLE_ACCOUNTS = frozenset(
    """abuse admin administrator billing careers contact enquiries example feedback finance
    hello help hostmaster hr info inquiries jobs mail marketing media no-reply noc noreply
    office orders postmaster press privacy sales security support team webmaster""".split()
)
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# Characters that are invisible but survive str.strip(): zero-width space/joiners, BOM, word joiner.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_WRAPPED = re.compile(r"^[^<>]*<\s*([^<>]+?)\s*>\s*$")
# What Salesforce accepts in the local part (RFC 5322 atext plus dots; no quoting, no comments).
_LOCAL_OK = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+$")
# The everyday shape of an address needs no further checks: dot-separated atext, then DNS
# labels and an alphabetic top-level domain (anything else goes to email-validator).
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+")
_LABEL = re.compile(r"[A-Za-z0-9\-]+")
_SPECIAL_USE = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)


class EmailError(ValueError):
    """An address Salesforce would reject; the message says what is wrong with it."""


def clean(raw: str | None) -> str:
    """The address without the wrapping people paste around it (not lower-cased).

    Strips ASCII and Unicode whitespace, zero-width characters, a ``mailto:`` prefix and a
    ``Name <addr>`` wrapper, and applies NFC. A blank or missing value gives ``""``.
    """
    if not raw:
        return ""
    text = raw.strip()
    if text.isascii():
        if text[:7].lower() == "mailto:":
            text = text[7:].strip()
        if "<" in text:
            match = _WRAPPED.match(text)
            if match:
                text = match.group(1)
        return text
    text = unicodedata.normalize("NFC", text.translate(_INVISIBLE)).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    match = _WRAPPED.match(text)
    if match:
        text = match.group(1)
    return text


def comparison_key(raw: str | None) -> str:
    """The key two addresses are compared by: cleaned, lower-cased, IDN domain in ASCII.

    ``comparison_key(" Jo@ACME.com ") == comparison_key("jo@acme.com")``; blank gives ``""``.
    """
    text = clean(raw)
    if text.isascii():
        return text.lower()
    local, at, domain = text.rpartition("@")
    if at and domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # not a valid IDN: compare the text as it is
    return f"{local}{at}{domain}".lower()


def same(a: str | None, b: str | None) -> bool:
    """Whether two addresses are the same for reconciliation (case/whitespace-insensitive)."""
    return comparison_key(a) == comparison_key(b)


@dataclass(frozen=True, slots=True)
class EmailCheck:
    """The verdict on one address: its key, whether Salesforce would accept it, and hints."""

    key: str
    valid: bool
    error: str | None
    hints: tuple[str, ...]

    @property
    def blank(self) -> bool:
        return not self.key


def validate(raw: str | None, *, allow_unicode: bool = False) -> str:
    """Return the cleaned address if Salesforce would accept it, else raise :class:`EmailError`.

    Salesforce's rules: at most 80 characters, one ``@``, an unquoted local part of at most
    64 characters (consecutive dots and a trailing dot are allowed, unlike RFC 5322), and a
    domain with a dot. Non-ASCII needs Email Address Internationalization (``allow_unicode``).
    """
    return _validate_clean(clean(raw), allow_unicode)


def _validate_clean(text: str, allow_unicode: bool) -> str:
    if not text:
        raise EmailError("the address is blank")
    if len(text) <= MAX_LENGTH and _plain(text):
        return text
    if len(text) > MAX_LENGTH:
        raise EmailError(f"the address is {len(text)} characters long; Salesforce allows {MAX_LENGTH}")
    if text.count("@") != 1:
        raise EmailError("the address must contain exactly one @")
    local, _, domain = text.partition("@")
    if not local:
        raise EmailError("nothing before the @")
    if not domain:
        raise EmailError("nothing after the @")
    if len(local) > MAX_LOCAL_LENGTH:
        raise EmailError(f"the part before the @ is {len(local)} characters; the limit is {MAX_LOCAL_LENGTH}")
    if local.startswith("."):
        raise EmailError("the address starts with a dot")
    if not text.isascii() and not allow_unicode:
        raise EmailError("the address has non-ASCII characters, which Salesforce accepts only with "
                         "Email Address Internationalization enabled")
    if local.isascii() and not _LOCAL_OK.match(local):
        bad = sorted({c for c in local if not _LOCAL_OK.match(c)})
        raise EmailError(f"the part before the @ contains {', '.join(map(repr, bad))}")
    if "." not in domain.strip("."):
        raise EmailError("the part after the @ needs a dot, as in acme.com")
    # email-validator checks the domain (labels, IDNA, TLD syntax) and Unicode local parts;
    # Salesforce tolerates '..' and a trailing '.' in the local part, so collapse those first.
    probe_local = re.sub(r"\.{2,}", ".", local).rstrip(".") or "x"
    try:
        email_validator.validate_email(
            f"{probe_local}@{domain}",
            check_deliverability=False,
            allow_smtputf8=allow_unicode,
            allow_quoted_local=False,
            allow_domain_literal=False,
            globally_deliverable=False,
        )
    except email_validator.EmailNotValidError as exc:
        raise EmailError(str(exc).rstrip(".")) from None
    return text


def _plain(text: str) -> bool:
    """Whether an address has the everyday shape that needs no detailed check (fast: string
    operations and two simple character classes; a property test keeps it within what
    email-validator accepts)."""
    local, at, domain = text.partition("@")
    if not at or not local or len(local) > MAX_LOCAL_LENGTH or "@" in domain:
        return False
    if local[0] == "." or local[-1] == "." or ".." in local or not _ATEXT.fullmatch(local):
        return False
    labels = domain.split(".")
    tld = labels[-1]
    if len(labels) < 2 or not (2 <= len(tld) <= 63 and tld.isascii() and tld.isalpha()):
        return False
    if "--" in domain or tld.lower() in _SPECIAL_USE:
        return False  # IDNA's reserved "xn--" form and reserved names take the long way
    return all(label and len(label) <= 63 and label[0] != "-" and label[-1] != "-"
               and _LABEL.fullmatch(label) for label in labels)


def hints_for(raw: str | None) -> tuple[str, ...]:
    """Hints about one address: ``plus_tag``, ``gmail_dots``, ``role_account``, ``needs_cleanup``."""
    if not raw:
        return ()
    return _hints_clean(raw, clean(raw))


def _hints_clean(raw: str, text: str) -> tuple[str, ...]:
    found = []
    if text != raw:
        found.append("needs_cleanup")
    local, _, domain = text.lower().rpartition("@")
    if "+" in local:
        found.append("plus_tag")
    if domain in GMAIL_DOMAINS and "." in local:
        found.append("gmail_dots")
    if local.split("+", 1)[0] in ROLE_ACCOUNTS:
        found.append("role_account")
    return tuple(found)


@functools.lru_cache(maxsize=65536)
def check(raw: str | None, *, allow_unicode: bool = False) -> EmailCheck:
    """Key, validity and hints of an address in one call (cached: addresses repeat)."""
    text = clean(raw)
    if not text:
        return EmailCheck("", False, "the address is blank", ())
    key = text.lower() if text.isascii() else comparison_key(text)
    hints = _hints_clean(raw, text)
    try:
        _validate_clean(text, allow_unicode)
    except EmailError as exc:
        return EmailCheck(key, False, str(exc), hints)
    return EmailCheck(key, True, None, hints)


def _mailbox(key: str) -> str:
    local, at, domain = key.rpartition("@")
    if not at:
        return key
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def pair_hints(a: str | None, b: str | None) -> tuple[str, ...]:
    """Hints about two differing addresses that may be the same mailbox, never merged silently."""
    ka, kb = comparison_key(a), comparison_key(b)
    if not ka or not kb or ka == kb:
        return ()
    if _mailbox(ka) != _mailbox(kb):
        return ()
    la, lb = ka.partition("@")[0], kb.partition("@")[0]
    if "+" in la or "+" in lb:
        return ("same_mailbox_plus_tag",)
    return ("same_mailbox_gmail_dots",)


@dataclass(frozen=True, slots=True)
class DiffSegment:
    """One run of a character diff: ``equal``, ``replace``, ``delete`` (only in a) or ``insert``."""

    op: str
    a: str
    b: str


def diff(a: str | None, b: str | None) -> list[DiffSegment]:
    """Character-by-character difference of two addresses, as plain data for any renderer."""
    a, b = a or "", b or ""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [DiffSegment(op, a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes()]
