"""The pull step over both sandboxes: killed or cancelled pulls resume to the same cache as
an uninterrupted one; progress, cancel, the runs table and ``concord pull``."""

from __future__ import annotations

import io
import json
import threading

import pytest

from core import cli
from core.cli.pull import ProgressBar
from core.model import PullStatus
from core.sources.apollo import ApolloSource
from core.sources.salesforce import SalesforceSource
from core.store.cache import Cache
from core.sync.pull import pull_all
from core.sync.pull_state import PullProgress
from tests.harness import sandbox, snapshot


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """One sandbox for the module; these tests only read from it."""
    running = sandbox(900, 21, tls_dir=tmp_path_factory.mktemp("pull-tls"))
    yield running
    running.stop()


def sources(running, *, bulk: bool = False, max_pages: int | None = None):
    """Both clients for the sandbox; ``max_pages`` makes Apollo's search cap small (e.g. 3
    pages: 300 contacts), so the full plan splits this small workspace as it would past
    50,000."""
    info = running.info()
    sf = SalesforceSource.from_sandbox_info(info, sleep=lambda s: None, page_size=200,
                                            bulk_threshold=150 if bulk else None,
                                            bulk_page_size=200)
    return sf, ApolloSource.from_sandbox_info(info, sleep=lambda s: None,
                                                **({"max_pages": max_pages} if max_pages else {}))


@pytest.fixture(scope="module")
def references(org, tmp_path_factory):
    """What an uninterrupted pull stores, with REST and with Bulk initial loads."""
    out = {}
    for bulk in (False, True):
        path = tmp_path_factory.mktemp("reference") / "cache.sqlite"
        with Cache(path) as reference:
            batches = []
            summary = pull_all(reference, *sources(org, bulk=bulk, max_pages=3),
                               progress=batches.append)
            assert summary.status == PullStatus.COMPLETE, summary.as_dict()
            out[bulk] = (snapshot(reference), len(batches))
    return out


class Interrupt:
    """A progress callback that cancels, or fails as a crash would, at batch ``k``."""

    def __init__(self, k: int, how: str, cancel: threading.Event):
        self.k, self.how, self.cancel = k, how, cancel
        self.seen = 0

    def __call__(self, progress: PullProgress) -> None:
        if progress.phase == "waiting":
            return
        self.seen += 1
        if self.seen == self.k:
            if self.how == "cancel":
                self.cancel.set()
            else:
                raise RuntimeError(f"killed at batch {self.k}")


# Where to stop, as a share of the batches of a whole pull: Salesforce Contact/Lead pages
# (or bulk result pages), history pages, then Apollo's probes and pages.
KILL_AT = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9]


@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
@pytest.mark.parametrize("how", ["cancel", "crash"])
@pytest.mark.parametrize("share", KILL_AT)
def test_an_interrupted_pull_resumes_to_the_same_cache(org, references, tmp_path,
                                                       share, how, bulk):
    reference, batches = references[bulk]
    k = max(1, int(share * batches))
    assert k < batches
    with Cache(tmp_path / "cache.sqlite") as cache:
        cancel = threading.Event()
        interrupt = Interrupt(k, how, cancel)
        if how == "cancel":
            summary = pull_all(cache, *sources(org, bulk=bulk, max_pages=3), progress=interrupt, cancel=cancel)
            assert summary.status == PullStatus.CANCELLED
            assert PullStatus.CANCELLED in (summary.salesforce.status, summary.apollo.status)
        else:
            with pytest.raises(RuntimeError, match="killed"):
                pull_all(cache, *sources(org, bulk=bulk, max_pages=3), progress=interrupt)
        assert interrupt.seen == k
        final = pull_all(cache, *sources(org, bulk=bulk, max_pages=3))
        assert final.status == PullStatus.COMPLETE, final.as_dict()
        assert snapshot(cache) == reference
        runs = cache.conn.execute("SELECT status FROM runs ORDER BY run_id").fetchall()
        assert runs[0][0] == ("failed" if how == "crash" else PullStatus.CANCELLED)
        assert runs[-1][0] == PullStatus.COMPLETE


def test_progress_runs_and_api_calls_are_recorded(org, tmp_path):
    seen: list[PullProgress] = []
    with Cache(tmp_path / "cache.sqlite") as cache:
        sf, apollo = sources(org, max_pages=3)
        summary = pull_all(cache, sf, apollo, progress=seen.append)
        phases = {(p.system, p.phase) for p in seen}
        assert {("salesforce", "Contact"), ("salesforce", "Lead"),
                ("salesforce", "ContactHistory"), ("apollo", "contacts")} <= phases
        last = seen[-1]
        assert last.api_calls == summary.api_calls
        contact = [p for p in seen if p.phase == "Contact"][-1]
        assert contact.total and contact.done == contact.total
        row = cache.conn.execute("SELECT kind, status, api_calls, summary FROM runs").fetchone()
        assert row[0] == "pull" and row[1] == PullStatus.COMPLETE
        assert json.loads(row[2]) == summary.api_calls
        assert json.loads(row[3])["salesforce"]["fetched"] == summary.salesforce.fetched
        # a repeated pull with nothing changed: <= 2 Salesforce calls per object, 1 Apollo call
        again = pull_all(cache, *sources(org, max_pages=3))
        assert again.api_calls == {"salesforce": 4, "apollo": 1}
        assert again.salesforce.mode == again.apollo.mode == "incremental"


def test_a_cancel_before_the_start_skips_everything(org, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with Cache(tmp_path / "cache.sqlite") as cache:
        summary = pull_all(cache, *sources(org), cancel=cancel)
        assert summary.salesforce.status == PullStatus.CANCELLED and summary.apollo.status == "skipped"


def test_one_system_out_of_budget_does_not_stop_the_other(tmp_path, tls_dir):
    running = sandbox(300, 4, tls_dir=tls_dir, apollo_limits={"minute": None, "hour": 2, "day": None})
    try:
        with Cache(tmp_path / "cache.sqlite") as cache:
            summary = pull_all(cache, *sources(running))
            assert summary.salesforce.status == PullStatus.COMPLETE
            assert summary.apollo.status == PullStatus.STOPPED and summary.status == PullStatus.STOPPED
    finally:
        running.stop()


# -- concord pull ---------------------------------------------------------------------------------

@pytest.fixture
def info_file(org, tmp_path):
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(org.info()))
    return path


def test_cli_pulls_a_sandbox_and_prints_json(info_file, capsys):
    assert cli.main(["pull", "--sandbox-info", str(info_file), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["status"] == PullStatus.COMPLETE and first["exit_code"] == 0
    assert (info_file.parent / "sandbox.json.cache.sqlite").exists()
    assert cli.main(["pull", "--sandbox-info", str(info_file), "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["salesforce"]["mode"] == "incremental"
    assert second["api_calls"]["apollo"] == 1
    assert cli.main(["pull", "--sandbox-info", str(info_file), "--full"]) == 0
    text = capsys.readouterr().out
    assert "Salesforce (full): complete" in text and "Apollo (full): complete" in text


@pytest.mark.parametrize("argv, code", [
    (["--workspace", "nobody"], 2),
    (["--sandbox-info", "/nonexistent/sandbox.json"], 2),
])
def test_cli_bad_usage_exits_2(argv, code, tmp_path, monkeypatch, memory_keyring, capsys):
    monkeypatch.setenv("CONCORD_HOME", str(tmp_path))
    assert cli.main(["pull", *argv]) == code
    assert "concord pull:" in capsys.readouterr().err


def test_cli_needs_exactly_one_target(capsys):
    assert cli.main(["pull"]) == 2
    assert "--workspace --sandbox-info is required" in capsys.readouterr().err


def test_cli_exit_codes_for_a_stopped_and_a_failed_pull(org, tmp_path, capsys):
    info = org.info()
    stopped = tmp_path / "stopped.json"
    stopped.write_text(json.dumps(info))
    org.apollo_app.faults.add("rate_limit", window="day", count=1)
    try:
        assert cli.main(["pull", "--sandbox-info", str(stopped)]) == 1
        assert "daily API limit" in capsys.readouterr().out
    finally:
        org.apollo_app.faults.clear()
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps({**info, "salesforce": {**info["salesforce"],
                                                         "client_secret": "not-the-secret"}}))
    assert cli.main(["pull", "--sandbox-info", str(failed), "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["salesforce"]["status"] == "failed" and "invalid_client" in out["salesforce"]["message"]
    assert "not-the-secret" not in json.dumps(out)


def test_progress_bar_draws_one_line():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(PullProgress("salesforce", "Contact", 500, 2000, {"salesforce": 3, "apollo": 0}))
    bar(PullProgress("apollo", "waiting", 0, 0, {"salesforce": 9, "apollo": 7},
                     "per-minute limit reached; waiting 42 s"))
    bar.close()
    text = stream.getvalue()
    assert "500/2,000" in text and "waiting 42 s" in text and "API calls: Salesforce 9, Apollo 7" in text
