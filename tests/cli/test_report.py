"""`concord report`: the pairs of a filter, or the runs, to a file or standard output."""

import csv
import io
import json

import pytest

from core import cli
from core.report.read import read_report
from core.store.cache import Cache
from core.sync.reconcile import reconcile
from tests.builders import contact, load, sf
from tests.harness import sandbox


@pytest.fixture
def target(tmp_path):
    """A small reconciled cache and an info file naming a Salesforce instance."""
    info = tmp_path / "info.json"
    info.write_text(json.dumps({
        "salesforce": {"instance_url": "https://org.example.test", "client_id": "c",
                       "client_secret": "s"},
        "apollo": {"base_url": "https://apollo.example.test", "api_key": "k"}}))
    cache = tmp_path / "cache.sqlite"
    with Cache(cache) as opened:
        load(opened, [contact("a1", "=1+1@x.com", sf="0031", first="-Jo"),
                      contact("a2", "ann@acme.com", sf="0032", first="Ann"),
                      contact("a3", "same@acme.com", sf="0033", first="Sam")],
             [sf("0031", "Contact", "jo@x.com", first="-Jo"),
              sf("0032", "Lead", "ann@other.example", first="Ann"),
              sf("0033", "Contact", "same@acme.com", first="Sam")])
        reconcile(opened)
    return ["--sandbox-info", str(info), "--cache", str(cache)]


def test_out_dash_writes_neutralised_csv_to_standard_output(target, capfdbinary):
    assert cli.main(["report", *target, "--out", "-"]) == 0
    captured = capfdbinary.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out.decode("utf-8"), newline="")))
    assert {r["Apollo id"] for r in rows} == {"a1", "a2"}  # the agreeing pair is no conflict
    jo = next(r for r in rows if r["Apollo id"] == "a1")
    assert jo["Apollo email"] == "'=1+1@x.com" and jo["Person"].startswith("'-Jo")
    assert jo["Salesforce link"] == "https://org.example.test/0031"
    assert b"Wrote 2 rows (CSV) to standard output" in captured.err


@pytest.mark.parametrize("args, rows", [
    (["--status", "all"], 3),
    (["--search", "ann"], 1),
    (["--strength", "strong", "--status", "all"], None),
    (["--runs"], None),
])
def test_filters_and_formats_from_the_suffix(target, tmp_path, capsys, args, rows):
    for suffix in ("csv", "xlsx", "html"):
        out = tmp_path / f"r.{suffix}"
        assert cli.main(["report", *target, "--out", str(out), *args]) == 0
        assert f"({suffix.upper()})" in capsys.readouterr().out
        titles, read = read_report(out)
        read = list(read)
        if rows is not None:
            assert len(read) == rows
        if "--runs" in args:
            assert titles[:2] == ["Run", "Kind"] and {r[1] for r in read} == {"reconcile"}


@pytest.mark.parametrize("args, code, message", [
    (["--out", "-", "--format", "xlsx"], 2, "only CSV can be written to standard output"),
    (["--out", "{tmp}/r.csv", "--previous", "{tmp}/info.json"], 2, "is not a conflict report"),
    (["--out", "{tmp}/r.csv", "--runs", "--run", "999"], 2, "no run 999"),
    (["--out", "{tmp}/r.csv", "--run", "1"], 2, "--run needs --runs"),
    (["--out", "{tmp}/no/such/folder/r.csv"], 3, "cannot write"),
])
def test_bad_usage_says_why(target, tmp_path, capsys, args, code, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert cli.main(["report", *target, *args]) == code
    assert message in capsys.readouterr().err


def test_a_missing_cache_is_not_created(tmp_path, capsys):
    missing = tmp_path / "none.sqlite"
    assert cli.main(["report", "--cache", str(missing), "--out", str(tmp_path / "r.csv")]) == 3
    assert "No cache" in capsys.readouterr().err and not missing.exists()


def secret_values(info: dict) -> list[str]:
    """Every credential-like string in a sandbox's info (keys, secrets, passwords, tokens)."""
    found = []
    for key, value in info.items():
        if isinstance(value, dict):
            found += secret_values(value)
        elif isinstance(value, str) and len(value) >= 8 and any(
                word in key.lower() for word in ("key", "secret", "password", "token")):
            found.append(value)
    return found


def test_a_pulled_sandbox_reports_the_pairs_reconcile_left_for_review(tmp_path, capsys):
    running = sandbox(300, 3, tls_dir=tmp_path / "tls")
    try:
        info = tmp_path / "sandbox.json"
        info.write_text(json.dumps(running.info()))
        base = ["--sandbox-info", str(info), "--cache", str(tmp_path / "cache.sqlite")]
        cli.main(["reconcile", *base, "--examples", "0", "--json"])
        review = json.loads(capsys.readouterr().out)["needs_review"]
        assert cli.main(["report", *base, "--status", "attention", "--out",
                         str(tmp_path / "r.xlsx")]) == 0
        assert cli.main(["report", *base, "--status", "all", "--out", str(tmp_path / "r.csv")]) == 0
        assert cli.main(["report", *base, "--runs", "--out", str(tmp_path / "runs.html")]) == 0
        secrets = secret_values(running.info())
    finally:
        running.stop()
    assert len(secrets) >= 3
    for name in ("r.csv", "runs.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert [s for s in secrets if s in text] == []
    titles, rows = read_report(tmp_path / "r.xlsx")
    rows = list(rows)
    assert len(rows) == review > 0
    links = [r[titles.index("Salesforce link")] for r in rows if r[titles.index("Salesforce id")]]
    assert links and all(link.startswith("https://127.0.0.1") for link in links)
