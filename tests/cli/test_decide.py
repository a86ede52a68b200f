"""`concord decide`: JSON Lines in, one decision per line out (the engine as a black box)."""

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.cli.decide import InputError, decide_obj, settings_from_json
from core.store.cache import parse_time

ROOT = Path(__file__).resolve().parents[2]

DESIGN_EXAMPLE = {
    "id": "p1",
    "apollo": {"id": "a1", "email": "jo@acme.com", "email_status": "verified",
               "created_at": "2026-01-02T10:00:00Z", "updated_at": "2026-03-01T09:00:00Z",
               "email_changed_at": "2026-03-01T09:00:00Z", "contact_stage": "Cold",
               "salesforce_id": "003A00000000001"},
    "salesforce": {"id": "003A00000000001", "object": "Contact", "email": "joe@acme.com",
                   "created_at": "2026-01-05T00:00:00Z", "created_by_apollo": False,
                   "last_modified": "2026-02-01T00:00:00Z",
                   "email_changed_at": "2026-02-01T00:00:00Z",
                   "bounced_at": None, "bounce_reason": None,
                   "is_converted": False, "converted_contact_id": None},
    "base": {"email": "jo@acme.com", "synced_at": "2026-01-10T00:00:00Z"},
    "settings": {"create_policy": "off", "create_stages": [], "create_as": "Lead",
                 "manage_crm_as_contacts": True, "preset": "most_recent_edit"},
    "now": "2026-03-02T00:00:00Z",
}


def run(lines: list[str]) -> tuple[int, list[dict], str]:
    proc = subprocess.run([sys.executable, "-m", "core.cli", "decide"], cwd=ROOT,
                          input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60)
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr


def test_the_design_example_decides():
    code, out, _ = run([json.dumps(DESIGN_EXAMPLE)])
    assert code == 0 and len(out) == 1
    d = out[0]
    assert d["id"] == "p1" and d["conflict"] is True
    # Only Salesforce moved away from the base (jo@acme.com): Apollo's rules make joe@acme.com
    # win, but the edit is a month old, so Apollo's pull missed it.
    assert d["native"] == {"winner": "salesforce", "email": "joe@acme.com", "rule": "ONE_SIDED",
                           "outcome": "missed", "due": None, "cause": "unknown"}
    rec = d["recommendation"]
    assert rec["winner"] == "salesforce" and rec["rule"] == "Q_UNVERIFIED" and rec["strength"] == "review"
    assert rec["reason"].startswith("Q_UNVERIFIED:")


BAD_LINES = [
    ("not JSON", "{oops", "not valid JSON"),
    ("a list, not an object", "[1, 2]", "JSON object"),
    ("neither side", json.dumps({"id": "x"}), "needs 'apollo', 'salesforce'"),
    ("a bad time", json.dumps({"id": "t", "apollo": {"email": "a@b.co", "updated_at": "yesterday"},
                                "salesforce": None}), "apollo.updated_at"),
    ("a bad preset", json.dumps({"id": "p", "apollo": {"email": "a@b.co"}, "salesforce": None,
                                  "settings": {"preset": "coin_flip"}}), "settings.preset"),
    ("a bad object", json.dumps({"id": "o", "apollo": None,
                                  "salesforce": {"object": "Account", "email": "a@b.co"}}),
     "salesforce.object"),
    ("an email that is a number", json.dumps({"id": "n", "apollo": {"email": 42}, "salesforce": None}),
     "apollo.email"),
    ("duplicates that are not a list", json.dumps({**DESIGN_EXAMPLE, "id": "d",
                                                   "salesforce_duplicates": "00Q1"}),
     "salesforce_duplicates must be a list"),
    ("a link id that is a number", json.dumps({"id": "l", "apollo": {"salesforce_lead_id": 7},
                                               "salesforce": None}), "apollo.salesforce_lead_id"),
]


def test_bad_lines_get_an_error_and_the_others_still_run():
    lines = [json.dumps(DESIGN_EXAMPLE)] + [b[1] for b in BAD_LINES] + [json.dumps(DESIGN_EXAMPLE)]
    code, out, _ = run(lines)
    assert code == 2
    assert len(out) == len(lines)
    assert "recommendation" in out[0] and "recommendation" in out[-1]
    for (situation, _, message), result in zip(BAD_LINES, out[1:-1]):
        assert "error" in result, situation
        assert message in result["error"], (situation, result["error"])
    assert out[3]["id"] == "x"


def test_one_sided_lines_and_nulls():
    lines = [json.dumps({"id": "a", "apollo": {"email": "jo@acme.com", "contact_stage": "Hot"},
                         "salesforce": None, "base": None,
                         "settings": {"create_policy": "stages", "create_stages": ["Hot"]}}),
             json.dumps({"id": "s", "apollo": None, "salesforce": {"email": "jo@acme.com"},
                         "settings": {"manage_crm_as_contacts": False}})]
    code, out, _ = run(lines)
    assert code == 0
    assert out[0]["native"]["rule"] == "APOLLO_ONLY_CREATE" and out[0]["conflict"] is False
    assert out[1]["native"]["rule"] == "SFDC_ONLY_IN_CRM"


@pytest.mark.parametrize("settings, says", [
    ({"unicode_emails": "yes"}, "settings.unicode_emails must be true or false"),
    ({"apollo_pull_minutes": "abc"}, "settings.apollo_pull_minutes must be a whole number"),
    ({"create_as": "Account"}, "settings.create_as must be 'Lead' or 'Contact'"),
    ({"create_stages": "Hot"}, "settings.create_stages must be a list of strings"),
    ({"create_policy": "sometimes"}, "settings.create_policy must be one of"),
])
def test_every_setting_is_checked(settings, says):
    with pytest.raises(InputError, match=re.escape(says)):
        settings_from_json(settings)


def test_every_setting_is_honoured():
    """A workspace with Email Address Internationalization accepts a non-ASCII address."""
    line = {"id": "u", "apollo": {"email": "jürgen@acme.example", "email_status": "verified"},
            "salesforce": {"object": "Contact", "email": ""}}
    plain = decide_obj(line)["recommendation"]
    eai = decide_obj({**line, "settings": {"unicode_emails": True}})["recommendation"]
    assert "Internationalization" in plain["reason"] and plain["winner"] == "none"
    assert "Internationalization" not in eai["reason"] and eai["winner"] == "apollo"


def edited(minutes_before_now: int, **apollo) -> dict:
    """The design example with the Salesforce edit ``minutes_before_now`` before its ``now``."""
    at = datetime(2026, 3, 2, tzinfo=timezone.utc) - timedelta(minutes=minutes_before_now)
    changed = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    line = json.loads(json.dumps(DESIGN_EXAMPLE))
    line["salesforce"].update(email_changed_at=changed, last_modified=changed)
    line["apollo"].update({"email_changed_at": "2026-02-20T09:00:00Z",
                           "updated_at": "2026-02-20T09:00:00Z", **apollo})
    return line


def test_the_new_fields_round_trip():
    """A pending line says when; deciding it again at that time says the pull was missed."""
    line = edited(10)
    code, out, _ = run([json.dumps(line)])
    native = out[0]["native"]
    assert code == 0
    assert (native["outcome"], native["due"], native["cause"]) == ("pending", "2026-03-02T00:20:00Z", None)
    assert parse_time(native["due"]) - parse_time(line["salesforce"]["email_changed_at"]) == \
        timedelta(minutes=30)
    again = decide_obj({**line, "now": native["due"]})["native"]
    assert (again["outcome"], again["due"], again["cause"]) == ("missed", None, "unknown")
    assert {k: again[k] for k in ("winner", "email", "rule")} == \
        {k: native[k] for k in ("winner", "email", "rule")}
    slower = decide_obj({**line, "now": native["due"], "settings": {"apollo_pull_minutes": 60}})
    assert slower["native"]["due"] == "2026-03-02T00:50:00Z"


def test_old_lines_without_links_or_duplicates_still_decide_as_before():
    """Lines written before outcomes existed: same winner, email and rule; a line that does not
    say how Apollo links the contact is taken as linked to its Salesforce record."""
    old = json.loads(json.dumps(DESIGN_EXAMPLE))
    del old["apollo"]["salesforce_id"]
    for line in (old, edited(10)):
        native = decide_obj(line)["native"]
        assert native["winner"] == "salesforce" and native["rule"] == "ONE_SIDED"
        assert native["cause"] != "not_linked"


@pytest.mark.parametrize("apollo, extra, cause", [
    ({"salesforce_id": None}, {}, "stage_not_pushed"),
    ({"salesforce_id": "00QA00000000009", "salesforce_lead_id": "00QA00000000009"}, {}, "converted_lead"),
    ({"salesforce_id": "003A00000000001", "email_changed_at": "2026-03-01T23:54:00Z",
      "updated_at": "2026-03-01T23:54:00Z", "email": "jo.new@acme.com"},
     {"salesforce_duplicates": ["00QA00000000002"]}, "duplicate"),
])
def test_the_cause_of_a_miss_comes_from_the_line(apollo, extra, cause):
    line = edited(10, **apollo)
    line.update(extra)
    if "email" in apollo:  # Apollo's later edit wins (LAST_EDIT): its push was missed
        line["base"] = None
    native = decide_obj(line)["native"]
    assert (native["outcome"], native["cause"]) == ("missed", cause), native


# -- unknown keys and values are named, with the nearest valid one ----------------------------

def _with(path: tuple, value) -> dict:
    """The design example with one member set (or added) at ``path``."""
    line = json.loads(json.dumps(DESIGN_EXAMPLE))
    target = line
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return line


def _without(line: dict, section: str, key: str) -> dict:
    line[section].pop(key)
    return line


TYPOS = [
    ("a misspelled Apollo email", _without(_with(("apollo", "emial"), "jo@acme.com"), "apollo",
                                           "email"), "apollo.emial", "'email'"),
    ("a misspelled settings section", {**{k: v for k, v in DESIGN_EXAMPLE.items()
                                          if k != "settings"},
                                       "setings": DESIGN_EXAMPLE["settings"]},
     "setings", "'settings'"),
    ("a misspelled setting", _with(("settings", "preset_"), "apollo_master"),
     "settings.preset_", "'preset'"),
    ("a misspelled Salesforce key", _with(("salesforce", "bounced"), None),
     "salesforce.bounced", "'bounced_at'"),
    ("a misspelled base key", _with(("base", "emails"), "jo@acme.com"), "base.emails", "'email'"),
    ("an email status Apollo does not have", _with(("apollo", "email_status"), "Verified!!"),
     "apollo.email_status", "'verified'"),
]


@pytest.mark.parametrize("situation, line, names, nearest", TYPOS,
                         ids=[t[0] for t in TYPOS])
def test_an_unknown_key_or_value_is_an_error_naming_it_and_the_nearest(situation, line, names,
                                                                       nearest):
    with pytest.raises(InputError) as refused:
        decide_obj(line)
    assert names in str(refused.value) and nearest in str(refused.value), str(refused.value)


def test_status_case_is_not_a_typo():
    assert "recommendation" in decide_obj(_with(("apollo", "email_status"), "VERIFIED"))


def test_a_bad_now_names_the_key_plainly():
    with pytest.raises(InputError, match=r"^now is not an ISO-8601 time"):
        decide_obj(_with(("now",), "tomorrow"))


def test_a_byte_order_mark_and_invalid_utf8_are_handled_per_line(tmp_path):
    """An editor's BOM on the first line is read; a line of bad bytes is one error."""
    path = tmp_path / "pairs.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DESIGN_EXAMPLE).encode() + b"\n"
                     + b'{"id": "\xff\xfe"}\n' + json.dumps(DESIGN_EXAMPLE).encode() + b"\n")
    proc = subprocess.run([sys.executable, "-m", "core.cli", "decide", "--input", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2 and len(out) == 3
    assert "recommendation" in out[0] and "recommendation" in out[2]
    assert out[1]["error"] == "line 2: not UTF-8 text (byte 0xff at position 8)"


@pytest.mark.parametrize("make, says", [
    (lambda p: p / "missing.jsonl", "No such file"),
    (lambda p: p, "Is a directory"),
], ids=["missing file", "a folder"])
def test_input_that_is_not_a_file_is_one_line_and_exit_2(tmp_path, make, says):
    proc = subprocess.run([sys.executable, "-m", "core.cli", "decide", "--input",
                           str(make(tmp_path))], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("concord decide: Cannot read --input") and says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
