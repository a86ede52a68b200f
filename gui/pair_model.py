"""The list of pairs as a ``QAbstractTableModel``: windowed, lazy, usable at a million rows.

The model never holds the list. A query's rows live in the reader connection
(:mod:`core.store.pairs`); the model holds the row count and a small LRU of pages, and asks
the reader for a page the first time the view paints one of its rows (showing a blank row
for the few milliseconds that takes). All reading happens on the reader thread; the model
only ever runs on the main thread.

A new query first shows the query's first page (read with ``LIMIT``), then grows to the full
count when the snapshot is ready. Changing a pair's choice refreshes that row in place; the
row stays where it is until the next query, as in a file manager.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from core import labels, rules
from core.store.pairs import PAGE, SORT_KEYS, PairQuery, PairRow
from gui import theme
from gui.tasks import PRIO_PAGE, PRIO_QUERY, PRIO_SNAPSHOT, TaskManager

MAX_PAGES = 64  # pages kept in memory (16,384 rows)

COLUMNS = (
    ("name", "Name"),
    ("company", "Company"),
    ("apollo_email", "Apollo email"),
    ("direction", "⇄"),
    ("sf_email", "Salesforce email"),
    ("sync", "Sync"),
    ("rule", "Rule"),
    ("strength", "Strength"),
    ("status", "Status"),
    ("rule_code", "Rule code"),
)
COLUMN_KEYS = tuple(key for key, _ in COLUMNS)
OPTIONAL_COLUMNS = ("rule_code",)  # hidden until the user shows them (header's menu)
DIRECTION_COLUMN = COLUMN_KEYS.index("direction")

# Named roles: what a view or a test can ask of any cell.
LinkIdRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2
DirectionRole = Qt.ItemDataRole.UserRole + 3
UserChoiceRole = Qt.ItemDataRole.UserRole + 4
StatusRole = Qt.ItemDataRole.UserRole + 5
LoadedRole = Qt.ItemDataRole.UserRole + 6

_ROLES = {
    int(Qt.ItemDataRole.DisplayRole): "display",
    int(Qt.ItemDataRole.ForegroundRole): "foreground",
    int(Qt.ItemDataRole.BackgroundRole): "background",
    int(Qt.ItemDataRole.FontRole): "font",
    int(Qt.ItemDataRole.TextAlignmentRole): "align",
    int(Qt.ItemDataRole.ToolTipRole): "tooltip",
    int(Qt.ItemDataRole.AccessibleTextRole): "accessible",
    int(LinkIdRole): "link_id",
    int(RowRole): "row",
    int(DirectionRole): "direction",
    int(UserChoiceRole): "choice",
    int(StatusRole): "status",
    int(LoadedRole): "loaded",
}
_CENTER = Qt.AlignmentFlag.AlignCenter
_CENTERED = ("direction", "sync")
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags

_HEADER_TIPS = {
    "direction": "Which way the email will go: → Apollo to Salesforce, ← Salesforce to Apollo, "
                 "? needs review. Bold and highlighted: your choice; plain: the recommendation.",
    "sync": "What Apollo's own sync does next: its arrow while it is still due to act, "
            "≠ where it missed its chance (the two stay different until one is edited)",
    "rule": "The rule behind the recommendation",
    "strength": "How sure the recommendation is; Reconcile all applies strong ones only",
}


def _missing(system: str) -> str:
    return f"(no {system} record)"


class PairTableModel(QAbstractTableModel):
    """Rows of :class:`core.store.pairs.PairRow`, read page by page from the reader."""

    query_started = Signal(object)  # PairQuery
    first_page_shown = Signal(int, bool)  # rows shown, whether that is all of them
    query_settled = Signal(int)  # the query's full row count
    page_loaded = Signal(int)  # page number

    def __init__(self, tasks: TaskManager | None = None, parent=None):
        super().__init__(parent)
        self._tasks = tasks
        self._query = PairQuery()
        self._gen = 0
        self._count = 0
        self._total: int | None = 0
        self._token = None  # the reader's snapshot for this query, once ready
        self._pages: OrderedDict[int, list[PairRow]] = OrderedDict()
        self._pending: set[int] = set()
        self._last_page = -1
        self._bold = QFont()
        self._bold.setBold(True)

    # -- query --------------------------------------------------------------------------------

    @property
    def query(self) -> PairQuery:
        return self._query

    @property
    def total(self) -> int | None:
        """The query's row count, or None while the snapshot is still being built."""
        return self._total

    @property
    def loading(self) -> bool:
        return self._total is None

    def set_tasks(self, tasks: TaskManager | None) -> None:
        self.beginResetModel()
        self._tasks = tasks
        self._gen += 1
        self._count, self._total, self._token = 0, 0, None
        self._pages.clear()
        self._pending.clear()
        self.endResetModel()

    def set_query(self, query: PairQuery) -> None:
        """Show another query (the rows shown stay until its first page arrives)."""
        self._query = query
        self.refresh()

    def refresh(self) -> None:
        """Run the current query again (after the engine changed decisions)."""
        if self._tasks is None:
            return
        self._gen += 1
        gen = self._gen
        query = self._query
        self._tasks.reader.drop(lambda tag: isinstance(tag, tuple) and tag[0] == "list"
                                and tag[1] != gen)
        self.query_started.emit(query)
        self._total = None
        self._tasks.read(lambda r: r.list.first_page(query),
                         lambda result, error: self._on_first_page(gen, result, error),
                         PRIO_QUERY, ("list", gen))

    def _on_first_page(self, gen: int, result, error) -> None:
        if gen != self._gen:
            return
        if error is not None:
            self._report(error)
            return
        rows, complete = result
        self.beginResetModel()
        self._pages.clear()
        self._pending.clear()
        self._pages[0] = rows
        self._count = len(rows)
        self._token = None
        self._total = len(rows) if complete else None
        self.endResetModel()
        self.first_page_shown.emit(len(rows), complete)
        if complete:
            self.query_settled.emit(len(rows))
            return
        query = self._query
        self._tasks.read(lambda r: r.list.snapshot(query, gen),
                         lambda total, err: self._on_snapshot(gen, total, err),
                         PRIO_SNAPSHOT, ("list", gen))

    def _on_snapshot(self, gen: int, total, error) -> None:
        if gen != self._gen:
            return
        if error is not None:
            self._report(error)
            return
        self._token = gen
        self._total = total
        if total > self._count:
            self.beginInsertRows(QModelIndex(), self._count, total - 1)
            self._count = total
            self.endInsertRows()
        elif total < self._count:  # pairs left the view between the two reads
            self.beginRemoveRows(QModelIndex(), total, self._count - 1)
            self._count = total
            self.endRemoveRows()
        # Page 0 came from a separate read; take it from the snapshot too, to be consistent.
        self._request(0, force=True)
        self.query_settled.emit(total)

    def _report(self, error) -> None:
        from gui.errors import show_exception

        show_exception(None, error)

    # -- pages --------------------------------------------------------------------------------

    def _request(self, page: int, force: bool = False) -> None:
        if self._tasks is None or page in self._pending:
            return
        if self._token is None:
            return  # before the snapshot only the first page exists, and it is loaded
        if not force and page in self._pages:
            return
        self._pending.add(page)
        gen, token = self._gen, self._token
        self._tasks.read(lambda r: r.list.page(token, page * PAGE, PAGE),
                         lambda rows, err: self._on_page(gen, page, rows, err),
                         PRIO_PAGE, ("list", gen))

    def _on_page(self, gen: int, page: int, rows, error) -> None:
        if gen != self._gen:
            return
        self._pending.discard(page)
        if error is not None or rows is None:
            return
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        first = page * PAGE
        last = min(self._count, first + PAGE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self.page_loaded.emit(page)

    def row_data(self, row: int) -> PairRow | None:
        """The row at a position if loaded (requests it otherwise)."""
        if row < 0 or row >= self._count:
            return None
        page = row // PAGE
        rows = self._pages.get(page)
        if rows is None:
            self._request(page)
            return None
        if page != self._last_page:  # LRU touch once per page, not once per cell
            self._pages.move_to_end(page)
            self._last_page = page
        offset = row % PAGE
        return rows[offset] if offset < len(rows) else None

    def loaded_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def find_row(self, link_id: int) -> int | None:
        """The position of a link among the loaded pages, if loaded."""
        for page, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.link_id == link_id:
                    return page * PAGE + offset
        return None

    def refresh_links(self, link_ids) -> None:
        """Read the given pairs again and update their rows in place."""
        wanted = set(link_ids)
        if self._tasks is None or not wanted:
            return
        present = [row.link_id for rows in self._pages.values() for row in rows
                   if row.link_id in wanted]
        if not present:
            return
        gen = self._gen
        self._tasks.read(lambda r: r.list.rows_for(present),
                         lambda rows, err: self._on_refreshed(gen, rows, err),
                         PRIO_PAGE, ("list", gen))

    def _on_refreshed(self, gen: int, rows, error) -> None:
        if gen != self._gen or error is not None:
            return
        fresh = {row.link_id: row for row in rows}
        for page, page_rows in self._pages.items():
            changed = [i for i, row in enumerate(page_rows) if row.link_id in fresh]
            for i in changed:
                page_rows[i] = fresh[page_rows[i].link_id]
            if changed:
                first, last = page * PAGE + min(changed), page * PAGE + max(changed)
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def resolve_link_ids(self, ranges: list[tuple[int, int]],
                         done: Callable[[list[int]], None]) -> None:
        """The link ids of row ranges ``(first, last)``: a small selection from the loaded
        pages at once, anything else through the reader (never a loop over a big selection
        on the UI thread)."""
        ids: list[int] = []
        missing = ranges
        if sum(last - first + 1 for first, last in ranges) <= PAGE:
            missing = []
            for first, last in ranges:
                for row in range(first, last + 1):
                    data = self._peek(row)
                    if data is None:
                        missing.append((row, row))
                    else:
                        ids.append(data.link_id)
        if not missing:
            done(sorted(set(ids)))
            return
        ranges = missing
        token, gen = self._token, self._gen

        def finish(found, error):
            if gen == self._gen and error is None and found is not None:
                done(sorted(set(ids) | set(found)))
        self._tasks.read(lambda r: r.list.link_ids(token, ranges), finish, PRIO_QUERY,
                         ("list", gen))

    def _peek(self, row: int) -> PairRow | None:
        rows = self._pages.get(row // PAGE)
        if rows is None:
            return None
        offset = row % PAGE
        return rows[offset] if offset < len(rows) else None

    # -- Qt model interface -----------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        key, title = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return title
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(key, f"Sort by {title.lower()}")
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _CENTERED:
            return Qt.AlignmentFlag.AlignCenter
        return None

    def flags(self, index):
        return _FLAGS if index.isValid() else _NO_FLAGS

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMN_KEYS[column] if 0 <= column < len(COLUMNS) else None
        key = "rule" if key == "rule_code" else key  # both sort by the rule
        if key not in SORT_KEYS:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self._query.sort and descending == self._query.descending:
            return
        self.set_query(self._query.with_(sort=key, descending=descending))

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        # Called for every painted cell and role: plain ints and one dict lookup first.
        kind = _ROLES.get(int(role))
        if kind is None or not index.isValid():
            return None
        row = self.row_data(index.row())
        key = COLUMN_KEYS[index.column()]
        if kind == "loaded":
            return row is not None
        if row is None:
            return "…" if kind == "display" and key == "name" else None
        if kind == "display":
            return self._display(row, key)
        if kind == "foreground":
            return self._foreground(row, key)
        if kind == "background":
            return theme.colour("accent_bg") if key == "direction" and row.user_chose else None
        if kind == "font":
            return self._bold if key == "direction" and row.user_chose else None
        if kind == "align":
            return _CENTER if key in _CENTERED else None
        if kind == "tooltip":
            return self._tooltip(row, key)
        if kind == "link_id":
            return row.link_id
        if kind == "row":
            return row
        if kind == "direction":
            return row.direction
        if kind == "choice":
            return row.choice
        if kind == "status":
            return row.status
        if kind == "accessible":
            if key == "direction":
                who = "your choice" if row.user_chose else "recommended"
                return f"{labels.direction_sentence(row.direction, row.choice_email)} ({who})"
            return self._display(row, key)
        return None

    @staticmethod
    def _display(row: PairRow, key: str) -> str:
        if key == "name":
            return row.name
        if key == "company":
            return row.company
        if key == "apollo_email":
            return _missing("Apollo") if row.apollo_missing else (row.apollo_email or "(blank)")
        if key == "sf_email":
            return _missing("Salesforce") if row.sf_missing else (row.sf_email or "(blank)")
        if key == "direction":
            return labels.direction_glyph(row.direction, row.rec_rule)
        if key == "sync":
            return labels.sync_glyph(row.native_winner, row.outcome)
        if key == "rule":
            return labels.rule_words(row.rec_rule)
        if key == "rule_code":
            return row.rec_rule
        if key == "strength":
            return labels.STRENGTH_LABELS.get(row.strength, row.strength)
        if key == "status":
            return labels.STATUS_LABELS.get(row.status, row.status)
        return ""

    @staticmethod
    def _tooltip(row: PairRow, key: str) -> str | None:
        if key == "direction":
            rec = labels.direction_sentence(row.rec_winner, rule=row.rec_rule)
            text = f"Recommended: {rec} ({row.rec_rule}, {row.strength})."
            if row.user_chose:
                text = (f"Your choice: {labels.direction_sentence(row.choice, row.choice_email)}."
                        f"\n{text}")
            native = labels.direction_sentence(row.native_winner, rule=row.native_rule)
            text += f"\nApollo's own sync will {native} ({row.native_rule})."
            if row.in_flight:
                text += "\nA Salesforce edit is in flight: Apollo will pull it soon."
            return text
        if key == "sync":
            return labels.outcome_sentence(row.outcome, row.due, row.missed_cause)
        if key in ("rule", "rule_code"):
            text = f"{labels.rule_words(row.rec_rule)} ({row.rec_rule}).\n{row.reason}"
            if row.native_rule != row.rec_rule:
                text += f"\nApollo's sync alone: {row.native_rule}."
            return text
        if key == "status" and row.error:
            return row.error
        if key in ("apollo_email", "sf_email") and row.hints:
            return "Hints: " + ", ".join(row.hints.split())
        return None

    @staticmethod
    def _foreground(row: PairRow, key: str):
        if key == "apollo_email" and row.apollo_missing or key == "sf_email" and row.sf_missing:
            return theme.colour("muted")
        if key == "status":
            if row.status in ("failed", "conflict"):
                return theme.colour("danger")
            if row.status in ("chosen", "applied"):
                return theme.colour("success")
            if row.status in ("skipped", "in_sync"):
                return theme.colour("muted")
        if key == "direction":
            if row.user_chose:
                return theme.colour("accent")
            if row.direction == "none" and row.rec_rule != rules.SAME:
                return theme.colour("warning")
        if key == "sync" and row.outcome == "missed":
            return theme.colour("danger")
        if key == "strength" and row.strength == "review":
            return theme.colour("warning")
        return None
