"""Shared test set-up: Qt offscreen, an in-memory keyring, no network."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
