"""Helpers for tests that run the sandbox: start one, a simulated browser, an Apollo-only
emulator, and a way to compare the records two caches ended up with. The fixtures built on
them are in tests/conftest.py."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import requests

from core.sandbox import spawn
from core.sandbox.apollo.api import UNLIMITED
from core.store.cache import Cache


def sandbox(records: int = 400, seed: int = 3, *, tls_dir=None, apollo_limits=None, **options):
    """A running sandbox (Apollo rate limits off unless given)."""
    return spawn(records=records, seed=seed, tls_dir=tls_dir,
                 apollo_limits=apollo_limits or UNLIMITED, **options)


@contextlib.contextmanager
def sandbox_info_file(folder: Path, records: int, seed: int):
    """A running sandbox and its info file in ``folder`` (as ``concord sandbox serve``
    writes it), stopped afterwards."""
    running = sandbox(records, seed, tls_dir=folder / "tls")
    path = folder / "sandbox.json"
    path.write_text(json.dumps(running.info()))
    try:
        yield running, path
    finally:
        running.stop()


def browser_session(ca_path: str) -> requests.Session:
    """The session a simulated browser uses (trusts the sandbox CA, no redirects followed
    automatically so each hop can be checked)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_path
    return session


def free_callback(salesforce_app) -> str:
    """A loopback callback URL on a free port, registered on the sandbox's apps (tests never
    use the fixed default port, which another run on the machine may hold)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uri = f"http://localhost:{port}/OauthRedirect"
    salesforce_app.register_callback(uri)
    return uri


class SimulatedBrowser:
    """Plays the user's browser for the PKCE flow: opens the authorize URL on the sandbox
    (which consents at once) and follows its redirect to Concord's loopback listener."""

    def __init__(self, ca_path: str, *, deny: bool = False, follow: bool = True):
        self.session = browser_session(ca_path)
        self.deny = deny
        self.follow = follow  # False: stop at the redirect (nothing listens there)
        self.opened: list[str] = []
        self.landed: list[str] = []  # the addresses the browser was sent back to
        self.refused: list[str] = []  # errors the authorize page answered with
        self.thread: threading.Thread | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        # A real browser opens asynchronously; so does this one.
        self.thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self.thread.start()
        return True

    def _visit(self, url: str) -> None:
        from urllib.parse import parse_qs, urlencode, urlsplit

        if self.deny:
            params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            target = params["redirect_uri"] + "?" + urlencode(
                {"error": "access_denied", "error_description": "end-user denied authorization",
                 "state": params["state"]})
        else:
            answer = self.session.get(url, allow_redirects=False, timeout=10)
            if answer.status_code != 302:
                self.refused.append(answer.json().get("error"))
                return
            target = answer.headers["Location"]
        self.landed.append(target)
        if not self.follow:
            return
        loopback = requests.Session()
        loopback.trust_env = False  # straight to 127.0.0.1, whatever proxy is configured
        loopback.get(target, timeout=10)


SNAPSHOT_TABLES = {
    "apollo_contacts": "SELECT id, email, email_key, email_status, contact_stage_id, "
                       "salesforce_id, updated_at FROM apollo_contacts ORDER BY id",
    "sf_records": "SELECT id, object, email, email_key, is_converted, converted_contact_id, "
                  "system_modstamp, is_deleted FROM sf_records ORDER BY id",
    "apollo_raw": "SELECT id, raw FROM apollo_raw ORDER BY id",
    "sf_raw": "SELECT id, raw FROM sf_raw ORDER BY id",
    "sf_email_history": "SELECT id, record_id, old_value, new_value, changed_at "
                        "FROM sf_email_history ORDER BY id",
    "observations": "SELECT side, record_id, email_key FROM observations "
                    "ORDER BY side, record_id, email_key",
}
STATE_KEYS = ("salesforce:Contact:watermark", "salesforce:Lead:watermark",
              "salesforce:ContactHistory:watermark", "salesforce:LeadHistory:watermark",
              "apollo:watermark", "apollo_stages", "apollo:full", "apollo:incremental",
              "salesforce:Contact:bulk", "salesforce:Lead:bulk")


def snapshot(cache: Cache) -> dict:
    """The records and pull state a cache holds (not the times it pulled them)."""
    out = {name: cache.conn.execute(sql).fetchall() for name, sql in SNAPSHOT_TABLES.items()}
    out["state"] = {key: cache.get_state(key) for key in STATE_KEYS}
    out["snapshot_complete"] = {s: (cache.get_state(f"{s}:snapshot") or {}).get("complete")
                                for s in ("salesforce", "apollo")}
    return out


# -- an Apollo workspace of any shape, loaded straight into the emulator's store ---------------

APOLLO_KEY = "apollo-test-key-0123456789"


def make_contacts(stages: list[tuple[str | None, int]], *, start_seconds: int = 1_700_000_000,
                  updated_like_created: bool = False, lists=None) -> list[dict]:
    """Wire-shaped contacts: ``stages`` lists ``(stage_id or None, how many)`` in creation
    order. ``updated_at`` is a shuffle of the creation order unless ``updated_like_created``.
    ``lists(number)``, if given, says which list ids contact ``number`` (0-based) is in."""
    import time as _time

    from core.sandbox.ids import apollo_id

    def stamp(seconds: int) -> str:
        return _time.strftime("%Y-%m-%dT%H:%M:%S.000Z", _time.gmtime(seconds))

    total = sum(n for _, n in stages)
    contacts = []
    number = 0
    for stage_id, count in stages:
        for _ in range(count):
            shuffled = number if updated_like_created else (number * 7919) % total
            contacts.append({
                "id": apollo_id(number + 1), "first_name": f"First{number}",
                "last_name": f"Last{number}", "name": f"First{number} Last{number}",
                "organization_name": f"Company {number % 97}",
                "email": f"person{number}@company{number % 97}.example",
                "email_status": "verified", "email_from_customer": False,
                "contact_stage_id": stage_id,
                "label_ids": list(lists(number)) if lists else [],
                "salesforce_id": None, "salesforce_lead_id": None, "salesforce_contact_id": None,
                "created_at": stamp(start_seconds + number),
                "updated_at": stamp(start_seconds + total + shuffled)})
            number += 1
    return contacts


class ApolloOnly:
    """One Apollo emulator over HTTPS with the given contacts; its clock runs in real time
    and moves on whenever the client "sleeps", so rate-limit windows pass instantly."""

    def __init__(self, tls_material, contacts: list[dict], *, limits=None, labels=(),
                 **app_options):
        from core.sandbox.apollo.api import start_apollo
        from core.sandbox.apollo.store import ApolloStore, default_stages
        from core.sandbox.clock import SandboxClock

        self.clock = SandboxClock()
        self.store = ApolloStore(clock=self.clock)
        self.stages = default_stages()
        self.store.load_stages(self.stages)
        self.store.load_labels(labels)
        self.store.load_contacts(contacts)
        self.server = start_apollo(self.store, tls_material, api_key=APOLLO_KEY,
                                   limits=dict(UNLIMITED) if limits is None else limits,
                                   **app_options)
        self.app = self.server.app
        self.ca_path = str(tls_material.ca_path)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds=max(0.0, seconds))

    def source(self, **options):
        from core.sources.apollo import ApolloSource

        options.setdefault("sleep", self.sleep)
        options.setdefault("monotonic", self.clock.timestamp)
        return ApolloSource(APOLLO_KEY, self.server.base_url, ca_path=self.ca_path, **options)

    def stage_id(self, name: str) -> str:
        return next(s["id"] for s in self.stages if s["name"] == name)

    def close(self) -> None:
        self.server.stop()
        self.store.close()
