"""Fixtures for the Salesforce emulator: a seeded store, the HTTPS server, real clients.

``sf`` is an unmodified simple-salesforce client over TLS (the sandbox CA trusted through
``session.verify``), ``sf_http`` a plain ``requests`` session for wire-level checks. The clock
is frozen and moves only when a test advances it, so timestamps are predictable.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
import requests

from core.sandbox import tls
from core.sandbox.clock import SandboxClock
from core.sandbox.ids import OTHER_USER, salesforce_id, to18
from core.sandbox.salesforce.app import client, http_session, start_salesforce
from core.sandbox.salesforce.store import SalesforceStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CREATED = "2026-01-05T00:00:00.000+0000"
MODIFIED = "2026-02-01T10:00:00.000+0000"
ACME = salesforce_id("Account", 1)
GLOBEX = salesforce_id("Account", 2)


def contact_id(n: int) -> str:
    return salesforce_id("Contact", n)


def lead_id(n: int) -> str:
    return salesforce_id("Lead", n)


def seed_rows() -> tuple[list[dict], list[dict]]:
    """Accounts and records every Salesforce test starts from.

    Contacts 1-6 (1-3 at Acme, 4 at Globex, 5-6 without an account; 6 has no email),
    Leads 1-3 (3 is converted into Contact 3).
    """
    accounts = [{"Id": ACME, "Name": "Acme", "Website": "acme.example"},
                {"Id": GLOBEX, "Name": "Globex", "Website": "globex.example"}]
    people = [("Ada", "Lovelace", "Ada@Acme.example", ACME),
              ("Grace", "Hopper", "grace@acme.example", ACME),
              ("Alan", "Turing", "alan@acme.example", ACME),
              ("Edsger", "Dijkstra", "edsger@globex.example", GLOBEX),
              (None, "Liskov", "barbara@liskov.example", None),
              ("Ken", "Thompson", None, None)]
    records = []
    for n, (first, last, email, account) in enumerate(people, 1):
        records.append({"attributes": {"type": "Contact"}, "Id": contact_id(n), "FirstName": first,
                        "LastName": last, "Email": email, "AccountId": account,
                        "CreatedDate": CREATED, "LastModifiedDate": MODIFIED,
                        "SystemModstamp": MODIFIED, "CreatedById": to18(OTHER_USER)})
    leads = [("Donald", "Knuth", "don@taocp.example", False),
             ("Frances", "Allen", "fran@ibm.example", False),
             ("Alan", "Turing", "alan@acme.example", True)]
    for n, (first, last, email, converted) in enumerate(leads, 1):
        records.append({"attributes": {"type": "Lead"}, "Id": lead_id(n), "FirstName": first,
                        "LastName": last, "Email": email, "Company": "Independent",
                        "IsConverted": converted,
                        "ConvertedContactId": contact_id(3) if converted else None,
                        "ConvertedAccountId": ACME if converted else None,
                        "ConvertedDate": "2026-01-20" if converted else None,
                        "CreatedDate": CREATED, "LastModifiedDate": MODIFIED,
                        "SystemModstamp": MODIFIED})
    return accounts, records


class LoopbackRewrite(requests.adapters.HTTPAdapter):
    """Sends requests for a real Salesforce host to the sandbox instead."""

    def __init__(self, target: str):
        self.target = target
        super().__init__()

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = self.target + request.url[len(f"{parts.scheme}://{parts.netloc}"):]
        return super().send(request, **kwargs)


@pytest.fixture(scope="session")
def sf_tls(tmp_path_factory):
    return tls.generate(tmp_path_factory.mktemp("salesforce-tls"))


@pytest.fixture
def sf_clock():
    return SandboxClock(START, frozen=True)


@pytest.fixture
def sf_store(sf_clock):
    store = SalesforceStore(clock=sf_clock)
    accounts, records = seed_rows()
    store.load_accounts(accounts)
    store.load_records(records)
    yield store
    store.close()


@pytest.fixture
def sf_server(sf_store, sf_tls):
    server = start_salesforce(sf_store, sf_tls)
    yield server
    server.stop()


@pytest.fixture
def sf_app(sf_server):
    return sf_server.app


@pytest.fixture
def sf_http(sf_tls):
    """A requests session trusting the sandbox CA (and ignoring REQUESTS_CA_BUNDLE)."""
    session = http_session(sf_tls.ca_path)
    yield session
    session.close()


@pytest.fixture
def sf(sf_server, sf_http):
    """simple-salesforce 1.12.10, unmodified, with a direct session on the sandbox."""
    return client(sf_server, session=sf_http)
