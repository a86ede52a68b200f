"""`concord reconcile` and `concord runs` on a running sandbox, as a scheduled job would."""

import json

import pytest

from core import cli
from tests.harness import sandbox


@pytest.fixture(scope="module")
def info_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    running = sandbox(600, 5, tls_dir=folder / "tls")
    path = folder / "sandbox.json"
    path.write_text(json.dumps(running.info()))
    yield path
    running.stop()


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
    assert "API calls: salesforce" in capsys.readouterr().out


def test_a_sandbox_cache_takes_the_sandbox_settings(info_file, tmp_path):
    from core.store.cache import Cache
    from core.store.settings import load_settings

    cache = str(tmp_path / "cache.sqlite")
    cli.main(["reconcile", "--sandbox-info", str(info_file), "--cache", cache, "--no-pull",
              "--examples", "0"])
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
    Workspace("offline").create(Profile())
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        assert cli.main(["reconcile", "--workspace", "offline", "--no-pull",
                         "--examples", "0"]) == 0
    finally:
        keyring.set_keyring(previous)
    assert "keyring" not in capsys.readouterr().err.lower()
