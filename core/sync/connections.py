"""Where a workspace pulls from, built one way for the command line and the window.

A :class:`Connection` is a named workspace (profile + keyring), a running sandbox's info
file (``concord sandbox serve``), or the window's demo session. :meth:`Connection.sources`
builds both API clients with the same errors everywhere: a system that cannot be reached
does not stop the other, and its problem comes back as a sentence. :meth:`open_cache`
opens the cache that belongs to it, and :func:`pull` runs the pull step and describes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from core.credentials import CredentialError
from core.model import PullStatus, UserMessage
from core.sources.apollo import ApolloSource
from core.sources.errors import SourceError
from core.sources.salesforce import SalesforceSource
from core.store.cache import Cache
from core.store.settings import save_settings, settings_from_dict
from core.sync.plan import WritePlan
from core.sync.pull import pull_all
from core.sync.reconcile import Cancelled
from core.workspace import Workspace, WorkspaceError

SYSTEM_NAMES = {"salesforce": "Salesforce", "apollo": "Apollo"}


class SandboxInfoError(ValueError):
    """A sandbox info file that cannot be read or is not one; the message says which."""


@dataclass
class Sources:
    """Both API clients (``None`` where one could not be built) and why not."""

    salesforce: SalesforceSource | None = None
    apollo: ApolloSource | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def none(self) -> bool:
        """Whether neither system can be reached."""
        return self.salesforce is None and self.apollo is None


@dataclass
class Connection:
    """Where the workspace's records come from: one of a workspace, a sandbox's info, a demo."""

    workspace: Workspace | None = None
    sandbox_info: dict | None = None  # the contents of a running sandbox's info file
    demo: object | None = None  # core.sync.demo.DemoSession
    cache_path: Path | None = None

    @classmethod
    def for_workspace(cls, name: str) -> "Connection":
        """A named workspace; raises :class:`WorkspaceError` if it is missing or unreadable."""
        workspace = Workspace(name)
        workspace.load_profile()
        return cls(workspace=workspace, cache_path=workspace.cache_path)

    @classmethod
    def for_sandbox(cls, info_path: Path | str, cache_path: Path | str | None = None
                    ) -> "Connection":
        """A running sandbox by its info file; the cache defaults to ``<info>.cache.sqlite``
        beside it."""
        info_path = Path(info_path)
        info = read_sandbox_info(info_path)
        cache = Path(cache_path) if cache_path else info_path.with_name(info_path.name + ".cache.sqlite")
        return cls(sandbox_info=info, cache_path=cache)

    def info(self) -> dict | None:
        """The sandbox's info (demo or ``sandbox serve``), or ``None`` for a real workspace."""
        if self.demo is not None:
            return self.demo.info()
        return self.sandbox_info

    @property
    def instance_url(self) -> str:
        """The Salesforce instance (for record links); may read the profile: call off the UI."""
        info = self.info()
        if info is not None:
            return info.get("salesforce", {}).get("instance_url", "")
        if self.workspace is not None:
            try:
                return self.workspace.load_profile().salesforce_instance_url
            except WorkspaceError:  # a missing or broken profile only hides the record links
                return ""
        return ""

    def sources(self) -> Sources:
        """Both sources; a system that cannot be built is ``None`` with its problem said."""
        info = self.info()
        if info is not None:
            try:
                return Sources(SalesforceSource.from_sandbox_info(info),
                               ApolloSource.from_sandbox_info(info))
            except (KeyError, TypeError) as exc:
                raise SandboxInfoError(f"The sandbox info has no {exc} entry") from None
        if self.workspace is None:
            return Sources(problems=["No workspace is open."])
        try:
            profile = self.workspace.load_profile()
        except WorkspaceError as exc:
            return Sources(problems=[str(exc)])
        built = Sources()
        for name, factory in (("salesforce", SalesforceSource), ("apollo", ApolloSource)):
            try:
                setattr(built, name, factory.from_profile(self.workspace, profile))
            except CredentialError as exc:  # one keyring for both systems
                built.problems.append(str(exc))
                break
            except SourceError as exc:
                built.problems.append(str(exc))
        return built

    def open_cache(self, *, create: bool = True) -> Cache:
        """The connection's cache (created on first use unless ``create`` is false). A new
        cache for a sandbox takes the sandbox's mirrored Apollo settings, as a user would
        enter their own org's."""
        if self.cache_path is None:
            raise WorkspaceError("No cache file is known for this connection.")
        if self.workspace is not None and create:
            self.workspace.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        cache = Cache(self.cache_path, create=create)
        info = self.info()
        if info is not None:
            try:
                adopt_sandbox_settings(cache, info)
            except BaseException:
                cache.close()
                raise
        return cache


def read_sandbox_info(path: Path) -> dict:
    """A sandbox's info file as a dict; :class:`SandboxInfoError` names what is wrong."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SandboxInfoError(f"There is no sandbox info file at {path}; start the sandbox "
                               f"with `concord sandbox serve --info-file {path}`.") from None
    except IsADirectoryError:
        raise SandboxInfoError(f"{path} is a directory, not a sandbox info file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SandboxInfoError(f"Cannot read the sandbox info file {path}: "
                               f"{exc.strerror if isinstance(exc, OSError) else exc}") from None
    except ValueError as exc:
        raise SandboxInfoError(f"The sandbox info file {path} is not JSON ({exc}).") from None
    if not isinstance(info, dict) or not isinstance(info.get("salesforce"), dict) \
            or not isinstance(info.get("apollo"), dict):
        raise SandboxInfoError(f"{path} is not a sandbox info file (it has no 'salesforce' "
                               f"and 'apollo' sections).")
    for section, key in _SANDBOX_ENTRIES:
        if not isinstance(info[section].get(key), str) or not info[section][key]:
            raise SandboxInfoError(f"The sandbox info file {path} has no usable {section}.{key}; "
                                   f"start the sandbox again with `concord sandbox serve "
                                   f"--info-file {path}` to rewrite it.")
    return info


# What both clients need from a sandbox's info file.
_SANDBOX_ENTRIES = (("salesforce", "instance_url"), ("salesforce", "client_id"),
                    ("salesforce", "client_secret"), ("apollo", "base_url"), ("apollo", "api_key"))


def adopt_sandbox_settings(cache: Cache, info: dict) -> None:
    """Save the sandbox's settings into a cache that has none (a cache keeps its own)."""
    if cache.conn.execute("SELECT 1 FROM settings LIMIT 1").fetchone():
        return
    try:
        settings = settings_from_dict(info.get("settings") or {})
    except ValueError as exc:
        raise SandboxInfoError(f"The sandbox's settings are unreadable: {exc}") from None
    with cache.transaction():
        save_settings(cache, settings)


@dataclass
class PullOutcome:
    """What the pull step did, in sentences for the confirmation and the status bar."""

    pulled: bool
    note: str
    problems: list[str] = field(default_factory=list)
    summary: object | None = None  # core.sync.pull.PullSummary


def pull(cache: Cache, connection: Connection, job) -> PullOutcome:
    """Pull both systems into the cache (only what changed since the last pull); ``job``
    gives ``progress(text, done, total)``, ``cancel`` (an Event) and ``cancelled``."""
    sources = connection.sources()
    problems = list(sources.problems)
    if sources.none:
        return PullOutcome(False, "Nothing was pulled; reconciled the records already in the "
                                  "cache.", problems)

    def progress(p) -> None:
        job.progress(f"pulling {SYSTEM_NAMES.get(p.system, p.system)} {p.phase}", p.done, p.total)

    summary = pull_all(cache, sources.salesforce, sources.apollo, progress=progress,
                       cancel=job.cancel)
    if summary.status == PullStatus.CANCELLED or job.cancelled:
        raise Cancelled("pull cancelled")
    parts = []
    for result in summary.results:
        name = SYSTEM_NAMES[result.system]
        if result.status == PullStatus.SKIPPED:
            continue
        if result.status == PullStatus.COMPLETE:
            parts.append(f"{name}: {result.fetched:,} records read, {result.email_changes:,} "
                         f"email changes")
        else:
            problems.append(f"{name}: {result.message or result.status}")
        problems.extend(f"{name}: {notice}" for notice in result.notices)
    note = ("Pulled " + "; ".join(parts) + ".") if parts else "Nothing new was pulled."
    return PullOutcome(bool(parts), note, problems, summary)


class WriteBackUnavailable(UserMessage):
    """Writing back needs both systems; one of them cannot be reached. Nothing was written."""


def write_plan(cache: Cache, connection: Connection, plan: WritePlan, job=None):
    """Write a confirmed plan to both systems (:func:`core.sync.apply.apply_plan`): an
    unfinished earlier run is finished first; ``job`` gives progress and Cancel, which stops
    after the current round with the journal final. Returns the run's
    :class:`~core.sync.apply.ApplySummary`."""
    from core.sync.apply import apply_plan

    sources = connection.sources()
    if sources.salesforce is None or sources.apollo is None:
        raise WriteBackUnavailable(
            "Nothing was written",
            "Nothing was written to Apollo or Salesforce: writing back needs both. "
            + (" ".join(sources.problems) or "One of them is not connected."),
            "Your choices are kept in this workspace; connect both systems and write again.")

    def progress(phase: str, done: int, total: int) -> None:
        if job is not None:
            job.progress(phase, done, total)

    return apply_plan(cache, sources.salesforce, sources.apollo, plan,
                      out_dir=cache.path.parent / "runs", progress=progress,
                      cancel=job.cancel if job is not None else None)


def undo_run(cache: Cache, connection: Connection, run_id: int, job=None):
    """Undo a write-back run on both systems (:func:`core.sync.undo.undo`)."""
    from core.sync.undo import undo

    sources = connection.sources()
    if sources.salesforce is None or sources.apollo is None:
        raise WriteBackUnavailable("Nothing was undone", "Undo needs both Apollo and Salesforce.",
                                   "; ".join(sources.problems))
    return undo(cache, sources.salesforce, sources.apollo, run_id,
                out_dir=cache.path.parent / "runs",
                progress=(lambda p, d, t: job.progress(p, d, t)) if job is not None else None,
                cancel=job.cancel if job is not None else None)
