"""The layering of DESIGN §1, checked on the import graph of core/ and gui/.

Each layer imports only itself and the layers below it:

    gui, core.cli                      (the two shells; gui never imports core.cli)
    core.sync, core.report             (the workflows)
    core.store, core.sources, core.rules, core.matching, core.labels
    core.credentials, core.workspace   (the profile and the keyring: no cache, no network)
    core.model, core.emails, core.defaults

core.sandbox is a world of its own: it may use the cache and the rules (its generator writes a
cache for demos and benchmarks) but nothing that talks to it, and only the shells and the demo
workflow start it; its Salesforce emulator keeps its own email rule (never core.emails, so a
mistake there is caught, not mirrored). Every import counts, including those inside
functions, and no module may reach itself through imports (no cycles). Qt is imported only
under gui/.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")

# Rank of each package: an import may go to an equal or lower rank only.
RANKS = {
    "core.model": 0, "core.emails": 0, "core.defaults": 0,
    "core.credentials": 1, "core.workspace": 1,
    "core.store": 2, "core.sources": 2, "core.rules": 2, "core.matching": 2, "core.labels": 2,
    "core.sync": 3, "core.report": 3,
    "core.cli": 4, "gui": 4,
    "core.sandbox": 2,
}
# The process entry point dispatches to the window or to the command line.
ENTRY_POINT = "gui.launcher"
# Who may start the emulators, besides tests and benchmarks.
SANDBOX_USERS = ("core.cli", "core.sync.demo", "gui", "core.sandbox")
# What the sandbox may use of the rest of core.
SANDBOX_USES = ("core.sandbox", "core.model", "core.emails", "core.defaults", "core.rules",
                "core.store")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in ("core", "gui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The modules of core/ and gui/ (and Qt) that a file imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            targets = [str(node.args[0].value)]
        for target in targets:
            if target.split(".")[0] in QT:
                out.add(target.split(".")[0])
            elif target in known:
                out.add(target)
    out.discard(name)
    return out


def rank(name: str) -> int | None:
    best = None
    for prefix in RANKS:
        if name == prefix or name.startswith(prefix + "."):
            if best is None or len(prefix) > len(best):
                best = prefix
    return RANKS[best] if best else None


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            if target in QT:
                if not source.startswith("gui"):
                    found.append(f"{source} imports Qt ({target})")
                continue
            if within(target, ("gui",)) and not source.startswith("gui"):
                found.append(f"{source} imports the window ({target})")
            elif within(target, ("core.cli",)) and source.startswith("gui") \
                    and source != ENTRY_POINT:
                found.append(f"{source} imports the command line ({target})")
            elif within(target, ("core.sandbox",)) and not within(source, SANDBOX_USERS):
                found.append(f"{source} starts or reads the sandbox ({target})")
            elif within(source, ("core.sandbox.salesforce",)) and target == "core.emails":
                found.append(f"the Salesforce emulator ({source}) borrows Concord's email rule")
            elif within(source, ("core.sandbox",)) and not within(target, SANDBOX_USES):
                found.append(f"the sandbox ({source}) imports {target}")
            elif not within(source, ("core.sandbox",)) and not within(target, ("core.sandbox",)):
                rs, rt = rank(source), rank(target)
                if rs is not None and rt is not None and rt > rs:
                    found.append(f"{source} (layer {rs}) imports {target} (layer {rt})")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def package_parents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first; the edges from a
    module to its own packages are not cycles of the code, so they are left out."""
    pruned = {}
    for source, targets in graph.items():
        pruned[source] = {t for t in targets if not source.startswith(t + ".")}
    return pruned


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return package_parents({name: imported(path, name, known) for name, path in known.items()})


def test_the_scan_sees_both_packages(graph):
    assert len([m for m in graph if m.startswith("core.")]) > 40
    assert len([m for m in graph if m.startswith("gui.")]) > 10
    assert graph["core.sync.pull"] >= {"core.sync.pull_apollo", "core.store.cache"}


def test_every_import_follows_the_layers(graph):
    assert violations(graph) == []


def test_no_import_cycles(graph):
    assert cycles(graph) == []


@pytest.mark.parametrize("graph_, expected", [
    ({"core.rules": {"PySide6"}}, ["core.rules imports Qt (PySide6)"]),
    ({"core.sync.pull": {"gui.tasks"}}, ["core.sync.pull imports the window (gui.tasks)"]),
    ({"gui.main_window": {"core.cli.pull"}},
     ["gui.main_window imports the command line (core.cli.pull)"]),
    ({"gui.launcher": {"core.cli"}}, []),
    ({"core.store.pairs": {"core.sync.reconcile"}},
     ["core.store.pairs (layer 2) imports core.sync.reconcile (layer 3)"]),
    ({"core.sources.apollo": {"core.sandbox.apollo"}},
     ["core.sources.apollo starts or reads the sandbox (core.sandbox.apollo)"]),
    ({"core.sandbox.dataset": {"core.sync.reconcile"}},
     ["the sandbox (core.sandbox.dataset) imports core.sync.reconcile"]),
    ({"core.sandbox.dataset": {"core.store.cache"}}, []),
    ({"core.sandbox.salesforce.store": {"core.emails"}},
     ["the Salesforce emulator (core.sandbox.salesforce.store) borrows Concord's email rule"]),
    ({"core.sandbox.dataset": {"core.emails"}}, []),
    ({"core.sync.pull": {"core.store.cache"}}, []),
])
def test_the_check_catches_each_kind_of_wrong_import(graph_, expected):
    assert violations(graph_) == expected


def test_the_check_catches_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
