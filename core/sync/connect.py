"""Connecting a workspace to both systems once: sign in, check, keep the secrets.

The window's connect dialog (and any command that connects) calls these. Secrets go only
to the OS keyring (:mod:`core.credentials`), which must be a secure backend; the profile
(non-secret) gets the instance URL Salesforce reports. After this, pulls run without
asking the user anything until a refresh token is revoked.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field

from core import credentials
from core.sources.apollo import ApolloSource
from core.sources.errors import NotConnected
from core.sources.salesforce import SalesforceSource
from core.sources.salesforce_access import check_access
from core.sources.salesforce_auth import KeyringTokenStore, authorize_in_browser
from core.store.rows import SF_FIELDS
from core.workspace import Profile, Workspace


@dataclass
class ConnectResult:
    """What a connection check found: where, and anything the user should be told."""

    system: str
    instance_url: str = ""
    notices: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)


def connect_salesforce(workspace: Workspace, profile: Profile | None = None, *,
                       open_browser: Callable[[str], object] = webbrowser.open,
                       client_secret: str | None = None, password: str | None = None,
                       security_token: str | None = None, private_key: str | None = None,
                       timeout: float = 300.0, cancel: threading.Event | None = None,
                       paste: Callable[[str], str | None] | None = None,
                       **source_options) -> ConnectResult:
    """Sign in to Salesforce the way ``profile.salesforce_auth`` says and keep the secrets.

    ``pkce`` opens the browser (``open_browser``) and waits up to ``timeout`` seconds for
    the redirect to the app's callback URL (``paste(message)`` is asked for the address
    when another program holds its port); a confidential app
    (``profile.salesforce_app_type``) also sends ``client_secret``. ``jwt`` uses
    ``private_key`` (PEM) or the profile's key file; ``client_credentials`` needs
    ``client_secret``; ``password`` needs ``password`` and ``security_token`` and returns
    the legacy-login notice. The connection is checked with the queries the pull runs
    (:func:`~core.sources.salesforce_access.check_access`); what the user cannot read is
    listed in ``notices``. Raises :class:`~core.sources.errors.AuthError` and friends, or
    :class:`~core.credentials.InsecureKeyringError`.
    """
    profile = profile or workspace.load_profile()
    credentials.check_backend()
    name = workspace.name
    given = {key: value for key, value in ((credentials.SALESFORCE_CLIENT_SECRET, client_secret),
                                           (credentials.SALESFORCE_PASSWORD, password),
                                           (credentials.SALESFORCE_SECURITY_TOKEN, security_token),
                                           (credentials.SALESFORCE_PRIVATE_KEY, private_key))
             if value}
    # The sign-in reads what it needs from the keyring and the profile, so the new values go
    # there first; if it fails, what worked before is put back (a typo never costs a
    # working connection).
    before = {key: credentials.get_secret(name, key)
              for key in (*given, credentials.SALESFORCE_ACCESS_TOKEN)}
    old_profile = workspace.load_profile() if workspace.exists() else None
    try:
        for key, value in given.items():
            credentials.store_secret(name, key, value)
        # A new sign-in replaces any session kept from before.
        credentials.delete_secret(name, credentials.SALESFORCE_ACCESS_TOKEN)
        workspace.save_profile(profile)
        return _sign_in_salesforce(workspace, profile, open_browser, timeout, cancel, paste,
                                   source_options)
    except BaseException:
        for key, value in before.items():
            if value:
                credentials.store_secret(name, key, value)
            else:
                credentials.delete_secret(name, key)
        if old_profile is not None:
            workspace.save_profile(old_profile)
        raise


def _sign_in_salesforce(workspace: Workspace, profile: Profile, open_browser, timeout: float,
                        cancel: threading.Event | None, paste,
                        source_options: dict) -> ConnectResult:
    source = SalesforceSource.from_profile(workspace, profile, **source_options)
    if profile.salesforce_auth == "pkce":
        if not profile.salesforce_client_id:
            raise NotConnected("salesforce", "Set the connected app's consumer key (client id) "
                                             "of this workspace first.")
        secret = None
        if profile.salesforce_app_type == "confidential":
            secret = credentials.get_secret(workspace.name, credentials.SALESFORCE_CLIENT_SECRET)
            if not secret:
                raise NotConnected("salesforce", "This app requires its consumer secret "
                                                 "(confidential app); enter it first.")
        token = authorize_in_browser(source.session, profile.salesforce_login_url,
                                     profile.salesforce_client_id, open_browser=open_browser,
                                     timeout=timeout, login_hint=profile.salesforce_username or None,
                                     redirect_uri=profile.salesforce_redirect_uri or None,
                                     client_secret=secret, paste=paste, cancel=cancel)
        source.auth.store.save(token)
        source.use_token(token)
    else:
        source.use_token(source.auth.renew(source.session))
    access = check_access(source, {name: SF_FIELDS[name] for name in ("Contact", "Lead")})
    store = source.auth.store
    instance = store.instance_url if isinstance(store, KeyringTokenStore) else ""
    used, budget = source.usage or (0, 0)
    return ConnectResult("salesforce", instance or workspace.load_profile().salesforce_instance_url,
                         source.notices + access.problems,
                         {"daily_api_requests": {"Max": budget, "Remaining": budget - used},
                          "history": access.history})


def connect_apollo(workspace: Workspace, api_key: str, profile: Profile | None = None,
                   **source_options) -> ConnectResult:
    """Check an Apollo API key (one call) and keep it in the keyring; a refused key
    (``/auth/health`` saying ``is_logged_in: false``) is an AuthError and is not kept."""
    profile = profile or workspace.load_profile()
    credentials.check_backend()
    source = ApolloSource(api_key, profile.apollo_base_url,
                          ca_path=source_options.pop("ca_path", profile.ca_path or None),
                          **source_options)
    health = source.health()
    credentials.store_secret(workspace.name, credentials.APOLLO_API_KEY, api_key)
    return ConnectResult("apollo", profile.apollo_base_url, [], {"health": health})

