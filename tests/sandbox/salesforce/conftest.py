"""Fixtures for the Salesforce emulator: a seeded store, the HTTPS server, real clients.

``sf`` is an unmodified simple-salesforce client over TLS (the sandbox CA trusted through
``session.verify``), ``sf_http`` a plain ``requests`` session for wire-level checks. The clock
is frozen and moves only when a test advances it, so timestamps are predictable. The TLS
material is the session's (tests/conftest.py); the seeded org is in org.py.
"""

from __future__ import annotations

import pytest

from core.sandbox.clock import SandboxClock
from core.sandbox.salesforce.app import client, http_session, start_salesforce
from core.sandbox.salesforce.store import SalesforceStore
from tests.sandbox.salesforce.org import START, seed_rows


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
def sf_server(sf_store, tls_material):
    server = start_salesforce(sf_store, tls_material)
    yield server
    server.stop()


@pytest.fixture
def sf_app(sf_server):
    return sf_server.app


@pytest.fixture
def sf_http(tls_material):
    """A requests session trusting the sandbox CA (and ignoring REQUESTS_CA_BUNDLE)."""
    session = http_session(tls_material.ca_path)
    yield session
    session.close()


@pytest.fixture
def sf(sf_server, sf_http):
    """simple-salesforce 1.12.10, unmodified, with a direct session on the sandbox."""
    return client(sf_server, session=sf_http)
