"""Secrets live in a secure keyring only: insecure backends are refused with a fix, and
canary secrets never reach the cache, its WAL, the logs or any exception text."""

from __future__ import annotations

import json
import logging

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest

from core import cli, credentials
from core.credentials import InsecureKeyringError
from core.sandbox.salesforce.oauth import ConnectedApp, User
from core.sources.apollo import ApolloSource
from core.sources.errors import SourceError
from core.sources.salesforce import SalesforceSource
from core.store.cache import Cache
from core.sync.connect import connect_apollo, connect_salesforce
from core.sync.pull import pull_all
from core.workspace import Profile, Workspace
from tests.harness import SimulatedBrowser, free_callback, sandbox


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, keyring.backends.null.Keyring],
                         ids=["fail", "null"])
def test_insecure_keyrings_are_refused_with_a_fix(backend, tmp_path, monkeypatch, capsys):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        with pytest.raises(InsecureKeyringError, match="secure keyring") as refused:
            credentials.store_secret("acme", credentials.APOLLO_API_KEY, "k" * 20)
        assert "PYTHON_KEYRING_BACKEND" in str(refused.value) or "Keychain" in str(refused.value) \
            or "Credential Manager" in str(refused.value)
        monkeypatch.setenv("CONCORD_HOME", str(tmp_path))
        space = Workspace("acme").create(Profile())
        with pytest.raises(InsecureKeyringError):
            SalesforceSource.from_profile(space)
        with pytest.raises(InsecureKeyringError):
            ApolloSource.from_profile(space)
        with pytest.raises(InsecureKeyringError):
            connect_apollo(space, "some-apollo-key")
        # the command line says why and exits 3 (could not run)
        assert cli.main(["pull", "--workspace", "acme"]) == 3
        assert "secure keyring" in capsys.readouterr().err
    finally:
        keyring.set_keyring(previous)


CANARIES = {
    "apollo_key": "CANARYapolloKEY0123456789abcdef",
    "client_secret": "CANARYclientSECRET0123456789abcdef",
    "password": "CANARYpassword0123",
    "security_token": "CANARYsecTOKEN0123",
}


def test_canary_secrets_never_leave_the_keyring(tmp_path, tls_dir, memory_keyring, caplog):
    running = sandbox(400, 5, tls_dir=tls_dir, apollo_api_key=CANARIES["apollo_key"],
                      salesforce_options={"connected_app": ConnectedApp(
                          client_secret=CANARIES["client_secret"])})
    try:
        app = running.salesforce_app
        app.identity.add_user(User("canary@sandbox.example", CANARIES["password"],
                                   CANARIES["security_token"], "005000000000099"))
        sf = running.info()["salesforce"]
        # No redacting filter here: nothing Concord logs may carry a secret in the first place.
        caplog.set_level(logging.DEBUG)
        messages: list[str] = []
        profile = dict(salesforce_login_url=sf["login_url"], apollo_base_url=running.apollo_url,
                       ca_path=running.ca_path)
        # a browser connection (refresh token), a client-credentials one and a legacy one
        pkce = Workspace("pkce", root=tmp_path / "ws").create(Profile(
            salesforce_auth="pkce", salesforce_client_id=sf["public_client_id"],
            salesforce_redirect_uri=free_callback(app), **profile))
        connect_salesforce(pkce, open_browser=SimulatedBrowser(running.ca_path), timeout=20)
        cc = Workspace("cc", root=tmp_path / "ws").create(Profile(
            salesforce_auth="client_credentials", salesforce_client_id=sf["client_id"], **profile))
        connect_salesforce(cc, client_secret=CANARIES["client_secret"])
        legacy = Workspace("legacy", root=tmp_path / "ws").create(Profile(
            salesforce_auth="password", salesforce_username="canary@sandbox.example", **profile))
        connect_salesforce(legacy, password=CANARIES["password"],
                           security_token=CANARIES["security_token"])
        connect_apollo(cc, CANARIES["apollo_key"])
        tokens = [v for (service, account), v in memory_keyring.secrets.items()
                  if account.endswith(("_token", "access_token"))]
        assert len(tokens) >= 3
        # pulls with each, an expired session on the way, DEBUG logging on
        cache_path = tmp_path / "cache.sqlite"
        with Cache(cache_path) as cache:
            app.faults.add("session_expiry", route=r"/queryAll/?$", count=1)
            for space in (pkce, cc, legacy):
                summary = pull_all(cache, SalesforceSource.from_profile(space),
                                   ApolloSource.from_profile(cc))
                assert summary.status == "complete", summary.as_dict()
                messages.append(json.dumps(summary.as_dict()))
            # failures: a revoked key, a refused secret, a refused password
            running.apollo_app.faults.add("unauthorized", count=1)
            for attempt in (lambda: ApolloSource.from_profile(cc).search(),
                            lambda: SalesforceSource.from_sandbox_info(
                                {**running.info(), "salesforce": {
                                    **sf, "client_secret": CANARIES["client_secret"] + "x"}}
                            ).count("Contact"),
                            lambda: connect_salesforce(legacy, password=CANARIES["password"] + "x",
                                                       security_token=CANARIES["security_token"])):
                with pytest.raises(SourceError) as failure:
                    attempt()
                messages.append(str(failure.value))
                messages.append(repr(failure.value))
            cache.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            stored = b"".join(p.read_bytes() for p in tmp_path.glob("cache.sqlite*"))
        logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
        secrets = list(CANARIES.values()) + tokens + [CANARIES["client_secret"] + "x"]
        assert logs and len(stored) > 100_000
        for secret in secrets:
            assert secret.encode() not in stored, "a secret reached the cache"
            assert secret not in logs, "a secret reached the logs"
            assert not any(secret in m for m in messages), "a secret reached a message"
        for path in (tmp_path / "ws").rglob("*"):
            if path.is_file():
                text = path.read_bytes()
                assert not any(s.encode() in text for s in secrets), path
    finally:
        running.stop()
