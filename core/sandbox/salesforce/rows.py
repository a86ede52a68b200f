"""sObject rows: create, read, update (``If-Unmodified-Since`` → 412), delete, and the
replication lists of updated and deleted ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..ids import to18
from ..server import Request, Response, json_response
from . import schema
from .oauth import Session
from .soql import format_datetime
from .store import StoreError
from .values import parse_wire_datetime
from .wire import api_error, parse_http_date, request_json, sobject_or_404, store_error

UPDATED_WINDOW = timedelta(days=30)
DELETED_WINDOW = timedelta(days=15)
REPLICATION_ID_LIMIT = 600_000


class RowRoutes:
    """``sobjects/{object}/{id}`` and ``sobjects/{object}/updated|deleted``; needs
    ``self.store``."""

    def _create(self, request: Request, session: Session, version: str, object: str) -> Response:
        obj = sobject_or_404(object)
        fields = request_json(request)
        try:
            record = self.store.create(obj.name, fields, user_id=session.user.user_id)
        except StoreError as exc:
            raise store_error(exc) from None
        return json_response(201, {"id": record["Id"], "success": True, "errors": []})

    def _get(self, request: Request, session: Session, version: str, object: str,
             record_id: str) -> Response:
        obj = sobject_or_404(object)
        fields = request.param("fields")
        names = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        try:
            record = self.store.get(obj.name, record_id, fields=names, version=version)
        except StoreError as exc:
            if exc.error_code == "MALFORMED_ID":  # an id-less path is looked up as external id
                raise api_error(404, "NOT_FOUND", "The requested resource does not exist") from None
            raise store_error(exc) from None
        if record is None:
            raise api_error(404, "NOT_FOUND", "The requested resource does not exist")
        since = request.header("if-modified-since")
        if since:
            try:
                when = parse_http_date(since)
            except ValueError:
                raise api_error(400, "INVALID_HEADER_TYPE",
                              f"If-Modified-Since: unparseable date {since!r}") from None
            full = self.store.get(obj.name, record_id)
            if full and "LastModifiedDate" in full and \
                    parse_wire_datetime(full["LastModifiedDate"]).replace(microsecond=0) <= when:
                return Response(304)
        return json_response(200, record)

    def _update(self, request: Request, session: Session, version: str, object: str,
                record_id: str) -> Response:
        obj = sobject_or_404(object)
        # If-Unmodified-Since on sObject Rows: compared with the record's last modified date,
        # 412 Precondition Failed when it changed later; an invalid value on a PATCH is 400
        # (REST API Developer Guide, "Conditional Request Headers",
        # developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api/intro_rest_conditional_requests.htm)
        guard = request.header("if-unmodified-since")
        when = None
        if guard is not None:
            try:
                when = parse_http_date(guard)
            except ValueError:
                raise api_error(400, "INVALID_HEADER_TYPE",
                              f"If-Unmodified-Since: unparseable date {guard!r}; expected "
                              "EEE, dd MMM yyyy HH:mm:ss z") from None
        fields = request_json(request)
        if isinstance(fields, dict):
            given = fields.get("Id") or fields.get("id")
            if given and to18(str(given)) != to18(record_id):
                raise api_error(400, "INVALID_FIELD", "The Id in the body does not match the URL",
                              ["Id"])
            fields = {k: v for k, v in fields.items() if k.lower() != "id"}
        try:
            self.store.update(obj.name, record_id, fields, user_id=session.user.user_id,
                              if_unmodified_since=when)
        except StoreError as exc:
            raise store_error(exc) from None
        return Response(204)

    def _delete(self, request: Request, session: Session, version: str, object: str,
                record_id: str) -> Response:
        obj = sobject_or_404(object)
        try:
            self.store.delete(obj.name, record_id, user_id=session.user.user_id)
        except StoreError as exc:
            raise store_error(exc) from None
        return Response(204)

    def _replication_window(self, request: Request, obj: schema.SObject,
                            window: timedelta) -> tuple[datetime, datetime]:
        if obj.history_of:
            raise api_error(400, "INVALID_TYPE", f"replication is not enabled on {obj.name}")
        now = self.store.clock()
        try:
            # A literal '+' in a query string decodes to a space.
            start = datetime.fromisoformat((request.param("start") or "").replace(" ", "+"))
            end = datetime.fromisoformat((request.param("end") or "").replace(" ", "+"))
        except ValueError:
            raise api_error(400, "INVALID_REPLICATION_DATE",
                          "start and end must be ISO 8601 datetimes with a time zone") from None
        start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
        if start > end:
            raise api_error(400, "INVALID_REPLICATION_DATE", "start must be before end")
        if start < now - window:
            raise api_error(400, "INVALID_REPLICATION_DATE",
                          f"startDate cannot be more than {window.days} days ago")
        return start, min(end, now)

    def _updated(self, request: Request, session: Session, version: str, object: str) -> Response:
        obj = sobject_or_404(object)
        start, end = self._replication_window(request, obj, UPDATED_WINDOW)
        ids = self.store.updated_ids(obj.name, start, end)
        if len(ids) > REPLICATION_ID_LIMIT:
            raise api_error(400, "EXCEEDED_ID_LIMIT", "too many ids: narrow the window")
        return json_response(200, {"ids": ids, "latestDateCovered": format_datetime(end)})

    def _deleted(self, request: Request, session: Session, version: str, object: str) -> Response:
        obj = sobject_or_404(object)
        start, end = self._replication_window(request, obj, DELETED_WINDOW)
        # "The specified startDate must chronologically precede the specified endDate value
        # by more than one minute" (SOAP API Developer Guide, getDeleted()).
        if end - start <= timedelta(minutes=1):
            raise api_error(400, "INVALID_REPLICATION_DATE",
                            "start must precede end by more than one minute")
        rows = self.store.deleted_ids(obj.name, start, end)
        if len(rows) > REPLICATION_ID_LIMIT:
            raise api_error(400, "EXCEEDED_ID_LIMIT", "too many ids: narrow the window")
        return json_response(200, {
            "deletedRecords": [{"id": i, "deletedDate": d} for i, d in rows],
            "earliestDateAvailable": format_datetime(self.store.clock() - DELETED_WINDOW),
            "latestDateCovered": format_datetime(end)})
