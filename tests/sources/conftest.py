"""Fixtures of :mod:`tests.sources.harness` for every test in this package."""

from tests.sources.harness import cache, memory_keyring, small_sandbox, tls_dir, tls_material  # noqa: F401
