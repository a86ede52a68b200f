"""Shared test set-up: Qt offscreen. Tests that touch secrets use an in-memory keyring fixture
(``tests/sources/harness.py``, ``tests/gui/conftest.py``); none reaches a real keyring."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
