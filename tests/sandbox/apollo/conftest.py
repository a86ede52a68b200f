"""Fixtures for the Apollo emulator: a small workspace on real HTTPS (the TLS material is the
session's, tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.sandbox.apollo.harness import ApolloHarness, sample_contacts


@pytest.fixture
def apollo(tls_material):
    """A small Apollo workspace (40 contacts) with generous limits and a frozen clock."""
    harness = ApolloHarness(tls_material, sample_contacts(40),
                            limits={"minute": 10_000, "hour": 10_000, "day": 100_000})
    yield harness
    harness.close()
