"""Workspace settings: Apollo's push/pull settings mirrored, and Concord's policy.

Stored in the cache's ``settings`` table as JSON values, one key per field, so a newer
Concord can add a setting without a migration and an older one ignores what it does not know.
"""

from __future__ import annotations

import dataclasses
import json

from core.model import CreatePolicy, Preset, Settings, Strength

_ENUMS = {"create_policy": CreatePolicy, "preset": Preset, "auto_apply": Strength}
CREATE_AS = ("Lead", "Contact")


def settings_to_dict(settings: Settings) -> dict:
    """A JSON-able dict of every setting."""
    out = {}
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "value"):
            value = value.value
        out[f.name] = value
    return out


def settings_from_dict(values: dict, where: str = "setting ") -> Settings:
    """Settings from a dict; unknown keys are ignored, a bad value raises ValueError naming
    it as ``{where}{name}``."""
    kwargs = {}
    for f in dataclasses.fields(Settings):
        if f.name not in values:
            continue
        value, name = values[f.name], f"{where}{f.name}"
        if f.name in _ENUMS:
            try:
                value = _ENUMS[f.name](value)
            except ValueError:
                choices = ", ".join(e.value for e in _ENUMS[f.name])
                raise ValueError(f"{name} must be one of {choices}, got {value!r}") from None
        elif isinstance(f.default, tuple):
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a list of strings, got {value!r}")
            value = tuple(value)
        elif isinstance(f.default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
        elif isinstance(f.default, int):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a whole number above 0, got {value!r}")
        elif f.name == "create_as" and value not in CREATE_AS:
            raise ValueError(f"{name} must be 'Lead' or 'Contact', got {value!r}")
        kwargs[f.name] = value
    return Settings(**kwargs)


def save_settings(cache, settings: Settings) -> None:
    """Store settings in the cache (call inside a transaction to commit with other changes)."""
    cache.conn.executemany(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(k, json.dumps(v)) for k, v in settings_to_dict(settings).items()])


def load_settings(cache) -> Settings:
    """The workspace's settings, defaults for anything never set."""
    rows = cache.conn.execute("SELECT key, value FROM settings").fetchall()
    return settings_from_dict({k: json.loads(v) for k, v in rows})
