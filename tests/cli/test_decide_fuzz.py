"""``concord decide`` under any input: every line gets a decision or a one-line error.

Random JSON, the design example with members of the wrong type, unknown keys, huge and
deeply nested values, and bytes that are not UTF-8. A bounded, seeded slice runs in
``make test``; ``make test-long`` runs many more examples.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli.decide import decide_line
from tests.cli.test_decide import DESIGN_EXAMPLE

SECTIONS = ("apollo", "salesforce", "base", "settings")

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                    st.floats(allow_nan=False), st.text(max_size=40),
                    st.sampled_from(["", "2026-03-01T09:00:00Z", "jo@acme.com", "Lead",
                                     "verified", "bounced", "stages", "\x00", "é@ü.de",
                                     "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)


@st.composite
def mutated_examples(draw) -> bytes:
    """The design example with some members replaced, added or removed."""
    line = json.loads(json.dumps(DESIGN_EXAMPLE))
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from((None, *SECTIONS)))
        target = line if section is None else line.get(section)
        if not isinstance(target, dict):
            line[section] = draw(json_values)
            continue
        keys = sorted(target) + [draw(st.text(max_size=10))]
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()):
            target[key] = draw(json_values)
        else:
            target.pop(key, None)
    return json.dumps(line).encode()


def nested(depth: int) -> bytes:
    return b'{"id": "deep", "apollo": ' + b"[" * depth + b"]" * depth + b"}"


lines = st.one_of(
    mutated_examples(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.integers(1, 3000).map(nested),
    st.integers(1, 200_000).map(lambda n: json.dumps({**DESIGN_EXAMPLE, "id": "x" * n}).encode()),
    st.text(max_size=30).map(lambda t: json.dumps(
        {**DESIGN_EXAMPLE, "apollo": {**DESIGN_EXAMPLE["apollo"], "email": t * 500}}).encode()),
)


def check(line: bytes) -> None:
    result, ok = decide_line(line, 1)
    json.dumps(result)  # the output line is always JSON
    if ok:
        assert "recommendation" in result and "native" in result
    else:
        assert set(result) == {"id", "error"}
        assert result["error"].startswith("line 1: ") and "\n" not in result["error"]
        assert "Traceback" not in result["error"]


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines)
def test_every_line_gets_a_decision_or_a_one_line_error(line):
    check(line)


@pytest.mark.long
@settings(max_examples=20_000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines)
def test_every_line_gets_a_decision_or_a_one_line_error_at_length(line):
    check(line)
