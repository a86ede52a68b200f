"""``concord sandbox serve``: bad options are one line and exit 2; stopping leaves no secret."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("situation, info, argv, says", [
    ("no records", "s.json", ["--records", "0"], "--records must be at least 1"),
    ("limits that are not limits", "s.json", ["--apollo-limits", "lots"], "--apollo-limits"),
    ("a file where the folder should be", "notes.txt/s.json", [], "is a file, not a folder"),
], ids=lambda v: v if isinstance(v, str) and " " in v else None)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, situation, info, argv, says):
    (tmp_path / "notes.txt").write_text("notes")
    assert cli.main(["sandbox", "serve", "--info-file", str(tmp_path / info), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("concord sandbox serve:") and says in err and "\n" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_info_file_that_is_a_folder_is_refused_and_nothing_is_left_beside_it(tmp_path,
                                                                              capsys):
    folder = tmp_path / "info"
    folder.mkdir()
    assert cli.main(["sandbox", "serve", "--records", "5", "--info-file", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["info"] and not any(folder.iterdir())


def test_an_existing_file_that_is_not_an_info_file_is_never_overwritten(tmp_path, capsys):
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}')
    assert cli.main(["sandbox", "serve", "--records", "5", "--info-file", str(notes)]) == 2
    assert "is not a sandbox info file" in capsys.readouterr().err
    assert notes.read_text() == '{"my": "notes"}'


def test_stopping_the_sandbox_removes_its_info_file_and_tls_key(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    info = tmp_path / "sandbox.json"
    child = subprocess.Popen([sys.executable, "-m", "core.cli", "sandbox", "serve", "--records",
                              "20", "--info-file", str(info)], cwd=ROOT,
                             env={**os.environ, "TMPDIR": str(temp)},
                             stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # the sandbox writes its info file once it answers
            if info.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert info.exists(), child.stderr.read() if child.poll() is not None else "not ready"
        assert any(p.name.startswith("concord-tls-") for p in temp.iterdir())
    finally:
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=60)
    assert code == 0
    assert not info.exists()
    assert list(temp.iterdir()) == [], "the TLS key was left behind"
