"""``query`` and ``queryAll``: SOQL over REST, paged by query locators.

A page holds at most 2,000 records (``Sforce-Query-Options: batchSize`` between 200 and 2,000
asks for fewer); a query with more keeps its rowids under a locator that ``nextRecordsUrl``
names, dropped after 15 idle minutes as Salesforce drops it.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from ..ids import salesforce_id
from ..server import Request, Response, json_response
from .oauth import Session
from .soql import CompiledQuery, SOQLError
from .wire import api_error

MAX_PAGE = 2000
MIN_PAGE = 200
CURSOR_IDLE = timedelta(minutes=15)  # Salesforce drops a query locator after 15 idle minutes


@dataclass
class Cursor:
    """An open query locator: the query's result rowids and where its pages are served."""

    locator: str
    plan: CompiledQuery
    rowids: array
    batch: int
    endpoint: str  # query | queryAll
    last_used: datetime


class QueryRoutes:
    """Query and queryMore; needs ``self.store``, ``self.lock``, ``self._cursors`` (an
    OrderedDict of open locators), ``self._next_serial()`` and ``self._evict()``."""

    def _batch_size(self, request: Request) -> int | None:
        options = request.header("sforce-query-options") or ""
        match = re.search(r"batchSize\s*=\s*(\d+)", options, re.I)
        if not match:
            return None
        return min(MAX_PAGE, max(MIN_PAGE, int(match.group(1))))

    def _query(self, request: Request, session: Session, version: str,
               endpoint: str) -> Response:
        soql = request.param("q")
        if soql is None:
            raise api_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            plan = self.store.compile(soql, include_deleted=endpoint == "queryAll")
        except SOQLError as exc:
            raise api_error(400, exc.error_code, exc.message) from None
        check_visible(session, plan)
        if plan.count_only:
            return json_response(200, {"totalSize": self.store.query_count(plan), "done": True,
                                       "records": []})
        rowids = self.store.query_ids(plan)
        batch = self._batch_size(request) or MAX_PAGE
        cursor = Cursor(salesforce_id("QueryLocator", self._next_serial()), plan, rowids,
                         batch, endpoint, self.store.clock())
        if len(rowids) > batch:
            self._keep_cursor(cursor)
        return self._page(cursor, 0, version, self._batch_size(request) or batch)

    def _query_more(self, request: Request, session: Session, version: str, endpoint: str,
                    locator: str, offset: str) -> Response:
        now = self.store.clock()
        with self.lock:
            cursor = self._cursors.get(locator)
            if cursor is not None and now - cursor.last_used > CURSOR_IDLE:
                del self._cursors[locator]
                cursor = None
            if cursor is not None:
                cursor.last_used = now
                self._cursors.move_to_end(locator)
        if cursor is None or int(offset) > len(cursor.rowids):
            raise api_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(offset), version, self._batch_size(request) or cursor.batch)

    def _keep_cursor(self, cursor: Cursor) -> None:
        with self.lock:
            self._cursors[cursor.locator] = cursor
            self._evict()

    def _page(self, cursor: Cursor, offset: int, version: str, batch: int) -> Response:
        end = min(offset + batch, len(cursor.rowids))
        # SQLite writes each record's JSON; the page only joins them (no Python per record).
        records = self.store.fetch_records_json(cursor.plan, cursor.rowids[offset:end], version)
        body: dict = {"totalSize": len(cursor.rowids), "done": end >= len(cursor.rowids)}
        if not body["done"]:
            body["nextRecordsUrl"] = (f"/services/data/v{version}/{cursor.endpoint}/"
                                      f"{cursor.locator}-{end}")
        else:
            with self.lock:
                self._cursors.pop(cursor.locator, None)
        head = orjson.dumps(body)
        return Response(200, b"".join((head[:-1], b',"records":[',
                                       ",".join(records).encode(), b"]}")), {})


def check_visible(session: Session, plan: CompiledQuery) -> None:
    """An object or selected field the user may not see is answered as if it did not exist
    (INVALID_TYPE / INVALID_FIELD), as SOQL does for object and field-level security.
    Fields used only in WHERE or ORDER BY are not checked here."""
    user, name = session.user, plan.sobject.name
    if name in user.hidden_objects:
        raise api_error(400, "INVALID_TYPE", f"sObject type '{name}' is not supported. If you "
                                             f"are attempting to use a custom object, be sure "
                                             f"to append the '__c' after the entity name.")
    for column in plan.columns:
        if f"{name}.{column.path[0]}" in user.hidden_fields:
            raise api_error(400, "INVALID_FIELD", f"No such column '{column.path[0]}' on entity "
                                                  f"'{name}'. If you are attempting to use a "
                                                  f"custom field, be sure to append the '__c' "
                                                  f"after the custom field name.")
