"""`concord apply`, `concord undo` and `concord reconcile --apply` on a running sandbox: the
JSON keys a script reads, the exit codes, the dry run's hash and the run's CSVs."""

import csv
import json

import pytest

from core import cli
from tests.harness import sandbox
from tests.sync.writeback import events, sends


@pytest.fixture
def org(tmp_path, tls_dir):
    running = sandbox(300, 11, tls_dir=tls_dir)
    info = tmp_path / "sandbox.json"
    info.write_text(json.dumps(running.info()))
    target = ["--sandbox-info", str(info), "--cache", str(tmp_path / "cache.sqlite")]
    assert cli.main(["reconcile", *target, "--examples", "0"]) in (0, 1)
    yield running, target
    running.stop()


def run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if "--json" in argv else captured.out), captured.err


def test_a_dry_run_writes_nothing_and_its_hash_is_the_runs(org, capsys):
    running, target = org
    code, dry, _ = run(["apply", *target, "--only", "strong", "medium", "--dry-run", "--json"],
                       capsys)
    assert code == 0 and dry["planned"] == len(dry["rows"]) > 0
    assert set(dry) >= {"planned", "plan_hash", "systems", "rules"}
    assert sum(dry["systems"].values()) == dry["planned"]
    assert sum(n for systems in dry["rules"].values() for n in systems.values()) == dry["planned"]
    assert sends(events(running)) == {}  # nothing was written
    code, done, _ = run(["apply", *target, "--only", "strong", "medium", "--json"], capsys)
    assert code == 0
    assert set(done) >= {"run_id", "planned", "done", "conflict", "failed", "skipped", "api_calls"}
    assert set(done["api_calls"]) == {"salesforce", "apollo"}
    assert done["plan_hash"] == dry["plan_hash"] and done["done"] == done["planned"] == dry["planned"]
    with open(done["success_csv"], newline="") as f:
        assert len(list(csv.DictReader(f))) == done["done"]
    code, again, _ = run(["apply", *target, "--only", "strong", "medium", "--json"], capsys)
    assert code == 0 and again["planned"] == 0  # applying twice writes nothing
    code, history, _ = run(["runs", "--cache", target[-1], "--json"], capsys)
    apply_run = next(r for r in history if r["run_id"] == done["run_id"])
    assert apply_run["kind"] == "apply" and apply_run["summary"]["done"] == done["done"]
    code, text, _ = run(["runs", "--cache", target[-1]], capsys)
    assert f"{done['done']:,} done" in text and done["success_csv"] in text


def test_conflicts_exit_1_and_are_in_the_error_csv(org, capsys):
    running, target = org
    _, dry, _ = run(["apply", *target, "--only", "strong", "medium", "--dry-run", "--json"], capsys)
    row = next(r for r in dry["rows"] if r["system"] == "salesforce")
    obj = "Lead" if row["record_id"].startswith("00Q") else "Contact"
    running.sf_store.external_edit(obj, row["record_id"], {"Email": "someone.else@example.org"})
    code, done, _ = run(["apply", *target, "--only", "strong", "medium", "--json"], capsys)
    assert code == 1 and done["conflict"] >= 1
    with open(done["error_csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert any(r["record_id"] == row["record_id"] and r["state"] == "conflict"
               and r["seen_email"] == "someone.else@example.org" for r in rows)


def test_undo_reverses_a_run_and_refuses_an_unknown_one(org, capsys):
    running, target = org
    _, done, _ = run(["apply", *target, "--only", "strong", "medium", "--json"], capsys)
    code, undone, _ = run(["undo", *target, str(done["run_id"]), "--json"], capsys)
    assert code in (0, 1) and undone["kind"] == "undo" and undone["done"] > 0
    code, _, err = run(["undo", *target, "9999"], capsys)
    assert code == 2 and "9999" in err


def test_reconcile_apply_pulls_decides_and_writes(org, capsys):
    running, target = org
    code, out, _ = run(["reconcile", *target, "--apply", "medium", "--json"], capsys)
    assert code in (0, 1)
    assert out["apply"]["done"] == out["apply"]["planned"] > 0
    assert set(out["apply"]["api_calls"]) == {"salesforce", "apollo"}
