"""The window's commands, once: key, command, label. Shortcuts, menus, toolbar, the panel's
buttons and the keyboard help are all built from this table.

A *list key* is a single character the list of pairs reacts to (never while typing in a
box); a *shortcut* is a window-wide key sequence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One thing the user can do, with the keys that do it and the words that name it."""

    name: str  # what the window dispatches on
    label: str  # menu, toolbar and button text
    tip: str  # tooltip, status tip and the line in the keyboard help
    icon: str | None = None
    list_keys: tuple[str, ...] = ()  # characters typed on the list; the first is shown
    shortcut: str | None = None  # a window-wide key sequence
    help_keys: str | None = None  # how the help writes the keys when neither of the above
    short: str | None = None  # the button's text where the full label does not fit

    @property
    def key_text(self) -> str:
        """The keys as the help, tooltips and menus show them."""
        if self.list_keys:
            return " or ".join(k.upper() if k.isalpha() else k for k in self.list_keys)
        return self.help_keys or self.shortcut or ""


# Commands on the highlighted pairs, in the order of the panel's buttons.
PAIR_COMMANDS = (
    Command("accept", "Apply recommendation", "Choose what Concord recommends", "accept", ("a",),
            short="Apply"),
    Command("apollo", "Keep Apollo", "Keep Apollo's address (write it to Salesforce)",
            "keep-apollo", (">", "."), short="Apollo"),
    Command("salesforce", "Keep Salesforce", "Keep Salesforce's address (write it to Apollo)",
            "keep-salesforce", ("<", ","), short="Salesforce"),
    Command("skip", "Skip", "Leave the pair as it is", "skip", ("/",)),
    Command("edit", "Type new value…",
            "Type the address both systems should hold (one pair at a time; validated as "
            "Salesforce would)", "edit", ("e",), short="Type…"),
    Command("revert", "Back to recommendation",
            "Forget your choice: the pair follows the recommendation again", "revert", ("r",),
            short="Back"),
    Command("go", "Go: write…", "Write the highlighted pairs to Apollo and Salesforce (after a "
            "confirmation)", "go", ("g",), short="Go"),
)

WINDOW_COMMANDS = (
    Command("reconcile", "Reconcile all", "Pull both systems, match, decide, then confirm the "
            "writes", "reconcile", shortcut="F5"),
    Command("undo", "Undo", "Undo the last choice", shortcut="Ctrl+Z"),
    Command("redo", "Redo", "Do the undone choice again", shortcut="Ctrl+Shift+Z"),
    Command("filter", "Filter…", "Filter by name, company or email; Esc or Down returns to "
            "the list", "search", shortcut="Ctrl+F"),
    Command("settings", "Settings…", "Apollo's sync settings, the preset and the theme",
            "settings", shortcut="Ctrl+,"),
    Command("connect", "Connect…", "Sign in to Salesforce and Apollo", "connect"),
    Command("history", "Run history…", "Every run: what it wrote, and its outcome", "history"),
    Command("export", "Export report…", "Write a report of the pairs", "export"),
    Command("sync", "Let Apollo sync", "Run Apollo's own 30-minute pull in the sandbox now, "
            "then read both systems again", "sync"),
    Command("keys", "Keyboard shortcuts", "This list", "keyboard", shortcut="F1"),
    Command("about", "About Concord", "Version and purpose", "info"),
    Command("quit", "Quit", "Close the window", shortcut="Ctrl+Q"),
)

# Keys the list and the window handle on their own (Qt's), listed in the help only.
NAVIGATION_HELP = (
    ("Up / Down, Page Up / Page Down", "Move to another pair"),
    ("Home / End", "The first or the last pair"),
    ("Shift + any of these, Shift+click", "Highlight several pairs: a key acts on all of them"),
    ("Ctrl+A", "Highlight every pair in the list"),
    ("Enter / Esc", "From the list to the pair's buttons, and back"),
    ("Tab / Shift+Tab", "Move between the filter, the list and the buttons"),
)

BY_NAME = {c.name: c for c in PAIR_COMMANDS + WINDOW_COMMANDS}
LIST_KEYS = {key: c.name for c in PAIR_COMMANDS for key in c.list_keys}


def help_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for every command with a key, then navigation."""
    rows = [(c.key_text, c.tip) for c in PAIR_COMMANDS + WINDOW_COMMANDS if c.key_text]
    return rows + list(NAVIGATION_HELP)
