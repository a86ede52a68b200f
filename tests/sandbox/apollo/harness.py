"""Shared set-up for the Apollo emulator tests: real HTTPS servers and a real requests client.
The fixtures built on it are in conftest.py."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import requests

from core.sandbox.apollo.api import start_apollo
from core.sandbox.apollo.store import ApolloStore, default_stages
from core.sandbox.clock import SandboxClock
from core.sandbox.ids import apollo_id
from core.sandbox.server import admin_headers

API_KEY = "sandbox-apollo-key"
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
        "Perlman", "Berners-Lee")
COMPANIES = (("Analytical Engines", "engines.example"), ("Cobol Works", "cobol.example"),
             ("Bletchley Labs", "bletchley.example"), ("Shortest Path", "paths.example"))
LABEL_ID = apollo_id(1, 0x4)


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))


def sample_contacts(n: int, *, stages: list[dict] | None = None, start: datetime = START) -> list[dict]:
    """``n`` wire-shaped contacts with distinct created/updated orders (updated is a shuffle)."""
    stage_ids = [s["id"] for s in (stages or default_stages())[:3]]
    start_s = int(start.timestamp())
    owner = apollo_id(1, 0x3)
    rows = []
    for i in range(n):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        company, domain = COMPANIES[i % len(COMPANIES)]
        email = f"{first.lower()}.{last.lower()}{i}@{domain}"
        rows.append({
            "id": apollo_id(i + 1), "first_name": first, "last_name": last,
            "name": f"{first} {last}", "title": "CTO" if i % 10 == 0 else "Engineer",
            "organization_name": company, "email": email, "email_status": "verified",
            "email_true_status": "Verified", "email_from_customer": False,
            "contact_emails": [{"email": email, "position": 0, "email_status": "verified",
                                "source": "Apollo"}],
            "contact_stage_id": stage_ids[i % 3],
            "label_ids": [LABEL_ID] if i % 5 == 0 else [],
            "owner_id": owner, "source": "search",
            "salesforce_id": None, "salesforce_lead_id": None, "salesforce_contact_id": None,
            "salesforce_account_id": None, "crm_record_url": None,
            "created_at": _iso(start_s - 60 * (n - i)),
            "updated_at": _iso(start_s - (i * 7919) % (n * 7 + 1)),
        })
    return rows


class ApolloHarness:
    """One Apollo emulator on real HTTPS, with a client session that trusts its CA."""

    def __init__(self, material, contacts=(), *, clock=None, stages=None, **app_options):
        self.clock = clock or SandboxClock(START, frozen=True)
        self.store = ApolloStore(clock=self.clock)
        self.store.load_stages(stages or default_stages())
        self.store.load_labels([{"id": LABEL_ID, "name": "Conference"}])
        self.store.load_contacts(contacts)
        app_options.setdefault("api_key", API_KEY)
        self.server = start_apollo(self.store, material, **app_options)
        self.app = self.server.app
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.session.verify = str(material.ca_path)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def request(self, method: str, path: str, *, key: str | None = API_KEY, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if key is not None:
            headers["x-api-key"] = key
        return self.session.request(method, self.base_url + path, headers=headers, timeout=10,
                                    **kwargs)

    def search(self, body: dict | None = None, **kwargs):
        return self.request("POST", "/api/v1/contacts/search", json=body or {}, **kwargs)

    def admin(self, method: str, path: str, body=None):
        return self.session.request(method, self.base_url + path, json=body, timeout=10,
                                    headers=admin_headers(self.server.admin_token))

    def close(self) -> None:
        self.session.close()
        self.server.stop()
        self.store.close()
