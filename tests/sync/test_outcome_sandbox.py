"""The outcome checked against Apollo's sync itself, as a user would: reconcile, let Apollo
sync, pull again.

Both emulators serve a generated workspace over HTTPS; Concord pulls it with the real
clients and reconciles at the moment Apollo's next pull is due. Then the sandbox runs that
pull (and pushes nothing, as every Apollo edit in the data is older than its push) and
Concord pulls again. Every pair predicted ``pending`` must have changed exactly as
predicted; every pair predicted ``missed`` or ``none`` must be unchanged on both sides.

The clock offset moves the sandbox's "now" past the generated data's, so Salesforce edits
made minutes before it fall on either side of Apollo's last pull.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from core.emails import comparison_key
from core.model import PullStatus
from core.sandbox.clock import SandboxClock
from core.sandbox.dataset import Dataset
from core.sandbox.salesforce.app import client
from core.store.cache import Cache
from core.sync.pull import pull_all
from core.sync.reconcile import reconcile
from tests.harness import sandbox
from tests.sync.test_pull import sources

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # the generated data's "now"
RECORDS = 600

# (seed, minutes the sandbox's clock runs ahead of the data)
NORMAL = [(5, 0), (11, 12), (23, 25)]
LONG = [(seed, offset) for seed in range(30, 38) for offset in (0, 4, 10, 19, 29, 31, 90)]

PAIRS = """
SELECT l.apollo_id, l.sf_id, a.email, s.email, coalesce(d.outcome, 'none'), d.native_rule,
       d.native_email
FROM links l
LEFT JOIN apollo_contacts a ON a.id = l.apollo_id
LEFT JOIN sf_records s ON s.id = l.sf_id
LEFT JOIN decisions d ON d.link_id = l.link_id
"""


def pairs(cache: Cache) -> list[tuple]:
    """Every pair: (apollo id, sf id, both emails, outcome, native rule, native email)."""
    return cache.conn.execute(PAIRS).fetchall()


def observed(pair: tuple, cache: Cache) -> str:
    """What became of a pair: ``as predicted`` (both sides now hold the native email),
    ``unchanged`` (both emails and which sides exist as before), or ``changed otherwise``."""
    a_id, sf_id, a_email, s_email, outcome, rule, native_email = pair
    a_after = s_after = partner_a = partner_s = None
    if a_id:
        a_after = cache.conn.execute("SELECT email FROM apollo_contacts WHERE id = ?", (a_id,)).fetchone()
        partner_s = cache.conn.execute("SELECT sf_id FROM links WHERE apollo_id = ?", (a_id,)).fetchone()
    if sf_id:
        s_after = cache.conn.execute("SELECT email FROM sf_records WHERE id = ?", (sf_id,)).fetchone()
        partner_a = cache.conn.execute(
            "SELECT apollo_id FROM links WHERE sf_id = ? AND apollo_id IS NOT NULL", (sf_id,)).fetchone()
    now_a = a_after[0] if a_after else None
    now_s = s_after[0] if s_after else None
    same_sides = (bool(a_id) or not partner_a) and (bool(sf_id) or not (partner_s and partner_s[0]))
    if same_sides and (now_a, now_s) == (a_email, s_email):
        return "unchanged"
    if a_id and sf_id:
        agreed = {comparison_key(now_a), comparison_key(now_s)}
    elif a_id:  # an Apollo contact Apollo was to create a Salesforce record for
        other = partner_s and partner_s[0] and cache.conn.execute(
            "SELECT email FROM sf_records WHERE id = ?", (partner_s[0],)).fetchone()
        agreed = {comparison_key(now_a), comparison_key(other[0]) if other else "no record"}
    else:  # a Salesforce record Apollo was to import as a contact
        other = partner_a and cache.conn.execute(
            "SELECT email FROM apollo_contacts WHERE id = ?", (partner_a[0],)).fetchone()
        agreed = {comparison_key(now_s), comparison_key(other[0]) if other else "no contact"}
    return "as predicted" if agreed == {comparison_key(native_email)} else "changed otherwise"


def confusion_table(table: Counter, examples: dict) -> str:
    columns = ("as predicted", "unchanged", "changed otherwise")
    lines = [f"{'predicted':>10} | " + " | ".join(f"{c:>17}" for c in columns)]
    for outcome in ("pending", "missed", "none"):
        lines.append(f"{outcome:>10} | " + " | ".join(f"{table[outcome, c]:>17}" for c in columns))
    for key, pair in examples.items():
        lines.append(f"e.g. {key}: {pair}")
    return "\n".join(lines)


def settle(cache: Cache, running, now: datetime) -> list[tuple]:
    """Concord pulls, reconciles at ``now`` and returns every pair as it predicts it."""
    assert pull_all(cache, *sources(running)).status == PullStatus.COMPLETE
    reconcile(cache, now=now, settings=running.sync.settings)
    return pairs(cache)


def sync_and_observe(cache: Cache, running, before: list[tuple], phase: str,
                     table: Counter, examples: dict) -> None:
    """Apollo's pull runs, Concord pulls again; each pair is tallied by what became of it."""
    running.pull_tick()
    settle(cache, running, running.clock())  # a new record gets linked to its pair
    for pair in before:
        seen = observed(pair, cache)
        table[pair[4], seen] += 1
        examples.setdefault((pair[4], seen, pair[5], phase), pair)


def edit_through_the_clients(cache: Cache, running) -> dict[tuple, tuple]:
    """Edits made between two of Apollo's pulls, through both real APIs: Salesforce emails
    changed (Apollo pulls them next), Apollo emails changed to an address Salesforce refuses
    (the push fails at once), and the Contact a converted Lead became (Apollo's contact is
    still linked to the Lead, so nothing reaches it). Returns the outcome and cause each
    edited pair must get, by ``(column, id)`` of its link."""
    linked = cache.conn.execute(
        "SELECT l.sf_id, s.object, l.apollo_id FROM links l JOIN sf_records s ON s.id = l.sf_id "
        "JOIN apollo_contacts a ON a.id = l.apollo_id WHERE l.agrees = 1 AND l.twin_id IS NULL "
        "AND s.id IN (a.salesforce_contact_id, a.salesforce_lead_id) ORDER BY l.link_id "
        "LIMIT 6").fetchall()
    converted = cache.conn.execute(
        "SELECT c.id FROM links l JOIN apollo_contacts a ON a.id = l.apollo_id "
        "JOIN sf_records c ON c.id = l.sf_id JOIN sf_records lead ON lead.id = a.salesforce_lead_id "
        "WHERE lead.converted_contact_id = c.id AND l.agrees = 1 ORDER BY l.link_id LIMIT 1").fetchall()
    expected = {}
    salesforce = client(running.salesforce_server)
    for n, (sf_id, obj, _) in enumerate(linked[:3] + [(c, "Contact", None) for (c,) in converted]):
        getattr(salesforce, obj).update(sf_id, {"Email": f"moved{n}@salesforce-edit.example"})
        expected["sf_id", sf_id] = ("pending", None) if n < 3 else ("missed", "converted_lead")
    apollo = sources(running)[1]
    for n, (_, _, apollo_id) in enumerate(linked[3:]):
        # 84 characters: Apollo keeps it, Salesforce's limit is 80.
        apollo.request("PATCH", f"/contacts/{apollo_id}", {"email": "x" * 70 + f"{n}@refused.example"})
        expected["apollo_id", apollo_id] = ("missed", "invalid_address")
    return expected


def outcomes_of(cache: Cache, links: dict[tuple, tuple]) -> dict[tuple, tuple]:
    """The outcome and missed cause Concord stored for each of these links."""
    return {(column, value): cache.conn.execute(
        f"SELECT d.outcome, d.missed_cause FROM links l JOIN decisions d USING (link_id) "
        f"WHERE l.{column} = ? AND l.apollo_id IS NOT NULL AND l.sf_id IS NOT NULL",
        (value,)).fetchone() for column, value in links}


def run_case(seed: int, offset: int, tls_dir, tmp_path) -> tuple[Counter, dict, dict, dict]:
    dataset = Dataset(RECORDS, seed, now=T0)
    clock = SandboxClock(T0 + timedelta(minutes=offset), frozen=True)
    running = sandbox(RECORDS, seed, tls_dir=tls_dir, dataset=dataset, clock=clock)
    pull = timedelta(minutes=running.sync.settings.apollo_pull_minutes)
    table, examples = Counter(), {}
    try:
        with Cache(tmp_path / f"cache-{seed}-{offset}.sqlite") as cache:
            # 1. The generated workspace, decided at the moment Apollo's next pull is due.
            before = settle(cache, running, running.sync.last_pull + pull)
            sync_and_observe(cache, running, before, "generated", table, examples)
            # 2. Edits through the real clients, then Concord pulls ten minutes later and
            #    decides at the moment Apollo's next pull is due.
            last_pull = running.sync.last_pull
            expected = edit_through_the_clients(cache, running)
            clock.advance(minutes=10)
            before = settle(cache, running, last_pull + pull)
            predicted = outcomes_of(cache, expected)
            clock.set(last_pull + pull)
            sync_and_observe(cache, running, before, "edited", table, examples)
        return table, examples, expected, predicted
    finally:
        running.stop()


def check(seed: int, offset: int, tls_dir, tmp_path) -> Counter:
    table, examples, expected, predicted = run_case(seed, offset, tls_dir, tmp_path)
    wrong = {k: v for k, v in examples.items()
             if (k[0] == "pending") != (k[1] == "as predicted") or k[1] == "changed otherwise"}
    message = f"seed {seed}, clock +{offset} min:\n{confusion_table(table, wrong)}"
    assert not wrong, message
    # The edits made through the clients were predicted as they should be, with their cause.
    assert len(expected) == 7 and predicted == expected, (predicted, expected)
    return table


@pytest.mark.parametrize("seed, offset", NORMAL, ids=[f"seed{s}+{o}min" for s, o in NORMAL])
def test_pending_changes_happen_and_missed_ones_do_not(seed, offset, tls_dir, tmp_path):
    check(seed, offset, tls_dir, tmp_path)


@pytest.mark.long
@pytest.mark.parametrize("seed, offset", LONG, ids=[f"seed{s}+{o}min" for s, o in LONG])
def test_pending_changes_happen_and_missed_ones_do_not_over_many_seeds(seed, offset, tls_dir,
                                                                       tmp_path):
    check(seed, offset, tls_dir, tmp_path)
