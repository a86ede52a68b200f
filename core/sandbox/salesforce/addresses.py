"""What a Salesforce Email field accepts, written from Salesforce's documentation alone.

The emulator stands for the org, so it does not borrow Concord's own rule (``core.emails``):
a mistake there would be mirrored here and never caught. Salesforce Help (the Email field
type; "How does Salesforce qualify an email address?"; "Email Address Format Technical
Standards") says:

- Email fields hold at most 80 characters;
- Salesforce follows the RFCs except where it says otherwise: one ``@``, a local part of at
  most 64 characters (RFC 5321), domain labels of letters, digits and hyphens that neither
  start nor end with a hyphen, separated by dots;
- the local part takes letters, digits, the dot and ``! # $ % & ' * / = ? ^ _ + - ` { | } ~``;
  consecutive dots and a dot at its end are accepted (asked for by customers in Japan), a
  dot at its start is not;
- comments in matched parentheses are allowed in either part (``jo@(work)acme.com``) and are
  ignored when mail is sent;
- non-ASCII addresses need Email Address Internationalization, an org setting (off by
  default; the sandbox's ``eai`` switch), which lets both parts hold international letters;
- addresses are stored lower-cased.

The API trims surrounding spaces; anything else (``Name <addr>``, ``mailto:``, invisible
characters) is refused with INVALID_EMAIL_ADDRESS, as the org does.
"""

from __future__ import annotations

import re

MAX_LENGTH = 80
MAX_LOCAL_LENGTH = 64
_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*/=?^_+\-`{|}~]+\Z")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
# With EAI, letters and digits of any script (``\w`` is Unicode-aware) count as well.
_LOCAL_EAI = re.compile(r"[\w.!#$%&'*/=?^+\-`{|}~]+\Z")
_LABEL_EAI = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?\Z")
_LEADING_COMMENT = re.compile(r"\A\([^()]*\)")
_TRAILING_COMMENT = re.compile(r"\([^()]*\)\Z")


class InvalidEmail(ValueError):
    """An address the Email field refuses; the message says why."""


def accepted_email(value: str, *, eai: bool = False) -> str:
    """The value an Email field stores for ``value``: trimmed and lower-cased.

    Raises :class:`InvalidEmail` for an address the org refuses (INVALID_EMAIL_ADDRESS).
    ``eai``: the org has Email Address Internationalization on.
    """
    text = value.strip()
    if len(text) > MAX_LENGTH:
        raise InvalidEmail(f"longer than {MAX_LENGTH} characters")
    international = not text.isascii()
    if international and not eai:
        raise InvalidEmail("non-ASCII characters need Email Address Internationalization")
    local_rule, label_rule = (_LOCAL_EAI, _LABEL_EAI) if international else (_LOCAL, _LABEL)
    local, at, domain = text.partition("@")
    if not at or "@" in domain:
        raise InvalidEmail("an address has exactly one @")
    local, domain = _without_comments(local), _without_comments(domain)
    if not local or not domain:
        raise InvalidEmail("an address needs something on each side of the @")
    if len(local) > MAX_LOCAL_LENGTH:
        raise InvalidEmail(f"the part before the @ is longer than {MAX_LOCAL_LENGTH} characters")
    if local.startswith(".") or not local_rule.match(local):
        raise InvalidEmail("the part before the @ starts with a dot or has a character the "
                           "field does not take")
    labels = domain.split(".")
    if len(labels) < 2 or not all(label_rule.match(label) for label in labels):
        raise InvalidEmail("the part after the @ must be dot-separated names of letters, digits "
                           "and inner hyphens")
    return text.lower()


def _without_comments(part: str) -> str:
    """One part of an address without a comment at its start or end."""
    return _TRAILING_COMMENT.sub("", _LEADING_COMMENT.sub("", part, count=1), count=1)
