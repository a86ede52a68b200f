"""Faults only Salesforce has, on top of the generic ones of :mod:`core.sandbox.faults`.

- ``session_expiry``: answer 401 INVALID_SESSION_ID and end the caller's session, as when
  an org's session times out between two calls.
- ``request_limit``: answer 403 REQUEST_LIMIT_EXCEEDED; ``exhaust=True`` also spends the
  whole daily budget, so later calls are refused until usage is reset; ``concurrent=True``
  answers as for too many long-running requests at once (the daily budget untouched).
  The emulator does not time requests, so concurrency refusals come only from this fault.
- ``concurrent_edit``: just before a PATCH of a record (a row, or a collection's first
  record, every record with ``all=True``, or only ``record_id``) someone else changes its
  Email (``email=`` or a derived address) as ``OTHER_USER``, moving LastModifiedDate at
  least a second on; an ``If-Unmodified-Since`` write then gets 412, an unguarded one
  overwrites. Each edit is listed in ``app.concurrent_edits``.
"""

from __future__ import annotations

import logging
import re

import orjson

from ..faults import FaultRule
from ..ids import OTHER_USER, to18
from ..server import Request, Response
from .store import StoreError
from .wire import DATA, bearer, invalid_session, limit_exceeded

log = logging.getLogger(__name__)

_RECORD_PATH = re.compile(DATA + r"sobjects/(?P<object>\w+)/(?P<record_id>[A-Za-z0-9]{15,18})/?\Z")
_COLLECTION_PATH = re.compile(DATA + r"composite/sobjects/?\Z")


class SalesforceFaults:
    """The app's ``fault_response`` hook; needs ``self.identity``, ``self.store``,
    ``self.daily_limit``, ``self.set_api_usage`` and ``self.concurrent_edits``."""

    def fault_response(self, request: Request, rule: FaultRule) -> Response | None:
        """``session_expiry``, ``request_limit`` and ``concurrent_edit`` (see the module doc)."""
        if rule.kind == "session_expiry":
            token = bearer(request)
            if token:
                self.identity.expire(token)
            return invalid_session()
        if rule.kind == "request_limit":
            if rule.params.get("exhaust"):
                self.set_api_usage(used=self.daily_limit)
            return limit_exceeded(concurrent=bool(rule.params.get("concurrent")))
        if rule.kind == "concurrent_edit":
            self._concurrent_edit(request, rule)
        return None

    def _concurrent_edit(self, request: Request, rule: FaultRule) -> None:
        """Someone else changes the target's Email just before this PATCH is handled."""
        if request.method != "PATCH":
            return
        targets: list[tuple[str, str]] = []
        match = _RECORD_PATH.match(request.path)
        if match:
            targets.append((match["object"], match["record_id"]))
        elif _COLLECTION_PATH.match(request.path):
            try:
                records = orjson.loads(request.body or b"{}").get("records") or []
            except (orjson.JSONDecodeError, AttributeError):
                records = []
            for record in records:
                if isinstance(record, dict) and record.get("id") and \
                        isinstance(record.get("attributes"), dict):
                    targets.append((record["attributes"].get("type", ""), record["id"]))
            if not rule.params.get("all"):
                targets = targets[:1]
        wanted = rule.params.get("record_id")
        for object_name, record_id in targets:
            if wanted and to18(record_id) != to18(wanted):
                continue
            try:
                current = self.store.get(object_name, record_id)
                if current is None or "Email" not in current:
                    continue
                new = rule.params.get("email") or _edited_email(current["Email"], rule.fired)
                self.store.external_edit(object_name, record_id, {"Email": new},
                                         user_id=rule.params.get("user_id", OTHER_USER))
            except StoreError as exc:
                log.debug("concurrent_edit skipped %s %s: %s", object_name, record_id, exc)
                continue
            self.concurrent_edits.append({"object": object_name, "id": to18(record_id),
                                          "old": current["Email"], "new": new.lower()})


def _edited_email(current: str | None, serial: int) -> str:
    """A different, valid address for the concurrent_edit fault."""
    if not current or "@" not in current:
        return f"edited{serial}@concurrent-edit.example"
    local, _, domain = current.partition("@")
    return f"{local[:40]}.edited{serial}@{domain}"
