"""Pulling Apollo contacts (and contact stages) past the search's 50,000-record cap.

Apollo's contact search has no date filter and shows at most 500 pages of 100. So:

- **Incremental** (a watermark exists): contacts sorted by ``contact_updated_at``
  descending, page after page, until one is older than the watermark. State
  ``apollo:incremental`` (the page reached, and the newest ``updated_at`` seen, which
  becomes the watermark at the end) is committed with every page. Updates made while it
  runs only move contacts to the front (seen twice, never skipped). More than 50,000
  changes turn it into a full pull.
- **Full** (first pull, ``--full``, or too many changes): a plan in ``apollo:full``. A
  probe sorted by ``contact_updated_at`` gives the total and the newest ``updated_at``
  (the next watermark). Up to 50,000 contacts are read in one slice sorted by
  ``contact_created_at`` (stable while contacts are edited). Beyond that the workspace is
  split by contact stage (``GET /contact_stages``); a stage over 50,000 is read from both
  ends of the created-at order, and one over 100,000 also from both ends of the updated-at
  order; contacts in no known stage come from the unfiltered search's ends. The ids seen go
  to ``pull_seen``, so a resumed pull knows new contacts from repeats and stops a slice
  once it has all of them.
- **Commits**: pages are committed ten at a time (about 1,000 contacts) together with the
  state that says how far the pull got; a commit per 100-contact page would cost more
  than the contacts themselves. A stop of any kind (cancel, API limit, failure) first
  commits the pages already fetched.
- **Totals**: when the contacts seen fall short of the search's ``total_entries`` (a stage
  too large for every order, a filter Apollo ignored), the snapshot is marked incomplete
  in ``apollo:snapshot`` with the reason; contacts not seen are never treated as deleted.

Stage names are kept in ``apollo_stages`` (``{id: name}``) for the decision rules.
"""

from __future__ import annotations

from .cache import now_iso
from .ingest import IngestCounts, upsert_apollo
from .pull import COMPLETE, INCOMPLETE, PullContext, SystemResult
from .records import RecordError, apollo_row, cache_time
from .sources.apollo import MAX_PAGES, PER_PAGE, ApolloSource
from .sources.errors import SourceError

SYSTEM = "apollo"
CAP = MAX_PAGES * PER_PAGE  # what one search can show
CREATED_ASC = ("contact_created_at", True)
CREATED_DESC = ("contact_created_at", False)
UPDATED_ASC = ("contact_updated_at", True)
UPDATED_DESC = ("contact_updated_at", False)
FULL, INCREMENTAL, WATERMARK = "apollo:full", "apollo:incremental", "apollo:watermark"
STAGES = "apollo_stages"
PAGES_PER_COMMIT = 10


def _updated(contact: dict) -> str:
    try:
        return cache_time(contact.get("updated_at")) or ""
    except ValueError:
        return ""


def _ingest(ctx: PullContext, contacts: list[dict], prior_seen: str | None,
            result: SystemResult) -> IngestCounts:
    """Upsert a page (inside the caller's transaction); unreadable contacts are reported."""
    pulled_at = now_iso()
    try:
        return upsert_apollo(ctx.cache, contacts, pulled_at, prior_seen=prior_seen)
    except RecordError:
        good = []
        for contact in contacts:
            try:
                apollo_row(contact)
            except RecordError as exc:
                result.record_error(contact.get("id") if isinstance(contact, dict) else None,
                                    "contact", str(exc))
                continue
            good.append(contact)
        return upsert_apollo(ctx.cache, good, pulled_at, prior_seen=prior_seen)


def _save_stages(ctx: PullContext, stages: list[dict]) -> dict[str, str]:
    names = {s["id"]: s.get("name") or s.get("display_name") or s["id"]
             for s in stages if isinstance(s, dict) and s.get("id")}
    with ctx.cache.transaction():
        ctx.cache.set_state(STAGES, names)
    return names


def _refresh_stages_if_unknown(ctx: PullContext, source: ApolloSource,
                               contacts: list[dict]) -> None:
    known = ctx.cache.get_state(STAGES) or {}
    if any(c.get("contact_stage_id") and c["contact_stage_id"] not in known for c in contacts):
        _save_stages(ctx, source.contact_stages())


# -- committing pages ------------------------------------------------------------------------

class _Pages:
    """Fetched pages waiting to be committed together with the pull's state.

    ``state_key``/``state`` is what says how far the pull got (the plan or the incremental
    position); it is saved with the contacts, so after a commit the cache holds exactly the
    pages the state claims. ``pending_ids`` lets a slice count new contacts before commit.
    """

    def __init__(self, ctx: PullContext, prior_seen: str | None, result: SystemResult,
                 state_key: str, state: dict, *, track_seen: bool):
        self.ctx, self.prior_seen, self.result = ctx, prior_seen, result
        self.state_key, self.state = state_key, state
        self.track_seen = track_seen
        self.contacts: list[dict] = []
        self.pending_ids: set[str] = set()
        self.pages = 0

    def count_new(self, contacts: list[dict], belongs) -> int:
        """How many of ``contacts`` that belong to the slice this full pull has not seen."""
        ids = [c["id"] for c in contacts if isinstance(c, dict) and c.get("id")]
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        known = {r[0] for r in self.ctx.cache.conn.execute(
            f"SELECT id FROM pull_seen WHERE system = 'apollo' AND id IN ({marks})", ids)}
        known |= self.pending_ids & set(ids)
        new = {c["id"] for c in contacts
               if c.get("id") and c["id"] not in known and belongs(c)}
        self.pending_ids.update(ids)
        return len(new)

    def add(self, contacts: list[dict]) -> None:
        """Queue a page; commit when enough pages are waiting."""
        self.contacts.extend(contacts)
        self.pages += 1
        if self.pages >= PAGES_PER_COMMIT:
            self.commit()

    def commit(self, finish=None) -> None:
        """Commit the waiting pages with the state (and ``finish(conn)``, if given)."""
        cache = self.ctx.cache
        with cache.transaction():
            if self.contacts:
                self.result.add_counts(_ingest(self.ctx, self.contacts, self.prior_seen,
                                               self.result))
            if self.track_seen and self.pending_ids:
                cache.conn.executemany(
                    "INSERT OR IGNORE INTO pull_seen (system, id) VALUES ('apollo', ?)",
                    [(i,) for i in self.pending_ids])
            if finish is not None:
                finish(cache)
            else:
                cache.set_state(self.state_key, self.state)
        self.contacts, self.pending_ids, self.pages = [], set(), 0


# -- incremental ------------------------------------------------------------------------------

def _incremental(ctx: PullContext, source: ApolloSource, since: str, prior_seen: str | None,
                 result: SystemResult) -> str | None:
    """Read what changed since ``since``; returns when this incremental pull started (for
    ``apollo:last_complete``), or None when there is too much for one search."""
    state = ctx.cache.get_state(INCREMENTAL) or {"since": since, "top": None, "page": 1,
                                                   "started_at": now_iso()}
    since = state["since"]
    pages = _Pages(ctx, prior_seen, result, INCREMENTAL, state, track_seen=False)
    done = 0
    try:
        while True:
            ctx.check_cancel()
            answer = source.search(page=state["page"], sort_by="contact_updated_at",
                                   ascending=False)
            contacts = answer.get("contacts") or []
            if state["top"] is None:
                state["top"] = max((_updated(c) for c in contacts[:1]), default="") or since
            fresh = [c for c in contacts if _updated(c) >= since]
            finished = len(fresh) < len(contacts) or len(contacts) < PER_PAGE
            too_many = not finished and state["page"] >= MAX_PAGES
            state["page"] += 1
            done += len(fresh)
            _refresh_stages_if_unknown(ctx, source, fresh)
            if finished or too_many:
                pages.contacts.extend(fresh)

                def finish(cache, top=state["top"], finished=finished):
                    if finished:
                        cache.set_state(WATERMARK, top)
                    cache.conn.execute("DELETE FROM sync_state WHERE key = ?", (INCREMENTAL,))

                pages.commit(finish)
                ctx.report(SYSTEM, "contacts", done, 0)
                return state["started_at"] if finished else None
            pages.add(fresh)
            ctx.report(SYSTEM, "contacts", done, 0)
    except BaseException:
        if pages.pages:
            pages.commit()  # keep what was fetched before the stop
        raise


# -- full -------------------------------------------------------------------------------------

def _seen_count(ctx: PullContext) -> int:
    return ctx.cache.conn.execute(
        "SELECT count(*) FROM pull_seen WHERE system = 'apollo'").fetchone()[0]


def _walks(total: int) -> list[tuple[str, bool]]:
    walks = [CREATED_ASC]
    if total > CAP:
        walks.append(CREATED_DESC)
    if total > 2 * CAP:
        walks += [UPDATED_ASC, UPDATED_DESC]
    return walks


def _belongs(plan: dict, slice_: dict):
    """Which contacts of a page count for a slice: a stage's own (all, once checked), or
    for the remainder those in no stage the plan knows."""
    if not slice_.get("remainder"):
        return lambda contact: True
    known = {s["stage"] for s in plan["slices"] if s.get("stage")}
    return lambda contact: contact.get("contact_stage_id") not in known


def _new_plan(ctx: PullContext, source: ApolloSource, prior_seen: str | None,
              result: SystemResult) -> dict:
    """Probe the workspace and decide the slices (each probe page is stored, not wasted).

    The plan is committed once every slice is known; a pull killed while probing starts
    a new plan (the probe pages it stored stay; unchanged rows cost nothing).
    """
    ctx.check_cancel()
    stages = _save_stages(ctx, source.contact_stages())
    probe = source.search(page=1, sort_by="contact_updated_at", ascending=False)
    total = int((probe.get("pagination") or {}).get("total_entries") or 0)
    contacts = probe.get("contacts") or []
    plan = {"started_at": now_iso(), "top": _updated(contacts[0]) if contacts else None,
            "total": total, "slices": [], "current": 0}
    with ctx.cache.transaction():
        ctx.cache.conn.execute("DELETE FROM pull_seen WHERE system = 'apollo'")
        # A full pull supersedes an unfinished incremental one.
        ctx.cache.conn.execute("DELETE FROM sync_state WHERE key = ?", (INCREMENTAL,))
    # The probe's contacts are stored but not counted as seen: the slices must reach them.
    pages = _Pages(ctx, prior_seen, result, FULL, plan, track_seen=True)
    pages.contacts.extend(contacts)
    if total <= CAP:
        plan["slices"] = [{"stage": None, "name": "all contacts", "total": total,
                           "walks": [CREATED_ASC], "walk": 0, "page": 1, "seen": 0}]
    else:
        staged = 0
        for stage_id, name in stages.items():
            ctx.check_cancel()
            first = source.search(page=1, sort_by=CREATED_ASC[0], ascending=True,
                                  stage_ids=[stage_id])
            count = int((first.get("pagination") or {}).get("total_entries") or 0)
            staged += count
            if not count:
                continue
            slice_ = {"stage": stage_id, "name": f"stage {name}", "total": count,
                      "walks": _walks(count), "walk": 0, "page": 2, "seen": 0}
            plan["slices"].append(slice_)
            page = first.get("contacts") or []
            _check_stage(page, stage_id, name)
            slice_["seen"] += pages.count_new(page, lambda contact: True)
            pages.contacts.extend(page)
            if len(page) < PER_PAGE:
                slice_["walk"] = len(slice_["walks"])  # all of it was on the first page
        if staged < total:
            # Contacts in no (known) stage: only the unfiltered search's ends reach them.
            plan["slices"].append({"stage": None, "name": "contacts without a known stage",
                                   "total": total - staged,
                                   "walks": [CREATED_ASC, CREATED_DESC, UPDATED_ASC, UPDATED_DESC],
                                   "walk": 0, "page": 1, "seen": 0, "remainder": True})
    pages.commit()
    return plan


def _check_stage(contacts: list[dict], stage_id: str, name: str) -> None:
    wrong = [c.get("id") for c in contacts if c.get("contact_stage_id") != stage_id]
    if wrong:
        # Apollo ignores filters it does not know and answers unfiltered: never trust that.
        raise SourceError(SYSTEM, f"Apollo answered a search for stage {name!r} with contacts "
                                  f"of other stages (e.g. {wrong[0]}); the stage filter was "
                                  f"ignored, so the pull cannot split the workspace.")


def _run_slices(ctx: PullContext, source: ApolloSource, plan: dict, prior_seen: str | None,
                result: SystemResult) -> None:
    """Walk every slice from where the plan says, committing pages with the plan."""
    pages = _Pages(ctx, prior_seen, result, FULL, plan, track_seen=True)
    try:
        for index in range(plan["current"], len(plan["slices"])):
            plan["current"] = index
            slice_ = plan["slices"][index]
            stage = slice_["stage"]
            belongs = _belongs(plan, slice_)
            while slice_["walk"] < len(slice_["walks"]) and slice_["seen"] < slice_["total"]:
                ctx.check_cancel()
                sort_by, ascending = slice_["walks"][slice_["walk"]]
                contacts: list[dict] = []
                end_of_walk = slice_["page"] > MAX_PAGES
                if not end_of_walk:
                    answer = source.search(page=slice_["page"], sort_by=sort_by,
                                           ascending=ascending, stage_ids=[stage] if stage else None)
                    contacts = answer.get("contacts") or []
                    if stage:
                        _check_stage(contacts, stage, slice_["name"])
                    end_of_walk = len(contacts) < PER_PAGE or slice_["page"] >= MAX_PAGES
                    slice_["page"] += 1
                if end_of_walk:
                    slice_["walk"] += 1
                    slice_["page"] = 1
                slice_["seen"] += pages.count_new(contacts, belongs)
                _refresh_stages_if_unknown(ctx, source, contacts)
                pages.add(contacts)
                ctx.report(SYSTEM, "contacts", sum(s["seen"] for s in plan["slices"]),
                           plan["total"])
        plan["current"] = len(plan["slices"])
        pages.commit()
    except BaseException:
        if pages.pages:
            pages.commit()  # keep what was fetched before the stop
        raise


def _finish_full(ctx: PullContext, plan: dict, result: SystemResult) -> bool:
    seen = _seen_count(ctx)
    short = [s for s in plan["slices"] if s["seen"] < s["total"]]
    complete = seen >= plan["total"] and not short and not result.record_error_count
    reason = ""
    if not complete:
        parts = [f"{s['name']}: reached {s['seen']} of {s['total']}" for s in short]
        if result.record_error_count:
            parts.append(f"{result.record_error_count} contact(s) could not be read")
        reason = (f"The Apollo snapshot is incomplete: {seen} of {plan['total']} contacts were "
                  f"reached ({'; '.join(parts) or 'the totals do not add up'}). Apollo's search "
                  f"shows at most 50,000 contacts per filter; splitting a large stage into "
                  f"smaller ones in Apollo lets the next full pull reach them. Contacts not "
                  f"reached are kept as they were, never treated as deleted.")
    result.details["apollo_full"] = {"total": plan["total"], "reached": seen,
                                     "slices": [{k: s[k] for k in ("name", "total", "seen")}
                                                for s in plan["slices"]]}
    with ctx.cache.transaction():
        if plan.get("top"):
            ctx.cache.set_state(WATERMARK, plan["top"])
        ctx.cache.conn.execute("DELETE FROM sync_state WHERE key = ?", (FULL,))
        ctx.cache.conn.execute("DELETE FROM pull_seen WHERE system = 'apollo'")
        ctx.cache.set_state("apollo:snapshot", {"complete": complete, "as_of": plan["started_at"],
                                                "reason": reason})
        if complete:
            ctx.cache.set_state("apollo:last_complete", {"started_at": plan["started_at"],
                                                         "finished_at": now_iso()})
    result.message = reason
    return complete


def pull_apollo(ctx: PullContext, source: ApolloSource, result: SystemResult) -> None:
    """Pull Apollo contacts and stages into the cache (see the module doc)."""
    source.on_wait = lambda seconds, reason: ctx.report(
        SYSTEM, "waiting", 0, 0, f"{reason}; waiting {seconds:.0f} s")
    cache = ctx.cache
    prior_seen = (cache.get_state("apollo:last_complete") or {}).get("started_at")
    plan = cache.get_state(FULL)
    watermark = cache.get_state(WATERMARK)
    if plan is None and watermark and not ctx.full:
        result.mode = "incremental"
        started = _incremental(ctx, source, watermark, prior_seen, result)
        if started:
            complete = not result.record_error_count
            result.status = COMPLETE if complete else INCOMPLETE
            with cache.transaction():
                if complete:
                    cache.set_state("apollo:last_complete", {"started_at": started,
                                                             "finished_at": now_iso()})
            if not complete:
                result.message = (f"{result.record_error_count} Apollo contact(s) could not be "
                                  f"read (listed with their ids).")
            return
    result.mode = "full"
    if plan is None:
        plan = _new_plan(ctx, source, prior_seen, result)
    _run_slices(ctx, source, plan, prior_seen, result)
    result.status = COMPLETE if _finish_full(ctx, plan, result) else INCOMPLETE

