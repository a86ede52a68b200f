"""sObject collections (``composite/sobjects``): up to 200 records a call, one result per
record in order, and ``allOrNone`` rolling the whole call back."""

from __future__ import annotations

import re

from ..ids import PREFIX, to18
from ..server import Request, Response, json_response
from . import schema
from .oauth import Session
from .store import StoreError
from .wire import api_error, request_json, sobject_or_404, store_error

COLLECTION_LIMIT = 200
COLLECTION_CHUNK_LIMIT = 10  # runs of one sObject type in a collection request


class CompositeRoutes:
    """PATCH, POST, DELETE and GET of ``composite/sobjects``; needs ``self.store``."""

    def _collection_body(self, request: Request) -> tuple[list, bool]:
        body = request_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise api_error(400, "JSON_PARSER_ERROR",
                          'expected {"allOrNone": ..., "records": [...]}')
        records = body["records"]
        # "The list can contain up to 200 objects"; "If the request body includes objects of
        # more than one type, they are processed as chunks ... A single request can process
        # up to 10 chunks." (REST API Developer Guide, "Update Records Using sObject
        # Collections", developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
        # resources_composite_sobjects_collections_update.htm)
        if len(records) > COLLECTION_LIMIT:
            raise api_error(400, "EXCEEDED_ID_LIMIT",
                            f"record limit reached. cannot submit more than {COLLECTION_LIMIT} "
                            "records into this call")
        types = [(r.get("attributes") or {}).get("type") if isinstance(r, dict)
                 and isinstance(r.get("attributes"), dict) else None for r in records]
        chunks = sum(1 for i, t in enumerate(types) if i == 0 or t != types[i - 1])
        if chunks > COLLECTION_CHUNK_LIMIT:
            raise api_error(400, "INVALID_BATCH_REQUEST",
                            f"Cannot have more than {COLLECTION_CHUNK_LIMIT} chunks in a single "
                            "operation. Please rearrange the data to reduce chunking.")
        return records, bool(body.get("allOrNone", False))

    def _run_collection(self, items: list, all_or_none: bool, operation) -> Response:
        """Apply ``operation(item) -> id`` to each item; one SaveResult per item, in order."""
        results: list[dict] = []

        class _RollBack(Exception):
            pass

        try:
            with self.store.transaction():
                for item in items:
                    known_id = None
                    try:
                        with self.store.transaction():
                            known_id = operation(item)
                        results.append({"id": known_id, "success": True, "errors": []})
                    except StoreError as exc:
                        failed: dict = {"success": False, "errors": [{
                            "statusCode": exc.error_code, "message": exc.message,
                            "fields": exc.fields}]}
                        item_id = item.get("id") if isinstance(item, dict) else item
                        if isinstance(item_id, str) and re.fullmatch(r"[A-Za-z0-9]{15,18}",
                                                                     item_id):
                            failed = {"id": to18(item_id), **failed}
                        results.append(failed)
                if all_or_none and any(not r["success"] for r in results):
                    raise _RollBack
        except _RollBack:
            results = [r if not r["success"] else {
                "id": r["id"], "success": False, "errors": [{
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the "
                               "request was using AllOrNone header", "fields": []}]}
                for r in results]
        return json_response(200, results)

    @staticmethod
    def _item_type(item) -> schema.SObject:
        if not isinstance(item, dict):
            raise StoreError(400, "JSON_PARSER_ERROR", "each record must be a JSON object")
        kind = (item.get("attributes") or {}).get("type") if isinstance(
            item.get("attributes"), dict) else None
        if not kind:
            raise StoreError(400, "INVALID_TYPE", "Must specify a type in the attributes of "
                                                  "each record")
        obj = schema.sobject(kind)
        if obj is None:
            raise StoreError(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
        return obj

    def _collection_update(self, request: Request, session: Session, version: str) -> Response:
        records, all_or_none = self._collection_body(request)

        def update(item) -> str:
            obj = self._item_type(item)
            record_id = item.get("id") or item.get("Id")
            if not record_id:
                raise StoreError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
            fields = {k: v for k, v in item.items() if k not in ("attributes", "id", "Id")}
            record = self.store.update(obj.name, record_id, fields, user_id=session.user.user_id)
            return record["Id"]

        return self._run_collection(records, all_or_none, update)

    def _collection_create(self, request: Request, session: Session, version: str) -> Response:
        records, all_or_none = self._collection_body(request)

        def create(item) -> str:
            obj = self._item_type(item)
            if item.get("id") or item.get("Id"):
                raise StoreError(400, "INVALID_FIELD", "cannot specify Id in an insert call",
                                 ["Id"])
            fields = {k: v for k, v in item.items() if k != "attributes"}
            return self.store.create(obj.name, fields, user_id=session.user.user_id)["Id"]

        return self._run_collection(records, all_or_none, create)

    def _collection_delete(self, request: Request, session: Session, version: str) -> Response:
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        if not ids:
            raise api_error(400, "MISSING_ARGUMENT", "ids is required")
        if len(ids) > COLLECTION_LIMIT:
            raise api_error(400, "EXCEEDED_ID_LIMIT", f"cannot delete more than {COLLECTION_LIMIT}")
        all_or_none = (request.param("allOrNone") or "false").lower() == "true"
        by_prefix = {prefix: name for name, prefix in PREFIX.items()
                     if schema.sobject(name) and not schema.OBJECTS[name].history_of}

        def delete(record_id: str) -> str:
            name = by_prefix.get(record_id[:3])
            if name is None:
                raise StoreError(400, "MALFORMED_ID", f"malformed id {record_id}")
            self.store.delete(name, record_id, user_id=session.user.user_id)
            return to18(record_id)

        return self._run_collection(ids, all_or_none, delete)

    def _collection_get(self, request: Request, session: Session, version: str,
                        object: str) -> Response:
        obj = sobject_or_404(object)
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        fields = [f for f in (request.param("fields") or "").split(",") if f]
        if not ids or not fields:
            raise api_error(400, "MISSING_ARGUMENT", "ids and fields are required")
        if len(ids) > 2000:
            raise api_error(400, "EXCEEDED_ID_LIMIT", "cannot retrieve more than 2000 records")
        out = []
        for record_id in ids:
            try:
                out.append(self.store.get(obj.name, record_id, fields=fields, version=version))
            except StoreError as exc:
                if exc.error_code != "MALFORMED_ID":
                    raise store_error(exc) from None
                out.append(None)
        return json_response(200, out)
