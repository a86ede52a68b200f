"""Helpers for the write-back tests: a pulled and decided workspace over a running sandbox,
and the oracle that reads the sandbox's request log (which writes were sent, which were
applied, and whether a record was read between two sends)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit

import orjson

from core.sandbox.ids import to18
from core.sources.apollo import ApolloSource
from core.sources.salesforce import SalesforceSource
from core.store.cache import Cache
from core.sync.pull import pull_all
from core.sync.reconcile import reconcile

_ROW = re.compile(r"/sobjects/(Lead|Contact)/(\w{15,18})$")
_APOLLO_ROW = re.compile(r"/contacts/([^/]+)$")
_IDS = re.compile(r"'(\w{15,18})'")


def sources(running):
    info = running.info()
    return (SalesforceSource.from_sandbox_info(info, sleep=lambda s: None),
            ApolloSource.from_sandbox_info(info, sleep=lambda s: None))


def pulled(running, path: Path) -> Cache:
    """A cache pulled from the sandbox and decided (the caller closes it)."""
    cache = Cache(path)
    sf, apollo = sources(running)
    pull_all(cache, sf, apollo)
    reconcile(cache)
    return cache


def remote_email(running, system: str, record_id: str) -> str | None:
    if system == "salesforce":
        obj = "Lead" if record_id.startswith("00Q") else "Contact"
        return (running.sf_store.get(obj, record_id) or {}).get("Email")
    return (running.apollo_store.get(record_id) or {}).get("email")


@dataclass
class Event:
    """One request of the log, as the oracle sees it."""

    system: str
    kind: str  # "write" | "read" | "feed"
    ids: tuple[str, ...]  # records it carried (writes) or read (reads); () for a feed
    applied: tuple[str, ...]  # records the answer says were changed (writes)


def events(running) -> list[Event]:
    """Each system's requests in the order its server answered them (Salesforce's, then
    Apollo's: the checks built on this are per system)."""
    out: list[tuple[int, Event]] = []
    for index, (method, path, body, status, answer) in enumerate(
            running.salesforce_app.request_log):
        split = urlsplit(path)
        if method == "PATCH" and split.path.endswith("composite/sobjects"):
            records = orjson.loads(body).get("records") or []
            ids = tuple(to18(r["id"]) for r in records)
            results = orjson.loads(answer) if status == 200 else []
            applied = tuple(to18(r["id"]) for r, res in zip(records, results) if res.get("success"))
            out.append((index, Event("salesforce", "write", ids, applied)))
        elif method == "PATCH" and _ROW.search(split.path):
            record = to18(_ROW.search(split.path).group(2))
            out.append((index, Event("salesforce", "write", (record,),
                                     (record,) if status == 204 else ())))
        elif method == "GET" and "/query" in split.path:
            soql = unquote_plus(parse_qs(split.query).get("q", [""])[0])
            out.append((index, Event("salesforce", "read", tuple(to18(i) for i in _IDS.findall(soql)), ())))
    for index, (method, path, body, status, answer) in enumerate(running.apollo_app.request_log):
        split = urlsplit(path)
        if method == "POST" and split.path.endswith("/contacts/bulk_update"):
            items = orjson.loads(body).get("contact_attributes") or []
            ids = tuple(str(i["id"]) for i in items)
            applied = tuple(str(c["id"]) for c in orjson.loads(answer).get("contacts") or []) \
                if status == 200 else ()
            out.append((index, Event("apollo", "write", ids, applied)))
        elif method == "POST" and split.path.endswith("/contacts/search"):
            out.append((index, Event("apollo", "feed", (), ())))
        elif method == "GET" and _APOLLO_ROW.search(split.path):
            out.append((index, Event("apollo", "read", (_APOLLO_ROW.search(split.path).group(1),), ())))
    return [e for _, e in out]


def sends(log: list[Event]) -> Counter:
    """``(system, id) -> requests that carried a write to it``."""
    return Counter((e.system, i) for e in log if e.kind == "write" for i in e.ids)


def applied(log: list[Event]) -> Counter:
    """``(system, id) -> writes the answer says were applied``."""
    return Counter((e.system, i) for e in log if e.kind == "write" for i in e.applied)


def unread_resends(log: list[Event]) -> list[tuple[str, str]]:
    """Records sent a second time with no read of them in between (a blind resend)."""
    last_send: dict[tuple[str, str], int] = {}
    read_since: dict[tuple[str, str], bool] = {}
    blind = []
    for e in log:
        if e.kind == "feed":
            for key in read_since:
                if key[0] == "apollo":
                    read_since[key] = True
        elif e.kind == "read":
            for i in e.ids:
                read_since[(e.system, i)] = True
        else:
            for i in e.ids:
                key = (e.system, i)
                if key in last_send and not read_since.get(key):
                    blind.append(key)
                last_send[key] = 1
                read_since[key] = False
    return blind
