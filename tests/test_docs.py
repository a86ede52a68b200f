"""The README documents every command, option and exit code the CLI has, and nothing it lacks.

The exit-code table is checked against behaviour: every code the README lists for a command
is reached here by a situation a user meets, and no situation reaches a code it does not list.
"""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import cli
from core.cli import errors

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, object]:
    """Every command (``cache check``) and its parser."""
    found = {}

    def walk(parser, prefix):
        for action in parser._actions:
            if action.dest in ("command", "sandbox_command", "cache_command"):
                for name, sub in action.choices.items():
                    if not any(a.dest.endswith("_command") for a in sub._actions):
                        found[f"{prefix}{name}"] = sub
                    walk(sub, f"{prefix}{name} ")

    walk(cli.build_parser(), "")
    return found


def test_every_command_is_in_the_readme():
    documented = set(re.findall(r"`concord ([a-z-]+(?: [a-z-]+)?)", README))
    groups = {name.split()[0] for name in commands()}
    for name in commands():
        assert name in documented or name.split()[0] in documented, name
    assert {d.split()[0] for d in documented} <= groups, documented


def test_every_option_has_help():
    for name, parser in commands().items():
        for action in parser._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"concord {name} {action.option_strings[0]} has no help"


def test_demo_help_shows_text():
    assert "--text" in commands()["demo"].format_help()


def test_the_quick_start_is_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick.split("```", 2)[1]
    lines = [l.split("#")[0].strip() for l in block.splitlines()[1:] if l.strip()]
    assert lines == ["make demo", "make test"]


# -- exit codes --------------------------------------------------------------------------------

def readme_meanings() -> dict[int, str]:
    section = README.split("### Exit codes", 1)[1]
    return {int(code): meaning for code, meaning in
            re.findall(r"^\| (\d) \| (.+) \|$", section, re.M)}


def readme_codes() -> dict[str, set[int]]:
    section = README.split("### Exit codes", 1)[1]
    return {name: {int(c) for c in re.findall(r"\b\d\b", codes.split("(")[0])}
            for name, codes in re.findall(r"^\| `concord ([a-z ]+)` \| ([^|]+) \|$", section,
                                          re.M)}


def test_the_codes_table_matches_the_error_types():
    meanings = readme_meanings()
    assert set(meanings) == {errors.EXIT_OK, errors.EXIT_REVIEW, errors.EXIT_USAGE,
                             errors.EXIT_COULD_NOT_RUN}
    for error_type, word in ((errors.UsageError, "usage"), (errors.InputError, "input"),
                             (errors.FileProblem, "cache file"), (errors.RemoteProblem, "system"),
                             (errors.CouldNotRun, "keyring"), (errors.CutShort, "cancelled")):
        assert word in meanings[error_type.exit_code], (error_type.__name__, word)


def test_every_command_has_its_codes_listed():
    assert set(readme_codes()) == set(commands())


@pytest.fixture(scope="module")
def sandbox_info(tmp_path_factory):
    from tests.harness import sandbox_info_file

    with sandbox_info_file(tmp_path_factory.mktemp("docs"), 60, 4) as world:
        yield world


def _serve_until_ready_then_stop(tmp: Path) -> int:
    info = tmp / "served.json"
    child = subprocess.Popen([sys.executable, "-m", "core.cli", "sandbox", "serve",
                              "--records", "10", "--info-file", str(info)], cwd=ROOT,
                             stderr=subprocess.DEVNULL)
    for _ in range(600):
        if info.exists() or child.poll() is not None:
            break
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    return child.wait(timeout=60)


def _no_display(monkeypatch) -> int:
    from gui import launcher

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    return launcher.main(["demo"])


def _stopped_by_a_limit(world, tmp) -> int:
    running, info = world
    running.apollo_app.faults.add("rate_limit", window="day", count=1)
    try:
        return cli.main(["pull", "--sandbox-info", str(info), "--cache", str(tmp / "c.sqlite")])
    finally:
        running.apollo_app.faults.clear()


def _bad_info(world, tmp) -> Path:
    info = json.loads(world[1].read_text())
    bad = tmp / "bad.json"
    bad.write_text(json.dumps({**info, "salesforce": {**info["salesforce"],
                                                      "client_secret": "wrong"}}))
    return bad


def _bad_secret(world, tmp, command) -> int:
    return cli.main([command, "--sandbox-info", str(_bad_info(world, tmp))])


def _own_world(tmp: Path):
    """A sandbox of its own, for situations that write (the shared one stays as pulled)."""
    from tests.harness import sandbox_info_file

    return sandbox_info_file(tmp / "own", 60, 4)


def _reconciled(info: Path, tmp: Path) -> list[str]:
    target = ["--sandbox-info", str(info), "--cache", str(tmp / "w.sqlite")]
    cli.main(["reconcile", *target, "--examples", "0"])
    return target


def _last_salesforce_write(tmp: Path) -> tuple[int, str]:
    from core.store.cache import Cache

    with Cache(tmp / "w.sqlite") as cache:
        return cache.conn.execute(
            "SELECT run_id, record_id FROM journal WHERE system = 'salesforce' AND state = 'done' "
            "ORDER BY entry_id DESC LIMIT 1").fetchone()


def _edit(running, record: str, email: str) -> None:
    running.sf_store.external_edit("Lead" if record.startswith("00Q") else "Contact", record,
                                   {"Email": email})


def _undo(tmp: Path, *, edit_after: bool = False, bad_secret: bool = False) -> int:
    """Write back a fresh workspace's strong and medium pairs, then undo that run (after a
    person edits one written record, or with a refused sign-in)."""
    (tmp / "own").mkdir()
    with _own_world(tmp) as (running, info):
        target = _reconciled(info, tmp)
        cli.main(["apply", *target, "--only", "strong", "medium"])
        run_id, record = _last_salesforce_write(tmp)
        if edit_after:
            _edit(running, record, "edited.later@example.org")
        if bad_secret:
            target[1] = str(_bad_info((running, info), tmp))
        return cli.main(["undo", *target, str(run_id)])


def _apply(tmp: Path, *, edit_before: bool = False, bad_secret: bool = False) -> int:
    """Write back a fresh workspace's strong and medium pairs (after a person edits one
    planned record, or with a refused sign-in)."""
    (tmp / "own").mkdir()
    with _own_world(tmp) as (running, info):
        target = _reconciled(info, tmp)
        if edit_before:
            from core.store.cache import Cache
            from core.sync.plan import plan

            with Cache(tmp / "w.sqlite") as cache:
                write = next(w for w in plan(cache, strengths=("strong", "medium")).writes
                             if w.system == "salesforce")
            _edit(running, write.record_id, "edited.meanwhile@example.org")
        if bad_secret:
            target[1] = str(_bad_info((running, info), tmp))
        return cli.main(["apply", *target, "--only", "strong", "medium"])


def _garbage(tmp) -> str:
    path = tmp / "garbage.sqlite"
    path.write_bytes(b"not a cache" * 100)
    return str(path)


DESIGN_LINE = json.dumps({"id": "p", "apollo": {"email": "a@b.co"}, "salesforce": None})

# (command, code, situation, how): ``how(world, tmp, monkeypatch)`` returns the exit code.
SITUATIONS = [
    ("decide", 0, "a readable line", lambda w, t, m: cli.main(
        ["decide", "--input", str(_write(t / "in.jsonl", DESIGN_LINE))])),
    ("decide", 2, "a misspelled key", lambda w, t, m: cli.main(
        ["decide", "--input", str(_write(t / "in.jsonl", '{"apolo": {}}'))])),
    ("demo", 0, "a printed summary", lambda w, t, m: cli.main(
        ["demo", "--text", "--records", "30", "--examples", "0"])),
    ("demo", 2, "no records", lambda w, t, m: cli.main(["demo", "--text", "--records", "0"])),
    ("demo", 3, "no display", lambda w, t, m: _no_display(m)),
    ("pull", 0, "a complete pull", lambda w, t, m: cli.main(
        ["pull", "--sandbox-info", str(w[1]), "--cache", str(t / "c.sqlite")])),
    ("pull", 1, "an API limit reached", lambda w, t, m: _stopped_by_a_limit(w, t)),
    ("pull", 2, "no such info file", lambda w, t, m: cli.main(
        ["pull", "--sandbox-info", str(t / "none.json")])),
    ("pull", 3, "sign-in refused", lambda w, t, m: _bad_secret(w, t, "pull")),
    ("reconcile", 0, "nothing to review", lambda w, t, m: cli.main(
        ["reconcile", "--cache", str(_empty_cache(t)), "--no-pull"])),
    ("reconcile", 1, "pairs to review", lambda w, t, m: cli.main(
        ["reconcile", "--sandbox-info", str(w[1]), "--cache", str(t / "c.sqlite")])),
    ("reconcile", 2, "--cache alone without --no-pull", lambda w, t, m: cli.main(
        ["reconcile", "--cache", str(t / "c.sqlite")])),
    ("reconcile", 3, "sign-in refused", lambda w, t, m: _bad_secret(w, t, "reconcile")),
    ("apply", 0, "a dry run", lambda w, t, m: cli.main(
        ["apply", "--sandbox-info", str(w[1]), "--cache", str(t / "c.sqlite"), "--dry-run"])),
    ("apply", 1, "a record edited since the pull", lambda w, t, m: _apply(t, edit_before=True)),
    ("apply", 2, "no such info file", lambda w, t, m: cli.main(
        ["apply", "--sandbox-info", str(t / "none.json")])),
    ("apply", 3, "sign-in refused", lambda w, t, m: _apply(t, bad_secret=True)),
    ("undo", 0, "a run nobody touched since", lambda w, t, m: _undo(t)),
    ("undo", 1, "a record edited since the run", lambda w, t, m: _undo(t, edit_after=True)),
    ("undo", 2, "no such run", lambda w, t, m: cli.main(
        ["undo", "--sandbox-info", str(w[1]), "--cache", str(_empty_cache(t)), "9999"])),
    ("undo", 3, "sign-in refused", lambda w, t, m: _undo(t, bad_secret=True)),
    ("report", 0, "a cache's pairs", lambda w, t, m: cli.main(
        ["report", "--cache", str(_empty_cache(t)), "--out", str(t / "r.csv")])),
    ("report", 2, "a workbook to standard output", lambda w, t, m: cli.main(
        ["report", "--cache", str(_empty_cache(t)), "--out", "-", "--format", "xlsx"])),
    ("report", 3, "no cache there", lambda w, t, m: cli.main(
        ["report", "--cache", str(t / "none.sqlite"), "--out", str(t / "r.csv")])),
    ("runs", 0, "a cache", lambda w, t, m: cli.main(["runs", "--cache", str(_empty_cache(t))])),
    ("runs", 2, "--limit 0", lambda w, t, m: cli.main(
        ["runs", "--cache", str(_empty_cache(t)), "--limit", "0"])),
    ("runs", 3, "a garbage file", lambda w, t, m: cli.main(["runs", "--cache", _garbage(t)])),
    ("sandbox serve", 0, "served, then Ctrl-C", lambda w, t, m: _serve_until_ready_then_stop(t)),
    ("sandbox serve", 2, "no records", lambda w, t, m: cli.main(
        ["sandbox", "serve", "--records", "0", "--info-file", str(t / "s.json")])),
    ("sandbox serve", 3, "an info file that cannot be written", lambda w, t, m: cli.main(
        ["sandbox", "serve", "--records", "5", "--info-file", "/proc/self/concord.json"])),
    ("cache check", 0, "a sound cache", lambda w, t, m: cli.main(
        ["cache", "check", "--path", str(_empty_cache(t))])),
    ("cache check", 2, "no --path", lambda w, t, m: cli.main(["cache", "check"])),
    ("cache check", 3, "a garbage file", lambda w, t, m: cli.main(
        ["cache", "check", "--path", _garbage(t)])),
    ("cache quarantine", 0, "a garbage file", lambda w, t, m: cli.main(
        ["cache", "quarantine", "--path", _garbage(t)])),
    ("cache quarantine", 2, "no --path", lambda w, t, m: cli.main(["cache", "quarantine"])),
    ("cache quarantine", 3, "a sound cache", lambda w, t, m: cli.main(
        ["cache", "quarantine", "--path", str(_empty_cache(t))])),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    return path


def _empty_cache(tmp: Path) -> Path:
    from core.store.cache import Cache

    path = tmp / "empty.sqlite"
    if not path.exists():
        Cache(path).close()
    return path


@pytest.mark.parametrize("command, code, situation, how", SITUATIONS,
                         ids=[f"{c}-{n}-{s}" for c, n, s, _ in SITUATIONS])
def test_each_documented_exit_code_is_what_the_command_gives(sandbox_info, tmp_path, monkeypatch,
                                                             capsys, command, code, situation,
                                                             how):
    assert code in readme_codes()[command], f"the README does not list {code} for {command}"
    assert how(sandbox_info, tmp_path, monkeypatch) == code, capsys.readouterr()


def test_every_listed_code_has_a_situation():
    reached = {}
    for command, code, _, _ in SITUATIONS:
        reached.setdefault(command, set()).add(code)
    assert reached == readme_codes()
