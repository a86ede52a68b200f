"""`concord reconcile` and `concord runs` on a running sandbox, as a scheduled job would."""

import json

import pytest

from core import cli
from tests.sources.harness import sandbox, tls_dir  # noqa: F401


@pytest.fixture(scope="module")
def info_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    running = sandbox(600, 5, tls_dir=folder / "tls")
    path = folder / "sandbox.json"
    path.write_text(json.dumps(running.info()))
    yield path
    running.stop()


def test_reconcile_pulls_decides_and_says_what_needs_review(info_file, capsys):
    code = cli.main(["reconcile", "--sandbox-info", str(info_file), "--examples", "2"])
    out = capsys.readouterr().out
    assert code == 1, "pairs need review"
    assert "Salesforce (full): complete" in out and "Apollo (full): complete" in out
    assert "What Apollo's sync will do" in out and "need attention" in out
    code = cli.main(["reconcile", "--sandbox-info", str(info_file), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["needs_review"] > 0
    assert data["reconcile"]["full"] is False, "the second run is incremental"


def test_runs_lists_pulls_and_reconciliations_with_api_calls(info_file, capsys):
    cli.main(["reconcile", "--sandbox-info", str(info_file), "--examples", "0"])
    capsys.readouterr()
    cache = str(info_file) + ".cache.sqlite"
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


def test_a_sandbox_cache_takes_the_sandbox_settings(info_file):
    from core.store.cache import Cache
    from core.store.settings import load_settings

    cli.main(["reconcile", "--sandbox-info", str(info_file), "--no-pull", "--examples", "0"])
    with Cache(str(info_file) + ".cache.sqlite") as cache:
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
    Workspace("offline").create(Profile()).open_cache().close()
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        assert cli.main(["reconcile", "--workspace", "offline", "--no-pull",
                         "--examples", "0"]) == 0
    finally:
        keyring.set_keyring(previous)
    assert "keyring" not in capsys.readouterr().err.lower()
