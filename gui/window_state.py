"""What the window remembers between sessions: the last workspace, its geometry and where the
user put the splitter (no secrets, no data)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from core.workspace import default_root


def _path() -> Path:
    return default_root().parent / "window.json"


def _load() -> dict:
    try:
        state = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _save(**fields) -> None:
    """Merge ``fields`` into the file (written 0600, replaced atomically)."""
    state = _load() | fields
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    os.replace(tmp, path)


def last_workspace() -> str | None:
    """The workspace the window had open last, if any."""
    name = _load().get("workspace")
    return name if isinstance(name, str) else None


def remember_workspace(name: str) -> None:
    """Remember the workspace for the next start."""
    _save(workspace=name)


def layout() -> tuple[bytes | None, bytes | None]:
    """The window's saved geometry and splitter state (Qt's own encodings), if any."""
    state = _load()

    def decode(key):
        try:
            return base64.b64decode(state[key]) if state.get(key) else None
        except (TypeError, ValueError):
            return None
    return decode("geometry"), decode("splitter")


def remember_layout(geometry: bytes, splitter: bytes) -> None:
    """Remember the window's geometry and splitter state for the next start."""
    _save(geometry=base64.b64encode(geometry).decode("ascii"),
          splitter=base64.b64encode(splitter).decode("ascii"))


def theme() -> str:
    """The theme the user chose: ``system`` (the default), ``light`` or ``dark``."""
    choice = _load().get("theme")
    return choice if choice in ("system", "light", "dark") else "system"


def remember_theme(choice: str) -> None:
    _save(theme=choice)
