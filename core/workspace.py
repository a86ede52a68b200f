"""Named workspaces: where each connection profile and its cache live.

A workspace is a directory (0700) under the user data directory holding ``profile.json``
(login hosts, the sign-in method, client ids: nothing secret) and ``cache.sqlite``. Secrets
are in the keyring under the workspace's name (:mod:`core.credentials`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs


APP_NAME = "Concord"
SALESFORCE_API_VERSION = "59.0"
AUTH_METHODS = ("pkce", "jwt", "client_credentials", "password")
APP_TYPES = ("public", "confidential")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class WorkspaceError(Exception):
    """A workspace is missing or its profile is unreadable; the message says which and why."""


@dataclass
class Profile:
    """How to reach both systems (nothing secret)."""

    salesforce_login_url: str = "https://login.salesforce.com"
    salesforce_auth: str = "pkce"
    salesforce_client_id: str = ""
    salesforce_username: str = ""
    salesforce_private_key_path: str = ""
    salesforce_instance_url: str = ""
    salesforce_api_version: str = SALESFORCE_API_VERSION
    apollo_base_url: str = "https://api.apollo.io"
    ca_path: str = ""  # a sandbox's certificate authority; empty for real services
    sandbox: bool = False
    # The browser sign-in's callback URL exactly as registered on the app; empty: the
    # default, http://localhost:1717/OauthRedirect (core.sources.salesforce_auth).
    salesforce_redirect_uri: str = ""
    # Browser sign-in: "public" (no secret) or "confidential" (the app has "Require Secret
    # for Web Server Flow" on; its consumer secret is in the keyring).
    salesforce_app_type: str = "public"

    def validate(self) -> None:
        if self.salesforce_auth not in AUTH_METHODS:
            raise WorkspaceError(f"salesforce_auth must be one of {', '.join(AUTH_METHODS)}, "
                                 f"got {self.salesforce_auth!r}")
        if self.salesforce_app_type not in APP_TYPES:
            raise WorkspaceError(f"salesforce_app_type must be one of {', '.join(APP_TYPES)}, "
                                 f"got {self.salesforce_app_type!r}")
        for field in ("salesforce_login_url", "apollo_base_url"):
            value = getattr(self, field)
            if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise WorkspaceError(f"{field} must be an https:// address, got {value!r}")


def default_root() -> Path:
    """Where workspaces live unless ``CONCORD_HOME`` says otherwise."""
    override = os.environ.get("CONCORD_HOME")
    if override:
        return Path(override) / "workspaces"
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "workspaces"


class Workspace:
    """One named workspace on disk."""

    def __init__(self, name: str, root: Path | None = None):
        if not _NAME.match(name or ""):
            raise WorkspaceError(f"A workspace name uses letters, digits, '.', '_' or '-' "
                                 f"(at most 64), got {name!r}")
        self.name = name
        self.path = (root or default_root()) / name

    @property
    def cache_path(self) -> Path:
        return self.path / "cache.sqlite"

    @property
    def profile_path(self) -> Path:
        return self.path / "profile.json"

    def exists(self) -> bool:
        return self.profile_path.exists()

    def create(self, profile: Profile | None = None) -> "Workspace":
        """Create the directory (0700) and save a profile."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.mkdir(exist_ok=True, mode=0o700)
        os.chmod(self.path, 0o700)
        self.save_profile(profile or Profile())
        return self

    def load_profile(self) -> Profile:
        try:
            data = json.loads(self.profile_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorkspaceError(f"No workspace named {self.name!r} at {self.path}") from None
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"The profile {self.profile_path} is unreadable ({exc}); "
                                 f"fix or delete it and connect again.") from None
        known = {f.name for f in dataclasses.fields(Profile)}
        profile = Profile(**{k: v for k, v in data.items() if k in known})
        profile.validate()
        return profile

    def save_profile(self, profile: Profile) -> None:
        profile.validate()
        tmp = self.profile_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dataclasses.asdict(profile), fh, indent=2)
        os.replace(tmp, self.profile_path)


def list_workspaces(root: Path | None = None) -> list[str]:
    """Names of the workspaces that have a profile."""
    root = root or default_root()
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "profile.json").exists())
