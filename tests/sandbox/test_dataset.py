"""The seeded generator: every situation in known proportions, repeatable, streamed."""

import tracemalloc
from datetime import datetime, timezone

from core import emails
from core.sandbox.dataset import AGREEING, SITUATION_NAMES, Dataset, allocate
from core.store.rows import apollo_row, sf_row

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_proportions_are_exact_and_reported():
    dataset = Dataset(10_000, seed=3, now=NOW)
    seen = {}
    for scenario in dataset.scenarios():
        seen[scenario.situation] = seen.get(scenario.situation, 0) + 1
    assert seen == {k: v for k, v in dataset.counts.items() if v}
    assert sum(seen.values()) == 10_000
    report = dataset.report()["situations"]
    assert set(report) == set(SITUATION_NAMES)
    assert all(report[name]["count"] == seen.get(name, 0) for name in report)


def test_the_typical_mix_mostly_agrees():
    counts = allocate(100_000, "typical")
    assert abs(sum(counts[s] for s in AGREEING) / 100_000 - 0.95) < 0.001
    assert all(counts[s] > 0 for s in SITUATION_NAMES)


def test_the_same_seed_gives_the_same_workspace():
    a = [(s.key, s.apollo, s.salesforce) for s in Dataset(500, seed=9, now=NOW).scenarios()]
    b = [(s.key, s.apollo, s.salesforce) for s in Dataset(500, seed=9, now=NOW).scenarios()]
    c = [(s.key, s.apollo, s.salesforce) for s in Dataset(500, seed=10, now=NOW).scenarios()]
    assert a == b and a != c


def test_records_have_the_apis_shapes_and_realistic_content():
    dataset = Dataset(2_000, seed=4, now=NOW)
    unicode_names = role = bounced = converted = 0
    for scenario in dataset.scenarios():
        if scenario.apollo:
            apollo_row(scenario.apollo)  # parses like a pulled contact
            unicode_names += not scenario.apollo["last_name"].isascii()
            role += "role_account" in emails.hints_for(scenario.apollo["email"])
        for record in scenario.salesforce:
            sf_row(record)
            assert record["attributes"]["type"] in ("Lead", "Contact")
            assert record["CreatedDate"].endswith("+0000")
            bounced += record["EmailBouncedDate"] is not None
            converted += bool(record.get("IsConverted"))
            if record["Email"]:
                assert record["Email"] == record["Email"].lower()
    assert unicode_names and role and bounced and converted


def test_a_large_dataset_is_streamed_not_held():
    tracemalloc.start()
    count = sum(1 for _ in Dataset(8_000, seed=5, now=NOW).scenarios())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 8_000
    # Only the shuffled situation list and the company table grow with N (a few bytes a pair).
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_contacts_are_in_uneven_lists_decided_by_the_seed():
    dataset = Dataset(5_000, seed=3, now=NOW)
    lists = dataset.labels()
    assert len(lists) == 24 and len({l["id"] for l in lists}) == 24
    assert all(l["modality"] == "contacts" and l["id"].startswith("08") for l in lists)
    per_contact, counts = [], {l["id"]: 0 for l in lists}
    for scenario in dataset.scenarios():
        if scenario.apollo:
            label_ids = scenario.apollo["label_ids"]
            per_contact.append(len(label_ids))
            for label_id in label_ids:
                counts[label_id] += 1
    # cached_count is exact; a few lists are large, many small
    assert {l["id"]: l["cached_count"] for l in lists} == counts
    sizes = sorted(counts.values())
    assert sizes[-1] > 10 * sizes[0] > 0
    # about 8% of contacts are in no list, most in one or two
    assert 0.06 < per_contact.count(0) / len(per_contact) < 0.10
    assert (per_contact.count(1) + per_contact.count(2)) / len(per_contact) > 0.8
    again = [s.apollo["label_ids"] for s in Dataset(300, seed=3, now=NOW).scenarios() if s.apollo]
    other = [s.apollo["label_ids"] for s in Dataset(300, seed=4, now=NOW).scenarios() if s.apollo]
    first = [s.apollo["label_ids"] for s in Dataset(300, seed=3, now=NOW).scenarios() if s.apollo]
    assert again == first and other != first
