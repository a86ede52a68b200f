"""Every command that opens a cache, against every way a user's cache file can be wrong.

Each row is a fault a sales-ops user meets (a typo in --cache, a copied or cut-off file, a
read-only share, a full disk, another org's cache) and the exit code each command gives.
Whatever the fault: no traceback, one or two lines naming the problem, and the file exactly
as it was unless the command exists to change it (a pull builds a missing cache;
quarantine moves a damaged one, keeping every byte).

Read-only files and folders: the tests run as root, which ignores permission bits, so the
command runs in its own mount namespace (``unshare -m``) with the file or folder bind-mounted
read-only; the rows are skipped where that is not allowed. A full disk is ``RLIMIT_FSIZE``
in the command's process (with SIGXFSZ ignored, so a write fails as on a full disk).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core import cli
from tests.harness import sandbox_info_file

ROOT = Path(__file__).resolve().parents[2]

# command: argv for a cache at PATH (INFO: a running sandbox's info file)
COMMANDS = {
    "pull": ["pull", "--sandbox-info", "INFO", "--cache", "PATH"],
    "reconcile": ["reconcile", "--sandbox-info", "INFO", "--cache", "PATH", "--examples", "0"],
    "reconcile --no-pull": ["reconcile", "--cache", "PATH", "--no-pull", "--examples", "0"],
    "runs": ["runs", "--cache", "PATH"],
    "cache check": ["cache", "check", "--path", "PATH"],
    "cache quarantine": ["cache", "quarantine", "--path", "PATH"],
}

# fault            pull reconcile no-pull runs check quarantine
FAULTS = [
    ("missing",          0, 1, 3, 3, 3, 3),
    ("a folder",         3, 3, 3, 3, 3, 3),
    ("a socket",         3, 3, 3, 3, 3, 3),
    ("zero bytes",       0, 1, 3, 3, 3, 0),
    ("cut short",        3, 3, 3, 3, 3, 0),
    ("garbage",          3, 3, 3, 3, 3, 0),
    ("another org's",    3, 3, 1, 0, 0, 3),
    ("read-only file",   3, 3, 3, 0, 0, 3),
    ("read-only folder", 3, 3, 3, 0, 0, 3),
    ("new in a read-only folder", 3, 3, 3, 3, 3, 3),
    ("garbage in a read-only folder", 3, 3, 3, 3, 3, 3),
    ("disk full",        3, 3, 3, 0, 0, 3),
]
CASES = [(fault, command, codes[i]) for fault, *codes in FAULTS
         for i, command in enumerate(COMMANDS)]
# Where the command's purpose is to build or write the file, it may change it.
BUILDS = {("missing", "pull"), ("missing", "reconcile"), ("zero bytes", "pull"),
          ("zero bytes", "reconcile"), ("another org's", "reconcile --no-pull")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A running sandbox, its info file, and a sound cache pulled and reconciled from it."""
    folder = tmp_path_factory.mktemp("faults")
    with sandbox_info_file(folder, 300, 11) as (_, info):
        template = folder / "template.sqlite"
        assert cli.main(["reconcile", "--sandbox-info", str(info), "--cache", str(template),
                         "--examples", "0"]) in (0, 1)
        assert not Path(f"{template}-wal").exists()
        yield info, template


def _prepare(fault: str, folder: Path, template: Path) -> Path:
    """The cache file (inside its own folder) as the fault leaves it."""
    folder.mkdir()
    path = folder / "cache.sqlite"
    if fault in ("missing", "new in a read-only folder"):
        return path
    if fault == "a folder":
        path.mkdir()
        return path
    if fault == "a socket":  # a special file: opening it for reading fails at once
        with socket.socket(socket.AF_UNIX) as bound:
            bound.bind(str(path))
        return path
    if fault == "zero bytes":
        path.write_bytes(b"")
        return path
    shutil.copyfile(template, path)
    if fault == "cut short":
        with open(path, "r+b") as fh:
            fh.truncate(path.stat().st_size // 2)
    elif fault in ("garbage", "garbage in a read-only folder"):
        path.write_bytes(os.urandom(4096) * 4)
    elif fault == "another org's":
        conn = sqlite3.connect(path)
        conn.execute("UPDATE sync_state SET value = ? WHERE key = 'origin_salesforce'",
                     (json.dumps("00D000000OTHERS"),))
        assert conn.total_changes == 1, "the template records its Salesforce org"
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        for side in ("-wal", "-shm"):
            Path(f"{path}{side}").unlink(missing_ok=True)
    return path


def _snapshot(path: Path):
    if path.is_dir():
        return "folder", sorted(p.name for p in path.iterdir())
    if path.is_socket():
        return "socket", path.stat().st_ino
    return path.read_bytes() if path.exists() else None


def _read_only_supported() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            "mount --bind / / 2>/dev/null && mount -o remount,bind,ro / / "
                            "2>/dev/null"], capture_output=True)
    return probe.returncode == 0


def _disk_full() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def _run(fault: str, argv: list[str], path: Path, capsys) -> tuple[int, str, str]:
    """Run the command: in this process, or in a child where the fault needs one."""
    if "read-only" not in fault and fault != "disk full":
        code = cli.main(argv)
        out, err = capsys.readouterr()
        return code, out, err
    command = [sys.executable, "-m", "core.cli", *argv]
    preexec = None
    if fault == "disk full":
        preexec = _disk_full
    else:
        if not _read_only_supported():
            pytest.skip("no mount namespace here to make a read-only file or folder")
        target = str(path if fault == "read-only file" else path.parent)
        command = ["unshare", "-m", "sh", "-c",
                   'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"',
                   target, *command]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=preexec, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("fault, command, code", CASES,
                         ids=[f"{f}-{c}" for f, c, _ in CASES])
def test_a_faulty_cache_gets_a_message_the_documented_code_and_stays_as_it_was(
        world, tmp_path, capsys, fault, command, code):
    info, template = world
    path = _prepare(fault, tmp_path / "workspace", template)
    before = _snapshot(path)
    argv = [str(info) if a == "INFO" else str(path) if a == "PATH" else a
            for a in COMMANDS[command]]

    got, out, err = _run(fault, argv, path, capsys)

    assert "Traceback" not in err + out
    assert got == code, (got, out, err)
    if code == 3:
        lines = [line for line in err.splitlines() if line.strip()]
        assert 1 <= len(lines) <= 2, err
        assert lines[0].startswith(f"concord {command.split(' --')[0]}:"), err
    if (fault, command) in BUILDS:
        return
    if command == "cache quarantine" and got == 0:
        moved = next(tmp_path.joinpath("workspace").glob("cache.sqlite.damaged-*"))
        assert not path.exists() and _snapshot(moved) == before
        return
    assert _snapshot(path) == before, "the file changed"
    leftovers = {p.name for p in path.parent.iterdir()} - {"cache.sqlite"}
    if fault == "disk full" and got == 3:  # SQLite could not write even its log to the end
        leftovers -= {"cache.sqlite-wal", "cache.sqlite-shm"}
    assert not leftovers, leftovers
