"""`concord reconcile` and `concord runs` on a running sandbox, as a scheduled job would."""

import json

import pytest

from core import cli
from tests.harness import sandbox, sandbox_info_file


@pytest.fixture(scope="module")
def info_file(tmp_path_factory):
    with sandbox_info_file(tmp_path_factory.mktemp("cli"), 600, 5) as (_, path):
        yield path


def test_reconcile_pulls_decides_and_says_what_needs_review(info_file, tmp_path, capsys):
    target = ["--sandbox-info", str(info_file), "--cache", str(tmp_path / "cache.sqlite")]
    code = cli.main(["reconcile", *target, "--examples", "2"])
    out = capsys.readouterr().out
    assert code == 1, "pairs need review"
    assert "Salesforce (full): complete" in out and "Apollo (full): complete" in out
    assert "What Apollo's sync will do" in out and "need attention" in out
    code = cli.main(["reconcile", *target, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["needs_review"] > 0
    assert data["reconcile"]["full"] is False, "the second run is incremental"


def test_runs_lists_pulls_and_reconciliations_with_api_calls(info_file, tmp_path, capsys):
    cache = str(tmp_path / "cache.sqlite")
    cli.main(["reconcile", "--sandbox-info", str(info_file), "--cache", cache, "--examples", "0"])
    capsys.readouterr()
    assert cli.main(["runs", "--cache", cache, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    kinds = {r["kind"] for r in runs}
    assert {"pull", "reconcile"} <= kinds
    pull = next(r for r in runs if r["kind"] == "pull")
    assert set(pull["api_calls"]) == {"salesforce", "apollo"}
    assert cli.main(["runs", "--cache", cache]) == 0
    text = capsys.readouterr().out
    assert "API calls: Salesforce" in text and "records received" in text
    assert " UTC " in text or "+" in text, "times carry their zone"


def test_a_sandbox_cache_takes_the_sandbox_settings(info_file, tmp_path):
    from core.store.cache import Cache
    from core.store.settings import load_settings

    cache = str(tmp_path / "cache.sqlite")
    cli.main(["pull", "--sandbox-info", str(info_file), "--cache", cache])
    with Cache(cache) as cache:
        settings = load_settings(cache)
    assert settings.apollo_user_ids and settings.create_stages == ("Interested",)


@pytest.mark.parametrize("argv", [
    ["reconcile", "--sandbox-info", "/nonexistent.json"],
    ["runs", "--workspace", "nobody-here"],
    ["sandbox", "serve", "--info-file", "/tmp/x.json", "--apollo-limits", "lots"],
])
def test_bad_usage_exits_2_with_a_message(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CONCORD_HOME", str(tmp_path))
    assert cli.main(argv) == 2
    assert "concord" in capsys.readouterr().err


def test_a_damaged_cache_is_reported_not_traced(tmp_path, capsys):
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"not a database at all" * 50)
    assert cli.main(["runs", "--cache", str(bad)]) == 3
    err = capsys.readouterr().err
    assert str(bad) in err and "Traceback" not in err


def test_reconcile_without_a_pull_needs_no_keyring(tmp_path, monkeypatch, capsys):
    """Deciding on what the cache holds reads no secret, so an unusable keyring is no matter."""
    import keyring
    import keyring.backends.fail

    from core.workspace import Profile, Workspace

    monkeypatch.setenv("CONCORD_HOME", str(tmp_path))
    from core.store.cache import Cache

    Cache(Workspace("offline").create(Profile()).cache_path).close()
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        assert cli.main(["reconcile", "--workspace", "offline", "--no-pull",
                         "--examples", "0"]) == 0
    finally:
        keyring.set_keyring(previous)
    assert "keyring" not in capsys.readouterr().err.lower()


# -- a reconcile that cannot pull says why and reconciles nothing ------------------------------

def _runs(cache: str) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(cache)
    try:
        return conn.execute("SELECT kind, status FROM runs ORDER BY run_id").fetchall()
    finally:
        conn.close()


def test_a_failed_pull_stops_the_reconcile_and_the_json_carries_it(info_file, tmp_path, capsys):
    info = json.loads(info_file.read_text())
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps({**info, "salesforce": {**info["salesforce"],
                                                          "client_secret": "not-the-secret"}}))
    assert cli.main(["reconcile", "--sandbox-info", str(refused), "--json"]) == 3
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["cause"] == "remote" and "nothing was reconciled" in data["error"]
    assert data["pull"]["salesforce"]["status"] == "failed"
    assert "reconcile" not in data and "not-the-secret" not in out
    assert [kind for kind, _ in _runs(str(refused) + ".cache.sqlite")] == ["pull"]
    assert cli.main(["reconcile", "--sandbox-info", str(refused)]) == 3
    captured = capsys.readouterr()
    assert "What Apollo's sync will do" not in captured.out
    assert captured.err.startswith("concord reconcile: The pull failed, so nothing was reconciled")


def test_a_stopped_sandbox_is_named_with_how_to_start_it(tmp_path, capsys):
    running = sandbox(50, 2, tls_dir=tmp_path / "tls")
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(running.info()))
    running.stop()
    for command in ("pull", "reconcile"):
        assert cli.main([command, "--sandbox-info", str(path)]) == 3
        err = capsys.readouterr().err.strip()
        assert "is not running" in err and f"concord sandbox serve --info-file {path}" in err
        assert len(err.splitlines()) == 1 and "Error" not in err
    assert not (tmp_path / "sandbox.json.cache.sqlite").exists(), "nothing was opened"


def test_no_pull_works_from_the_cache_alone_once_the_sandbox_is_gone(info_file, tmp_path,
                                                                      capsys):
    cache = tmp_path / "kept.sqlite"
    assert cli.main(["pull", "--sandbox-info", str(info_file), "--cache", str(cache)]) == 0
    capsys.readouterr()
    assert cli.main(["reconcile", "--cache", str(cache), "--no-pull", "--examples", "0"]) == 1
    assert "need attention" in capsys.readouterr().out
    assert cli.main(["reconcile", "--cache", str(cache)]) == 2
    assert "add --no-pull" in capsys.readouterr().err


def test_ctrl_c_during_reconcile_is_a_cancel_recorded_as_such(info_file, tmp_path, capsys,
                                                               monkeypatch):
    from core.sync import reconcile as workflow

    cache = tmp_path / "cancelled.sqlite"
    assert cli.main(["pull", "--sandbox-info", str(info_file), "--cache", str(cache)]) == 0

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(workflow.matching, "match", interrupted)
    capsys.readouterr()
    assert cli.main(["reconcile", "--cache", str(cache), "--no-pull"]) == 1
    assert "cancelled" in capsys.readouterr().err
    assert _runs(str(cache))[-1] == ("reconcile", "cancelled")


MALFORMED_INFO = [
    ("not JSON", "sandbox ready", "is not JSON"),
    ("a list", "[]", "is not a sandbox info file"),
    ("sections that are lists", '{"salesforce": [], "apollo": {}}', "is not a sandbox info file"),
    ("empty sections", '{"salesforce": {}, "apollo": {}}', "no usable salesforce.instance_url"),
    ("a number for a URL", '{"salesforce": {"instance_url": 5}, "apollo": {}}',
     "no usable salesforce.instance_url"),
]


@pytest.mark.parametrize("situation, body, says", MALFORMED_INFO, ids=[m[0] for m in MALFORMED_INFO])
@pytest.mark.parametrize("command", ["pull", "reconcile"])
def test_a_malformed_info_file_is_one_plain_line(tmp_path, capsys, situation, body, says, command):
    path = tmp_path / "sandbox.json"
    path.write_text(body)
    assert cli.main([command, "--sandbox-info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and str(path) in err and "\n" not in err
    assert "Error" not in err and "Traceback" not in err


def _pulled(**apollo) -> "PullSummary":
    from core.sync.pull_state import PullSummary, SystemResult

    summary = PullSummary(7, "2026-12-04T10:00:00.000Z")
    summary.apollo = SystemResult("apollo", status="complete", mode="full", **apollo)
    return summary


@pytest.mark.parametrize("situation, apollo, says, never", [
    ("a first pull where the search repeated contacts",
     dict(fetched=2038, inserted=1938, unchanged=100, api_calls=22,
          details={"apollo_full": {"reached": 1938}}),
     "2,038 records received (1,938 distinct: 100 came twice or more", "unchanged"),
    ("a later full pull of the same contacts",
     dict(fetched=2038, unchanged=2038, api_calls=22, details={"apollo_full": {"reached": 1938}}),
     "(1,938 distinct: 100 came twice", "2,038 unchanged"),
    ("one record, one call", dict(fetched=1, updated=1, api_calls=1, email_changes=1),
     "1 record received, 0 new, 1 changed (1 email change); 1 API call.", "1 records"),
], ids=lambda v: v if isinstance(v, str) and " " in v else None)
def test_pull_counts_say_what_each_number_is(situation, apollo, says, never):
    from core.cli.pull import describe

    text = describe(_pulled(**apollo), [])
    assert says in text and never not in text, text


def test_runs_of_a_cache_older_than_run_history_says_so_and_changes_nothing(tmp_path, capsys):
    import sqlite3

    from core.store.cache import migrate

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    migrate(conn, target=1)
    conn.close()
    before = path.read_bytes()
    assert cli.main(["runs", "--cache", str(path)]) == 3
    err = capsys.readouterr().err
    assert "older Concord" in err and "no such table" not in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv, cause, code", [
    (["runs", "--cache", "FOLDER", "--json"], "file", 3),
    (["runs", "--cache", "FOLDER", "--limit", "0", "--json"], "usage", 2),
    (["pull", "--json"], "usage", 2),
    (["reconcile", "--sandbox-info", "FOLDER/none.json", "--json"], "input", 2),
], ids=["a folder as cache", "a bad limit", "no target", "no info file"])
def test_json_failures_are_json(tmp_path, capsys, argv, cause, code):
    argv = [a.replace("FOLDER", str(tmp_path)) for a in argv]
    assert cli.main(argv) == code
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["cause"] == cause and data["exit_code"] == code and data["error"]
    assert captured.err == ""


def test_a_known_secret_quoted_by_an_error_is_masked(tmp_path, capsys, monkeypatch):
    from core.credentials import remember_for_redaction

    secret = "CANARYsecretInAnErrorMessage123"
    remember_for_redaction(secret)
    monkeypatch.setenv("CONCORD_HOME", str(tmp_path))
    for argv in (["runs", "--workspace", secret], ["runs", "--workspace", secret, "--json"]):
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        assert secret not in captured.out + captured.err
        assert "[redacted]" in captured.out + captured.err


@pytest.mark.parametrize("group, lists", [("cache", "quarantine"), ("sandbox", "serve")])
def test_a_command_group_alone_shows_its_own_commands(capsys, group, lists):
    assert cli.main([group]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: concord {group}") and lists in err and "reconcile" not in err
