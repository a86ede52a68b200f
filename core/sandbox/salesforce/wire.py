"""What every surface of the Salesforce emulator shares on the wire: error bodies, the JSON
body of a request, the Bearer session token and HTTP dates."""

from __future__ import annotations

import email.utils
import re
from datetime import datetime, timezone

import orjson

from ..server import HTTPError, Request, Response, json_response
from . import schema
from .store import StoreError

DATA = r"/services/data/v(?P<version>\d+\.\d)/"
_HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \S+\Z")


def api_error(status: int, code: str, message: str, fields: list[str] | None = None) -> HTTPError:
    """The error Salesforce answers: a JSON list of one ``{message, errorCode}``."""
    body = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return HTTPError(status, orjson.dumps([body]))


def request_json(request: Request):
    """The request body as JSON, or the 400 JSON_PARSER_ERROR Salesforce answers instead."""
    try:
        return orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError as exc:
        raise api_error(400, "JSON_PARSER_ERROR", f"The request body is not valid JSON: {exc}") \
            from None


def store_error(exc: StoreError) -> HTTPError:
    """A store's refusal as the API's error answer."""
    return HTTPError(exc.status, orjson.dumps([exc.as_wire()]))


def invalid_session() -> Response:
    """The 401 every expired or unknown token gets (a JSON list: the client indexes [0])."""
    return json_response(401, [{"message": "Session expired or invalid",
                                "errorCode": "INVALID_SESSION_ID"}])


def limit_exceeded(concurrent: bool = False) -> Response:
    """The 403 a spent daily API budget gets ("TotalRequests Limit exceeded."), or, with
    ``concurrent``, the one for too many long-running requests at once (same code, the
    message names the concurrency limit)."""
    message = ("ConcurrentPerOrgLongTxn Limit exceeded." if concurrent
               else "TotalRequests Limit exceeded.")
    return json_response(403, [{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}])


def parse_http_date(value: str) -> datetime:
    """An ``EEE, dd MMM yyyy HH:mm:ss z`` header value as an aware datetime.

    Raises ValueError for anything else (the API answers 400 to those).
    """
    if not _HTTP_DATE.match(value.strip()):
        raise ValueError(value)
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise ValueError(value) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def bearer(request: Request) -> str | None:
    """The access token of an ``Authorization: Bearer`` (or ``OAuth``) header."""
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


def sobject_or_404(name: str) -> schema.SObject:
    """The object called ``name``, or the 404 NOT_FOUND the API answers for an unknown one."""
    obj = schema.sobject(name)
    if obj is None:
        raise api_error(404, "NOT_FOUND", "The requested resource does not exist")
    return obj
