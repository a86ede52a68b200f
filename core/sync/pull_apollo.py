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
  ends of the created-at order; contacts in no known stage come from the unfiltered
  search's ends. A stage (or the no-stage group) over 100,000, which both ends cannot
  cover, is split further by list (``GET /labels``, master key): a slice per list, read
  from both ends, for the contacts whose first list (largest lists first) it is; the
  union counts of the first k lists give each slice's exact share. Its contacts in no list
  can only come from both ends of the stage's created-at and updated-at orders, which are
  walked first (the listed contacts met there spare the lists' walks pages). The ids
  seen go to ``pull_seen``: a contact in several lists counts once, for its own slice, and
  a resumed pull knows new contacts from repeats and stops a slice once it has all of them.
- **Commits**: pages are committed ten at a time (about 1,000 contacts) together with the
  state that says how far the pull got; a commit per 100-contact page would cost more
  than the contacts themselves. A stop of any kind (cancel, API limit, failure) first
  commits the pages already fetched.
- **Capped totals**: Apollo documents that a search shows at most 50,000 contacts but not
  what ``pagination.total_entries`` says beyond that; if it is capped too, a total of
  exactly the cap only means "at least". Such a total never makes a single slice: the
  workspace is split by stage (and a stage or list whose own total is at the cap is read
  from every end, split by list where lists exist), the slice is marked ``at_least``, and
  the snapshot is complete only when every slice's own total is below the cap and they add
  up to the workspace's total. Contacts in no stage cannot be counted when the workspace
  total is capped; the probes' unfiltered pages are the only check that there are any.
- **Totals**: when the contacts seen fall short of the search's ``total_entries`` (a stage
  or list too large for every order, contacts in no list of a large stage, a filter
  Apollo ignored), the snapshot is marked incomplete in ``apollo:snapshot`` with how many
  and why; contacts not seen are never treated as deleted.

Stage names are kept in ``apollo_stages`` (``{id: name}``) for the decision rules.
"""

from __future__ import annotations

from core.model import PullStatus
from core.sources.apollo import PER_PAGE, ApolloSource
from core.sources.errors import PermissionDenied, SourceError
from core.store.cache import now_iso
from core.store.ingest import IngestCounts, upsert_apollo
from core.store.rows import RecordError, apollo_row, cache_time
from core.sync.pull_state import PullContext, SystemResult

SYSTEM = "apollo"
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
    teams = {s.get("team_id") for s in stages if isinstance(s, dict) and s.get("team_id")}
    if len(teams) == 1:  # the stages say which team the key belongs to
        ctx.cache.check_origin("apollo", teams.pop())
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

    def new_contacts(self, contacts: list[dict]) -> list[dict]:
        """The contacts of a page this full pull has not seen before (each once)."""
        ids = [c["id"] for c in contacts if isinstance(c, dict) and c.get("id")]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        known = {r[0] for r in self.ctx.cache.conn.execute(
            f"SELECT id FROM pull_seen WHERE system = 'apollo' AND id IN ({marks})", ids)}
        new = {}
        for contact in contacts:
            if (isinstance(contact, dict) and contact.get("id") and contact["id"] not in known
                    and contact["id"] not in self.pending_ids):
                new.setdefault(contact["id"], contact)
        self.pending_ids.update(ids)
        return list(new.values())

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
            too_many = not finished and state["page"] >= source.max_pages
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

PLAN_VERSION = 3  # older plans (no lists, or no capped totals) are started again
EVERY_END = [CREATED_ASC, CREATED_DESC, UPDATED_ASC, UPDATED_DESC]
NO_STAGE = ""  # the group of contacts in no stage the plan knows
WHOLE = "*"  # the group of a workspace small enough for one search


def _seen_count(ctx: PullContext) -> int:
    return ctx.cache.conn.execute(
        "SELECT count(*) FROM pull_seen WHERE system = 'apollo'").fetchone()[0]


def _total(answer: dict) -> int:
    return int((answer.get("pagination") or {}).get("total_entries") or 0)


def _capped(count: int, cap: int) -> bool:
    """Whether a search's total may be Apollo's display cap rather than the true count:
    exactly the cap (a total above it proves the totals are not capped)."""
    return count == cap


def _walks(size: int, cap: int) -> list[tuple[str, bool]]:
    """The orders a filter of ``size`` contacts is read in when one search shows ``cap``: up
    to the cap (50,000) need one; up to twice it both ends of the created-at order (they
    meet); beyond, the updated-at ends too."""
    walks = [CREATED_ASC]
    if size > cap:
        walks.append(CREATED_DESC)
    if size > 2 * cap:
        walks += [UPDATED_ASC, UPDATED_DESC]
    return walks


def _key(group: str, label: str | None) -> str:
    return f"{group}|{label or ''}"


class _Homes:
    """Which slice of a plan a contact counts for (its "home").

    A contact belongs to the group of its stage (or to the no-stage group). In a group split
    by list its home is the slice of the first of its lists in the plan's order, else the
    group's "in no list" slice. Each new contact is counted once, for its home, whichever
    search found it: so a slice's ``seen`` can reach its ``total`` even when a contact in
    several lists was first met in another list's search.
    """

    def __init__(self, plan: dict):
        self.groups = plan["groups"]
        self.slices = {s["key"]: s for s in plan["slices"]}

    def slice_of(self, contact: dict) -> dict | None:
        if WHOLE in self.groups:
            return self.slices.get(_key(WHOLE, None))
        group = contact.get("contact_stage_id")
        if not group or group not in self.groups:
            group = NO_STAGE
        home = None
        lists = (self.groups.get(group) or {}).get("lists")
        if lists:
            mine = contact.get("label_ids") or ()
            home = next((label for label in lists if label in mine), None)
        return self.slices.get(_key(group, home))

    def count(self, contacts: list[dict]) -> None:
        """Count new contacts for their homes."""
        for contact in contacts:
            home = self.slice_of(contact)
            if home is not None:
                home["seen"] += 1


def _check_filter(contacts: list[dict], stage_id: str | None, label_id: str | None,
                  name: str) -> None:
    """Apollo ignores filters it does not know and answers unfiltered: never trust that."""
    if stage_id:
        wrong = [c.get("id") for c in contacts if c.get("contact_stage_id") != stage_id]
        if wrong:
            raise SourceError(SYSTEM, f"Apollo answered a search for {name!r} with contacts "
                                      f"of other stages (e.g. {wrong[0]}); the stage filter was "
                                      f"ignored, so the pull cannot split the workspace.")
    if label_id:
        wrong = [c.get("id") for c in contacts if label_id not in (c.get("label_ids") or ())]
        if wrong:
            raise SourceError(SYSTEM, f"Apollo answered a search for {name!r} with contacts "
                                      f"not in that list (e.g. {wrong[0]}); the list filter "
                                      f"was ignored, so the pull cannot split the workspace.")


def _slice(group: str, label: str | None, name: str, *, total: int, size: int,
           walks: list, first_page: list | None, stage: str | None,
           at_least: bool = False) -> dict:
    """A slice of the plan: the contacts of ``group`` (and ``label``) to read in ``walks``.

    ``total`` is how many contacts count for it (its homes), ``size`` how many its search
    matches; ``at_least`` when that total came from a capped count (a lower bound).
    ``first_page`` is the first page of its first walk if already read.
    """
    slice_ = {"key": _key(group, label), "group": group, "name": name, "stage": stage,
              "label": label, "total": total, "size": size, "walks": walks, "walk": 0,
              "page": 1, "seen": 0, "at_least": at_least}
    if first_page is not None:
        slice_["page"] = 2
        if len(first_page) < PER_PAGE:
            slice_["walk"] = len(walks)  # all of it was on the first page
    return slice_


class _Planner:
    """Probes the workspace's stages and lays out the slices of a full pull.

    Probe pages are kept in ``pages`` (stored, and counted once the plan is whole). A group
    too large for both ends of its orders gets one slice marked ``split``: it is split by
    list later, step by step, while the pull runs (see :func:`_split_step`), so the many
    searches that takes are resumable like the rest. Its probe page goes to ``uncounted``:
    stored, but left for the split's slices to count.
    """

    def __init__(self, ctx: PullContext, source: ApolloSource, plan: dict):
        self.ctx, self.source, self.plan = ctx, source, plan
        self.pages: list[list[dict]] = []
        self.uncounted: list[dict] = []

    def lists(self) -> list[list[str]]:
        """The team's lists of contacts as ``[id, name]``, largest first (asked once; none
        without a master key)."""
        if "lists" not in self.plan:
            try:
                found = self.source.contact_lists()
            except PermissionDenied:
                self.plan["notes"].append(
                    "Apollo's lists could not be read (that needs a master API key), so large "
                    "stages were not split by list")
                found = []
            found.sort(key=lambda l: (-int(l.get("cached_count") or 0), str(l["id"])))
            self.plan["lists"] = [[str(l["id"]), str(l.get("name") or l["id"])] for l in found]
        return self.plan["lists"]

    def _group(self, group: str, name: str, count: int, *, size: int, stage: str | None,
               first_page: list | None, at_least: bool = False) -> None:
        at_least = at_least or _capped(count, self.source.cap)
        self.plan["groups"][group] = {"name": name, "total": count, "at_least": at_least}
        if (count > 2 * self.source.cap or at_least) and self.lists():
            # Split later: which slice its contacts count for is known only then.
            self.uncounted.extend(first_page or ())
            self.plan["groups"][group]["lists"] = []
            slice_ = _slice(group, None, name, total=count, size=size, walks=list(EVERY_END),
                            first_page=None, stage=stage, at_least=at_least)
            slice_["split"] = {"next": 0, "union": 0}
            self.plan["slices"].append(slice_)
            return
        if first_page is not None:
            self.pages.append(first_page)
        walks = _walks(count, self.source.cap) if stage and not at_least else list(EVERY_END)
        self.plan["slices"].append(_slice(group, None, name, total=count, size=size,
                                          walks=walks, first_page=first_page, stage=stage,
                                          at_least=at_least))

    def add_stage(self, stage_id: str, name: str) -> int:
        """Plan one stage; returns how many contacts it holds."""
        self.ctx.check_cancel()
        first = self.source.search(page=1, sort_by=CREATED_ASC[0], ascending=True,
                                   stage_ids=[stage_id])
        count = _total(first)
        if count:
            page = first.get("contacts") or []
            _check_filter(page, stage_id, None, name)
            self._group(stage_id, name, count, size=count, stage=stage_id, first_page=page)
        return count

    def add_no_stage(self, count: int) -> None:
        """Plan the contacts in no known stage (only unfiltered searches reach them); with a
        capped workspace total their number is only a lower bound."""
        self._group(NO_STAGE, "contacts without a known stage", count,
                    size=self.plan["total"], stage=None, first_page=None,
                    at_least=bool(self.plan.get("at_least")))


def _union(source: ApolloSource, plan: dict, group: str, labels: list[str]) -> int:
    """How many contacts of ``group`` are in any of ``labels`` (Apollo's list filter
    matches any of the lists given)."""
    def count(stage: str | None) -> int:
        return _total(source.search(page=1, per_page=1, sort_by=CREATED_ASC[0], ascending=True,
                                    stage_ids=[stage] if stage else None, label_ids=labels))

    if group != NO_STAGE:
        return count(group)
    # No filter selects "no stage": all of them, less those of each known stage.
    staged = sum(count(stage) for stage in plan["groups"] if stage not in (NO_STAGE, WHOLE))
    return max(0, count(None) - staged)


def _split_step(ctx: PullContext, source: ApolloSource, plan: dict, index: int,
                pages: _Pages) -> None:
    """Split the group of slice ``index`` by list, list after list, then finish splitting.

    Lists go largest first. A list's slice counts the group's contacts whose first list it
    is: the union count of the lists so far, less that of the lists before. Each list's
    first page is read here and its slice goes after the group's. Once every contact is in
    a list before, or the lists are done, the group's slice becomes its "in no list" slice,
    walked first from every end of the group's orders: the listed contacts those walks
    meet count for their lists, whose own walks then stop once the rest are found (near
    the middle of their orders) instead of reading every page. The plan changes only after
    a list's searches have answered and is committed with its pages, so a stop in between
    repeats one list's searches.
    """
    slice_ = plan["slices"][index]
    split, group = slice_["split"], plan["groups"][slice_["group"]]
    stage = slice_["stage"]
    while split["next"] < len(plan["lists"]) and split["union"] < group["total"]:
        ctx.check_cancel()
        label, label_name = plan["lists"][split["next"]]
        first = source.search(page=1, sort_by=CREATED_ASC[0], ascending=True,
                              stage_ids=[stage] if stage else None, label_ids=[label])
        size = _total(first)
        union = 0
        if size:
            union = (size if stage and not group["lists"]
                     else _union(source, plan, slice_["group"], [*group["lists"], label]))
        name = f"{group['name']}, list {label_name}"
        page = first.get("contacts") or []
        _check_filter(page, stage, label, name)
        split["next"] += 1
        if not size:
            continue
        group["lists"].append(label)
        home = max(0, union - split["union"])
        split["union"] = max(split["union"], union)
        if home:
            capped = _capped(size, source.cap) or _capped(union, source.cap)
            split["slices"] = split.get("slices", 0) + 1
            plan["slices"].insert(index + split["slices"],
                                  _slice(slice_["group"], label, name, total=home, size=size,
                                         walks=list(EVERY_END) if capped else _walks(size, source.cap),
                                         first_page=page, stage=stage, at_least=capped))
        _Homes(plan).count(pages.new_contacts(page))
        pages.add(page)
    slice_.update(split=None, name=f"{group['name']}, in no list",
                  total=max(0, group["total"] - split["union"]))


def _new_plan(ctx: PullContext, source: ApolloSource, prior_seen: str | None,
              result: SystemResult) -> dict:
    """Probe the workspace and decide the slices (each probe page is stored, not wasted).

    The plan is committed once every slice is known; a pull killed while probing starts
    a new plan (the probe pages it stored stay; unchanged rows cost nothing).
    """
    ctx.check_cancel()
    stages = _save_stages(ctx, source.contact_stages())
    probe = source.search(page=1, sort_by="contact_updated_at", ascending=False)
    total = _total(probe)
    contacts = probe.get("contacts") or []
    plan = {"version": PLAN_VERSION, "started_at": now_iso(),
            "top": _updated(contacts[0]) if contacts else None, "total": total,
            "at_least": _capped(total, source.cap),
            "groups": {}, "slices": [], "current": 0, "notes": []}
    with ctx.cache.transaction():
        ctx.cache.conn.execute("DELETE FROM pull_seen WHERE system = 'apollo'")
        # A full pull supersedes an unfinished incremental one.
        ctx.cache.conn.execute("DELETE FROM sync_state WHERE key = ?", (INCREMENTAL,))
    # The probe's contacts are stored but not counted as seen: the slices must reach them.
    pages = _Pages(ctx, prior_seen, result, FULL, plan, track_seen=True)
    pages.contacts.extend(contacts)
    if total < source.cap:
        plan["groups"][WHOLE] = {"name": "all contacts", "total": total}
        plan["slices"].append(_slice(WHOLE, None, "all contacts", total=total, size=total,
                                     walks=[CREATED_ASC], first_page=None, stage=None))
    else:
        planner = _Planner(ctx, source, plan)
        staged = sum(planner.add_stage(stage_id, f"stage {name}")
                     for stage_id, name in stages.items())
        known = set(stages)
        unstaged_seen = any(not c.get("contact_stage_id") or c["contact_stage_id"] not in known
                            for c in contacts)
        if staged < total or (plan["at_least"] and unstaged_seen):
            planner.add_no_stage(max(total - staged, 1))
        homes = _Homes(plan)
        for page in planner.pages:
            homes.count(pages.new_contacts(page))
            pages.contacts.extend(page)
        pages.contacts.extend(planner.uncounted)
    pages.commit()
    return plan


def _run_slices(ctx: PullContext, source: ApolloSource, plan: dict, prior_seen: str | None,
                result: SystemResult) -> None:
    """Walk every slice from where the plan says, committing pages with the plan."""
    pages = _Pages(ctx, prior_seen, result, FULL, plan, track_seen=True)
    try:
        index = plan["current"]
        while index < len(plan["slices"]):
            plan["current"] = index
            slice_ = plan["slices"][index]
            if slice_.get("split"):
                _split_step(ctx, source, plan, index, pages)  # then walk it
            homes = _Homes(plan)
            stage, label = slice_["stage"], slice_["label"]
            # A slice stops once all its contacts are seen, some perhaps by earlier slices;
            # one whose total is only a lower bound reads every walk to its end.
            while slice_["walk"] < len(slice_["walks"]) and (
                    slice_["seen"] < slice_["total"] or slice_.get("at_least")):
                ctx.check_cancel()
                sort_by, ascending = slice_["walks"][slice_["walk"]]
                contacts: list[dict] = []
                end_of_walk = slice_["page"] > source.max_pages
                if not end_of_walk:
                    answer = source.search(page=slice_["page"], sort_by=sort_by,
                                           ascending=ascending,
                                           stage_ids=[stage] if stage else None,
                                           label_ids=[label] if label else None)
                    contacts = answer.get("contacts") or []
                    _check_filter(contacts, stage, label, slice_["name"])
                    end_of_walk = len(contacts) < PER_PAGE or slice_["page"] >= source.max_pages
                    slice_["page"] += 1
                if end_of_walk:
                    slice_["walk"] += 1
                    slice_["page"] = 1
                homes.count(pages.new_contacts(contacts))
                _refresh_stages_if_unknown(ctx, source, contacts)
                pages.add(contacts)
                ctx.report(SYSTEM, "contacts", sum(s["seen"] for s in plan["slices"]),
                           plan["total"])
            index += 1
        plan["current"] = len(plan["slices"])
        pages.commit()
    except BaseException:
        if pages.pages:
            pages.commit()  # keep what was fetched before the stop
        raise


def _incomplete_reason(plan: dict, seen: int, short: list[dict], errors: int) -> str:
    """Why the snapshot is incomplete, with how many contacts were not reached and where."""
    missing = max(plan["total"] - seen, sum(s["total"] - s["seen"] for s in short))
    parts = [f"{s['name']}: reached {s['seen']} of {'at least ' if s.get('at_least') else ''}"
             f"{s['total']}" for s in short]
    if errors:
        parts.append(f"{errors} contact(s) could not be read")
    why = ["Apollo's search shows at most 50,000 contacts per filter, so a filter of more "
           "than 100,000 can only be read from the ends of its orders"]
    if any(s.get("at_least") for s in short):
        why.append("a search whose total is exactly the cap may hold more than it says, so "
                   "the contacts it reached cannot be shown to be all of them")
    if any(s["label"] is None and "lists" in plan["groups"].get(s["group"], {}) for s in short):
        why.append("contacts of a large stage that are in no list are reachable only that "
                   "way; putting them in a list in Apollo lets the next full pull reach them")
    else:
        why.append("splitting a large stage into smaller ones (or putting its contacts in "
                   "lists) in Apollo lets the next full pull reach them")
    why += plan.get("notes") or []
    return (f"The Apollo snapshot is incomplete: {seen} of "
            f"{'at least ' if plan.get('at_least') else ''}{plan['total']} contacts were "
            f"reached, {missing} not ({'; '.join(parts) or 'the totals do not add up'}). "
            f"{'. '.join(w[0].upper() + w[1:] for w in why)}. Contacts not reached are kept "
            f"as they were, never treated as deleted.")


def _finish_full(ctx: PullContext, plan: dict, result: SystemResult) -> bool:
    seen = _seen_count(ctx)
    # A slice whose total was capped may hold more than it says: it is short whatever it saw.
    short = [s for s in plan["slices"] if s["seen"] < s["total"] or s.get("at_least")]
    adds_up = sum(s["total"] for s in plan["slices"]) >= plan["total"]
    complete = (seen >= plan["total"] and adds_up and not short
                and not result.record_error_count)
    reason = "" if complete else _incomplete_reason(plan, seen, short,
                                                    result.record_error_count)
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
            result.status = PullStatus.COMPLETE if complete else PullStatus.INCOMPLETE
            with cache.transaction():
                if complete:
                    cache.set_state("apollo:last_complete", {"started_at": started,
                                                             "finished_at": now_iso()})
            if not complete:
                result.message = (f"{result.record_error_count} Apollo contact(s) could not be "
                                  f"read (listed with their ids).")
            return
    result.mode = "full"
    if plan is None or plan.get("version") != PLAN_VERSION:
        plan = _new_plan(ctx, source, prior_seen, result)
    _run_slices(ctx, source, plan, prior_seen, result)
    result.status = PullStatus.COMPLETE if _finish_full(ctx, plan, result) else PullStatus.INCOMPLETE

