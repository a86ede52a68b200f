"""The describe answers through the real simple-salesforce client."""

from __future__ import annotations


def test_describe(sf):
    describe = sf.Lead.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "00Q"
    assert fields["Email"]["type"] == "email" and fields["Email"]["updateable"] is True
    assert fields["IsConverted"]["updateable"] is False
    assert {o["name"] for o in sf.describe()["sobjects"]} >= {"Contact", "Lead", "ContactHistory"}
