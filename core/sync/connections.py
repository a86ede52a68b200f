"""The two steps of "Reconcile all" that belong to other parts of Concord: pull and write.

Each is one function the window calls through a background operation, so wiring in the
real thing is a change here and nowhere else.

- :func:`pull` pulls both systems into the cache with :func:`core.sync.pull.pull_all`, through
  sources built from the workspace profile (secrets from the keyring) or from the running
  demo sandbox's info. A system that cannot be reached does not stop the other; its message
  is kept for the confirmation. A cancelled pull raises :class:`core.sync.reconcile.Cancelled`.
- :func:`write_plan` executes a confirmed write plan. Write-back (``core.writeback``, DESIGN
  §5) is not part of Concord yet, so it writes nothing and raises :class:`WriteBackPending`,
  which the window shows as a plain message: the user's choices are saved in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.store.cache import Cache
from core.sync.choices import WritePlan
from core.sync.reconcile import Cancelled

from core.model import UserMessage

_NAMES = {"salesforce": "Salesforce", "apollo": "Apollo"}


@dataclass
class PullOutcome:
    """What the pull step did, in sentences for the confirmation and the status bar."""

    pulled: bool
    note: str
    problems: list[str] = field(default_factory=list)
    summary: object | None = None  # core.sync.pull.PullSummary


@dataclass
class Connection:
    """Where the window's workspace pulls from: a demo sandbox session or a named workspace."""

    demo: object | None = None  # core.sync.demo.DemoSession
    workspace: object | None = None  # core.workspace.Workspace

    @property
    def instance_url(self) -> str:
        """The Salesforce instance (for record links); reads the profile: call off the UI."""
        if self.demo is not None:
            return self.demo.instance_url
        if self.workspace is not None:
            try:
                return self.workspace.load_profile().salesforce_instance_url
            except Exception:  # a missing or broken profile only hides the record links
                return ""
        return ""


def sources(connection: Connection) -> tuple[object | None, object | None, list[str]]:
    """Both sources for a connection, and why one could not be built (keyring, profile)."""
    from core.credentials import CredentialError
    from core.sources.apollo import ApolloSource
    from core.sources.errors import SourceError
    from core.sources.salesforce import SalesforceSource
    from core.workspace import WorkspaceError

    if connection.demo is not None:
        info = connection.demo.info()
        return SalesforceSource.from_sandbox_info(info), ApolloSource.from_sandbox_info(info), []
    if connection.workspace is None:
        return None, None, ["No workspace is open."]
    problems: list[str] = []
    built: list[object | None] = []
    try:
        profile = connection.workspace.load_profile()
    except WorkspaceError as exc:
        return None, None, [str(exc)]
    for factory in (SalesforceSource, ApolloSource):
        try:
            built.append(factory.from_profile(connection.workspace, profile))
        except (SourceError, CredentialError) as exc:
            built.append(None)
            problems.append(str(exc))
            if isinstance(exc, CredentialError):  # the same keyring for both systems
                built.append(None)
                break
    return built[0], built[1], problems


def pull(cache: Cache, connection: Connection, job) -> PullOutcome:
    """Pull both systems into the cache (only what changed since the last pull)."""
    from core.sync.pull import CANCELLED, COMPLETE, SKIPPED, pull_all

    salesforce, apollo, problems = sources(connection)
    if salesforce is None and apollo is None:
        return PullOutcome(False, "Nothing was pulled; reconciled the records already in the "
                                  "cache.", problems)

    def progress(p) -> None:
        job.progress(f"pulling {_NAMES.get(p.system, p.system)} {p.phase}", p.done, p.total)

    summary = pull_all(cache, salesforce, apollo, progress=progress, cancel=job.cancel)
    if summary.status == CANCELLED or job.cancelled:
        raise Cancelled("pull cancelled")
    parts = []
    for result in summary.results:
        name = _NAMES[result.system]
        if result.status == SKIPPED:
            continue
        if result.status == COMPLETE:
            parts.append(f"{name}: {result.fetched:,} records read, {result.email_changes:,} "
                         f"email changes")
        else:
            problems.append(f"{name}: {result.message or result.status}")
        problems.extend(f"{name}: {notice}" for notice in result.notices)
    note = ("Pulled " + "; ".join(parts) + ".") if parts else "Nothing new was pulled."
    return PullOutcome(bool(parts), note, problems, summary)


# Write-back (journaled, undoable writes to both systems) is not part of this version; the
# confirmation says so before the user confirms, and write_plan writes nothing.
WRITE_BACK_AVAILABLE = False


class WriteBackPending(UserMessage):
    """Writing to Apollo and Salesforce is not part of Concord yet; nothing was written."""


def write_plan(cache: Cache, plan: WritePlan, job=None):
    """Write a confirmed plan to both systems. For now: nothing is written (see module doc)."""
    chosen = cache.conn.execute(
        "SELECT count(*) FROM decisions WHERE status IN ('chosen', 'skipped')").fetchone()[0]
    to_sf, to_apollo = plan.count("salesforce"), plan.count("apollo")
    raise WriteBackPending(
        "Nothing was written",
        f"Nothing was written to Apollo or Salesforce. Writing back arrives with Concord's "
        f"write-back, which is not part of this version, so the {to_sf:,} Salesforce and "
        f"{to_apollo:,} Apollo write{'s' if to_sf + to_apollo != 1 else ''} were not made.",
        f"Your choices are saved in this workspace ({chosen:,} "
        f"pair{'s' if chosen != 1 else ''} chosen or skipped) and will be used when write-back "
        f"arrives.")
