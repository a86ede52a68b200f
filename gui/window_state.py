"""What the window remembers between sessions: the last workspace (no secrets, no data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.workspace import default_root


def _path() -> Path:
    return default_root().parent / "window.json"


def last_workspace() -> str | None:
    """The workspace the window had open last, if any."""
    try:
        return json.loads(_path().read_text(encoding="utf-8")).get("workspace")
    except (OSError, ValueError, AttributeError):
        return None


def remember_workspace(name: str) -> None:
    """Remember the workspace for the next start (written 0600)."""
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"workspace": name}, fh)
    os.replace(tmp, path)
