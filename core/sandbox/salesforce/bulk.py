"""Bulk API 2.0 query jobs of the Salesforce sandbox: job state, CSV result pages and routes.

A job's result set is materialised when the job is created (the ordered rowids, as for a
REST query cursor), so every result page is a slice. The job reports ``UploadComplete``
when created, ``InProgress`` for a configurable number of status polls, then
``JobComplete``, which exercises a client's polling loop without making it wait.
"""

from __future__ import annotations

import base64
import csv
import io
from array import array
from dataclasses import dataclass, field

from ..ids import salesforce_id
from ..server import Request, Response, json_response
from .oauth import Session
from .query import check_visible
from .soql import CompiledQuery, SOQLError, format_datetime
from .wire import api_error, request_json

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
DEFAULT_MAX_RECORDS = 50_000


@dataclass
class QueryJob:
    """One Bulk API 2.0 query job."""

    id: str
    operation: str  # query | queryAll
    plan: CompiledQuery
    rowids: array
    created_by: str
    created_date: str
    api_version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    polls_until_complete: int = 1
    state: str = "UploadComplete"
    extra: dict = field(default_factory=dict)

    def poll(self) -> str:
        """Advance the simulated run by one status request; returns the new state."""
        if self.state in ("UploadComplete", "InProgress"):
            if self.polls_until_complete > 0:
                self.polls_until_complete -= 1
                self.state = "InProgress"
            else:
                self.state = "JobComplete"
        return self.state

    def info(self) -> dict:
        """The job as ``GET jobs/query/{id}`` describes it."""
        body = {
            "id": self.id,
            "operation": self.operation,
            "object": self.plan.sobject.name,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.created_date,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if self.state == "JobComplete":
            body.update({"numberRecordsProcessed": len(self.rowids), "retries": 0,
                         "totalProcessingTime": 0})
        return body


def encode_locator(offset: int) -> str:
    """Salesforce's result locators are opaque; these are base64 of the next offset."""
    return base64.urlsafe_b64encode(str(offset).encode()).rstrip(b"=").decode()


def decode_locator(locator: str) -> int:
    """The offset of a locator; raises ValueError for one this sandbox did not issue."""
    padded = locator + "=" * (-len(locator) % 4)
    text = base64.urlsafe_b64decode(padded.encode()).decode()
    if not text.isdigit():
        raise ValueError(locator)
    return int(text)


def csv_cell(value, type_: str) -> str:
    """One value as Bulk API CSV writes it (booleans lower-case, datetimes with ``Z``)."""
    if value is None:
        return ""
    if type_ == "boolean":
        return "true" if value else "false"
    if type_ == "datetime" and isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"
    return str(value)


def render_csv(job: QueryJob, rows: list[tuple]) -> str:
    """A page of results as CSV text with the header row, every value quoted."""
    plan = job.plan
    n_rel = len(plan.relationships)
    types = [c.field.type for c in plan.columns]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[job.column_delimiter],
                        lineterminator=LINE_ENDINGS[job.line_ending], quoting=csv.QUOTE_ALL)
    writer.writerow(plan.header)
    for row in rows:
        writer.writerow([csv_cell(v, t) for v, t in zip(row[2 + n_rel:], types)])
    return out.getvalue()


class BulkRoutes:
    """``jobs/query`` (create, list, get, abort, delete) and a job's CSV results; needs
    ``self.store``, ``self.lock``, ``self.bulk_polls``, ``self._jobs`` (the finished and
    running jobs by id), ``self._next_serial()`` and ``self._evict()``."""

    def _job(self, job_id: str) -> QueryJob:
        with self.lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise api_error(404, "NOT_FOUND", f"Job {job_id} not found")
        return job

    def _job_create(self, request: Request, session: Session, version: str) -> Response:
        body = request_json(request)
        if not isinstance(body, dict):
            raise api_error(400, "INVALIDJOB", "the job must be a JSON object")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise api_error(400, "INVALIDJOB", f"operation must be query or queryAll, got "
                                             f"{operation!r}")
        delimiter = body.get("columnDelimiter") or "COMMA"
        ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS or ending not in LINE_ENDINGS:
            raise api_error(400, "INVALIDJOB", "unknown columnDelimiter or lineEnding")
        try:
            plan = self.store.compile(body.get("query") or "",
                                      include_deleted=operation == "queryAll")
        except SOQLError as exc:
            raise api_error(400, exc.error_code, exc.message) from None
        check_visible(session, plan)
        if plan.count_only:
            raise api_error(400, "INVALIDJOB", "Bulk API queries do not support COUNT()")
        job = QueryJob(salesforce_id("BulkJob", self._next_serial()), operation, plan,
                       self.store.query_ids(plan), session.user.user_id,
                       format_datetime(self.store.clock()), version, delimiter, ending,
                       self.bulk_polls)
        with self.lock:
            self._jobs[job.id] = job
            self._evict()
        return json_response(200, job.info())

    def _job_list(self, request: Request, session: Session, version: str) -> Response:
        with self.lock:
            jobs = [j.info() for j in self._jobs.values()]
        return json_response(200, {"done": True, "records": jobs, "nextRecordsUrl": None})

    def _job_get(self, request: Request, session: Session, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        with self.lock:
            job.poll()
            return json_response(200, job.info())

    def _job_abort(self, request: Request, session: Session, version: str,
                   job_id: str) -> Response:
        job = self._job(job_id)
        body = request_json(request)
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise api_error(400, "INVALIDJOB", "a query job can only be set to Aborted")
        with self.lock:
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise api_error(400, "INVALIDJOBSTATE", f"the job is already {job.state}")
            job.state = "Aborted"
            return json_response(200, job.info())

    def _job_delete(self, request: Request, session: Session, version: str,
                    job_id: str) -> Response:
        self._job(job_id)
        with self.lock:
            self._jobs.pop(job_id, None)
        return Response(204)

    def _job_results(self, request: Request, session: Session, version: str,
                     job_id: str) -> Response:
        job = self._job(job_id)
        # "To get query results, use the same API version that you used to create the
        # query. Otherwise, the call returns a 409 error." (Bulk API 2.0 Developer Guide,
        # query results). The body's wording is not documented; the status is what counts.
        if version != job.api_version:
            raise api_error(409, "CONFLICT", f"the job was created with API version "
                                             f"{job.api_version}; read its results with it")
        if job.state != "JobComplete":
            raise api_error(400, "INVALIDJOBSTATE", f"the job is {job.state}, not JobComplete")
        try:
            max_records = int(request.param("maxRecords") or DEFAULT_MAX_RECORDS)
            offset = decode_locator(request.param("locator")) if request.param("locator") else 0
        except ValueError:
            raise api_error(400, "INVALIDLOCATOR", "invalid locator or maxRecords") from None
        if max_records < 1:
            raise api_error(400, "INVALIDLOCATOR", "maxRecords must be positive")
        end = min(offset + max_records, len(job.rowids))
        rows = self.store.fetch_rows(job.plan, job.rowids[offset:end])
        text = render_csv(job, rows)
        locator = encode_locator(end) if end < len(job.rowids) else "null"
        return Response(200, text.encode("utf-8"),
                        {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(rows))},
                        "text/csv;charset=UTF-8")
