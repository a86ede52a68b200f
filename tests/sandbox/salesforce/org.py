"""The org every Salesforce emulator test starts from, and a way to reach the emulator under a
real Salesforce host's name. The fixtures built on them are in conftest.py."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from core.sandbox.ids import OTHER_USER, salesforce_id, to18

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CREATED = "2026-01-05T00:00:00.000+0000"
MODIFIED = "2026-02-01T10:00:00.000+0000"
ACME = salesforce_id("Account", 1)
GLOBEX = salesforce_id("Account", 2)


def contact_id(n: int) -> str:
    return salesforce_id("Contact", n)


def lead_id(n: int) -> str:
    return salesforce_id("Lead", n)


def seed_rows() -> tuple[list[dict], list[dict]]:
    """Accounts and records every Salesforce test starts from.

    Contacts 1-6 (1-3 at Acme, 4 at Globex, 5-6 without an account; 6 has no email),
    Leads 1-3 (3 is converted into Contact 3).
    """
    accounts = [{"Id": ACME, "Name": "Acme", "Website": "acme.example"},
                {"Id": GLOBEX, "Name": "Globex", "Website": "globex.example"}]
    people = [("Ada", "Lovelace", "Ada@Acme.example", ACME),
              ("Grace", "Hopper", "grace@acme.example", ACME),
              ("Alan", "Turing", "alan@acme.example", ACME),
              ("Edsger", "Dijkstra", "edsger@globex.example", GLOBEX),
              (None, "Liskov", "barbara@liskov.example", None),
              ("Ken", "Thompson", None, None)]
    records = []
    for n, (first, last, email, account) in enumerate(people, 1):
        records.append({"attributes": {"type": "Contact"}, "Id": contact_id(n), "FirstName": first,
                        "LastName": last, "Email": email, "AccountId": account,
                        "CreatedDate": CREATED, "LastModifiedDate": MODIFIED,
                        "SystemModstamp": MODIFIED, "CreatedById": to18(OTHER_USER)})
    leads = [("Donald", "Knuth", "don@taocp.example", False),
             ("Frances", "Allen", "fran@ibm.example", False),
             ("Alan", "Turing", "alan@acme.example", True)]
    for n, (first, last, email, converted) in enumerate(leads, 1):
        records.append({"attributes": {"type": "Lead"}, "Id": lead_id(n), "FirstName": first,
                        "LastName": last, "Email": email, "Company": "Independent",
                        "IsConverted": converted,
                        "ConvertedContactId": contact_id(3) if converted else None,
                        "ConvertedAccountId": ACME if converted else None,
                        "ConvertedDate": "2026-01-20" if converted else None,
                        "CreatedDate": CREATED, "LastModifiedDate": MODIFIED,
                        "SystemModstamp": MODIFIED})
    return accounts, records


class LoopbackRewrite(requests.adapters.HTTPAdapter):
    """Sends requests for a real Salesforce host to the sandbox instead."""

    def __init__(self, target: str):
        self.target = target
        super().__init__()

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = self.target + request.url[len(f"{parts.scheme}://{parts.netloc}"):]
        return super().send(request, **kwargs)


def many_contacts(store, n: int, start: int = 1000) -> None:
    """``n`` more Contacts (every third at Acme) loaded straight into ``store``."""
    store.load_records({"attributes": {"type": "Contact"}, "Id": contact_id(start + i),
                        "LastName": f"Bulk{i:05d}", "Email": f"Bulk{i}@Many.example",
                        "AccountId": ACME if i % 3 == 0 else None} for i in range(n))
