"""Secrets in the operating system's keyring, per workspace, and nowhere else.

Concord refuses to store a secret when the keyring backend would not protect it (the
``fail`` and ``null`` backends, or any plain-text file backend) and says how to fix that.
Secrets never go into the cache, logs, reports or exception messages; :func:`redact` scrubs
known secret shapes from any text before it is shown or logged.
"""

from __future__ import annotations

import logging
import re
import sys

import keyring
import keyring.errors

SERVICE = "Concord"
# Names of the secrets a workspace may hold.
APOLLO_API_KEY = "apollo_api_key"
SALESFORCE_REFRESH_TOKEN = "salesforce_refresh_token"
SALESFORCE_ACCESS_TOKEN = "salesforce_access_token"
SALESFORCE_CLIENT_SECRET = "salesforce_client_secret"
SALESFORCE_PASSWORD = "salesforce_password"
SALESFORCE_SECURITY_TOKEN = "salesforce_security_token"
SALESFORCE_PRIVATE_KEY = "salesforce_private_key"

_UNSAFE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


class CredentialError(Exception):
    """A secret could not be stored or read; the message says what to do."""


class InsecureKeyringError(CredentialError):
    """The keyring backend would not protect secrets."""


def _fix_hint() -> str:
    if sys.platform == "darwin":
        return "Concord uses the macOS Keychain; make sure it is unlocked."
    if sys.platform.startswith("win"):
        return "Concord uses the Windows Credential Manager; make sure it is available."
    return ("Install and unlock a Secret Service keyring (for example GNOME Keyring or KWallet) "
            "and start Concord from your desktop session; do not set PYTHON_KEYRING_BACKEND "
            "to a plain-text or null backend.")


def backend_name() -> str:
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def check_backend() -> None:
    """Raise :class:`InsecureKeyringError` unless the keyring backend protects secrets."""
    backend = keyring.get_keyring()
    backends = getattr(backend, "backends", None) or [backend]  # a chainer holds several
    usable = []
    for item in backends:
        module = type(item).__module__
        if module.startswith(_UNSAFE_BACKENDS) or "plaintext" in type(item).__name__.lower():
            continue
        usable.append(item)
    if not usable:
        raise InsecureKeyringError(
            f"No secure keyring is available (backend: {backend_name()}), so Concord will not "
            f"store secrets. {_fix_hint()}")


def _account(workspace: str, name: str) -> str:
    return f"{workspace}:{name}"


def store_secret(workspace: str, name: str, value: str) -> None:
    """Save a secret for a workspace in the keyring (refused on an insecure backend)."""
    check_backend()
    try:
        keyring.set_password(SERVICE, _account(workspace, name), value)
    except keyring.errors.KeyringError as exc:
        raise CredentialError(f"The keyring refused to store the {name.replace('_', ' ')} for "
                              f"workspace {workspace!r}: {type(exc).__name__}. {_fix_hint()}") from None


def get_secret(workspace: str, name: str) -> str | None:
    """A secret of a workspace, or None when none is stored."""
    check_backend()
    try:
        return keyring.get_password(SERVICE, _account(workspace, name))
    except keyring.errors.KeyringError as exc:
        raise CredentialError(f"The keyring could not be read for workspace {workspace!r}: "
                              f"{type(exc).__name__}. {_fix_hint()}") from None


def delete_secret(workspace: str, name: str) -> None:
    """Forget a secret (no error when it was not stored)."""
    try:
        keyring.delete_password(SERVICE, _account(workspace, name))
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as exc:
        raise CredentialError(f"The keyring could not delete the {name} of {workspace!r}: "
                              f"{type(exc).__name__}.") from None


# -- keeping secrets out of text ------------------------------------------------------------

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=!\-]{8,}"),
    re.compile(r"(?i)((?:x-api-key|api_key|access_token|refresh_token|client_secret|"
               r"code_verifier|password|security_token|assertion|sessionId)"
               r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,<>]{4,}"),
    re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}"),  # Salesforce session ids
]
_known: set[str] = set()


def remember_for_redaction(value: str | None) -> None:
    """Make :func:`redact` also hide this exact value (e.g. a secret just read)."""
    if value and len(value) >= 6:
        _known.add(value)


def redact(text: str) -> str:
    """``text`` with secrets replaced by ``[redacted]``."""
    for value in sorted(_known, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
