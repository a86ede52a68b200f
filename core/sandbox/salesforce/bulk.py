"""Bulk API 2.0 query jobs of the Salesforce sandbox: job state and CSV result pages.

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

from .soql import CompiledQuery

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
