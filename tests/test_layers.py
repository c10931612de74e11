"""The layers of hsvc: imports point one way, no cycles, and docs/explanation/architecture.md is true.

Every import is read from the source with ``ast``, including those inside
functions and under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hsvc"
ARCHITECTURE = ROOT / "docs" / "explanation" / "architecture.md"

# cli -> commands -> (core, adapters, render); errors and the package root sit with core.
RANKS = {"core": 0, "errors": 0, "": 0, "adapters": 1, "render": 1, "commands": 2, "cli": 3}
CLI_MODULES = {
    "hsvc.cli",
    "hsvc.cliapp",
    "hsvc.outstreams",
    "hsvc.coercion",
    "hsvc.flags",
    "hsvc.present",
    "hsvc.terminal",
    "hsvc.__main__",
    "hsvc.entry",
    "hsvc.helptext",
}
# Libraries that would mean render talks to a cluster or a DNS server.
ADAPTER_LIBRARIES = {"kubernetes", "dns", "urllib3", "websocket"}


@functools.cache
def source_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.cache
def parsed(path: Path) -> ast.Module:
    """Each module is parsed once for the whole file of tests."""
    return ast.parse(source_of(path))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: Iterable[str]) -> tuple[set[str], set[str]]:
    """Return (hsvc modules, third-party top-level names) that ``path`` imports."""
    known = set(known)
    internal: set[str] = set()
    third: set[str] = set()

    def add(name: str) -> None:
        if name == "hsvc" or name.startswith("hsvc."):
            internal.add(name)
        elif name.split(".")[0] not in sys.stdlib_module_names and name != "__future__":
            third.add(name.split(".")[0])

    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in known else base)
    return internal, third


@functools.cache
def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    found = modules()
    internal, third = {}, {}
    for name, path in found.items():
        internal[name], third[name] = imports_of(path, found)
    return internal, third


def layer(module: str) -> str:
    if module in CLI_MODULES:
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """Imports that run back up the layers, or sideways between render and adapters."""
    bad = []
    for importer, targets in edges.items():
        mine = layer(importer)
        for target in targets:
            theirs = layer(target)
            same = mine == theirs
            if mine in ("core", "errors", ""):
                ok = theirs == "core" and mine == "core"
            else:
                ok = same or RANKS[theirs] < RANKS[mine]
            if not ok:
                bad.append(f"{importer} -> {target}")
    return bad


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """One import cycle as a path (first node repeated at the end), or []."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def reachable(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def table() -> dict[str, set[str]]:
    """The module table of architecture.md: module -> what it may import."""
    rows = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(hsvc/[^`]+\.py)` \|[^|]*\|(.*)\|\s*$", line)
        if match:
            name = module_name(ROOT / match.group(1))
            assert name not in rows, f"{match.group(1)} has two rows"
            rows[name] = set(re.findall(r"`([^`]+)`", match.group(2)))
    return rows


def allowed(name: str, tokens: set[str]) -> bool:
    return any(name == t or (t != "hsvc" and name.startswith(t + ".")) for t in tokens)


# --- the contract ---------------------------------------------------------------------


def test_every_module_has_a_row_and_every_row_a_module() -> None:
    rows, found = set(table()), set(modules())
    assert not found - rows, f"add a row to docs/explanation/architecture.md: {found - rows}"
    assert not rows - found, f"drop the row from docs/explanation/architecture.md: {rows - found}"


def test_each_module_imports_only_what_its_row_lists() -> None:
    rows = table()
    internal, third = graph()
    wrong = [
        f"{module} imports {target}: list it in the module's row of "
        "docs/explanation/architecture.md, if the layers allow it"
        for module in sorted(internal)
        for target in sorted(internal[module] | third[module])
        if not allowed(target, rows.get(module, set()))
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_runs_back_up_the_layers() -> None:
    internal, _ = graph()
    assert not upward(internal)


def test_there_is_no_import_cycle() -> None:
    internal, _ = graph()
    assert not find_cycle(internal)


def test_render_reaches_no_adapter_even_transitively() -> None:
    internal, third = graph()
    for module in (m for m in internal if m.startswith("hsvc.render")):
        reached = reachable(module, internal)
        assert not {m for m in reached if m.startswith(("hsvc.adapters", "hsvc.commands"))}
        libraries = set().union(*(third[m] for m in reached | {module}))
        assert not libraries & ADAPTER_LIBRARIES, (module, libraries & ADAPTER_LIBRARIES)


MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "deque", "WeakKeyDictionary"}


def test_adapters_hold_no_module_level_mutable_state() -> None:
    for path in sorted((PACKAGE / "adapters").glob("*.py")):
        tree = parsed(path)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Global), f"{path.name}:{node.lineno}: global"
        for node in tree.body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if value is None:
                continue
            mutable = isinstance(
                value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp
            )
            if isinstance(value, ast.Call):
                func = value.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                mutable = called in MUTABLE_CALLS
            targets = [
                ast.unparse(t) for t in getattr(node, "targets", [getattr(node, "target", None)])
            ]
            assert not mutable or targets == ["__all__"], f"{path.name}:{node.lineno}: {targets}"


# --- the checks themselves can fail ----------------------------------------------------


@pytest.mark.parametrize(
    ("edge", "bad"),
    [
        (("hsvc.render.table", "hsvc.commands.source"), True),
        (("hsvc.render.sarif", "hsvc.adapters.kubeapi"), True),
        (("hsvc.adapters.resolver", "hsvc.render.table"), True),
        (("hsvc.core.model", "hsvc.errors"), True),
        (("hsvc.commands.inspect", "hsvc.cli"), True),
        (("hsvc.errors", "hsvc.core.model"), True),
        (("hsvc.cli", "hsvc.render.table"), False),
        (("hsvc.commands.source", "hsvc.adapters.kubeapi"), False),
        (("hsvc.adapters.kubeapi", "hsvc.adapters.kuberest"), False),
        (("hsvc.render.data", "hsvc.core.report"), False),
    ],
    ids=lambda v: "->".join(v) if isinstance(v, tuple) else str(v),
)
def test_upward_finds_imports_against_the_layers(edge: tuple[str, str], bad: bool) -> None:
    assert bool(upward({edge[0]: [edge[1]]})) is bad


def test_find_cycle_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
LONG_REASON = "# long:"


def test_no_module_is_over_600_lines() -> None:
    """Modules with one job each stay short; a file over the limit wants splitting."""
    over = {
        str(path.relative_to(ROOT)): lines
        for path in modules().values()
        if (lines := len(source_of(path).splitlines())) > MAX_FILE_LINES
    }
    assert not over, f"split these modules (over {MAX_FILE_LINES} lines): {over}"


def long_functions(source: str, tree: ast.Module | None = None) -> list[tuple[str, int, int]]:
    """(name, line, length) of each function over the limit without a reason above it.

    The length runs from the ``def`` line to the last line, docstring included; the
    reason is a ``# long: <why>`` comment on the line above the function (or above
    its decorators).
    """
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree or ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        top = min([d.lineno for d in node.decorator_list] + [node.lineno])
        above = lines[top - 2].strip() if top >= 2 else ""
        if length > MAX_FUNCTION_LINES and not above.startswith(LONG_REASON):
            found.append((node.name, node.lineno, length))
    return found


def test_no_function_is_over_80_lines_without_a_reason() -> None:
    long = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for path in modules().values()
        for name, line, length in long_functions(source_of(path), parsed(path))
    ]
    assert not long, (
        f"split these functions, or say why one is clearer long ({LONG_REASON} ...): {long}"
    )


def test_long_functions_finds_long_ones_and_accepts_a_reason() -> None:
    body = "".join(f"    x = {i}\n" for i in range(MAX_FUNCTION_LINES))
    source = (
        f"def short():\n    pass\n\n\ndef long():\n{body}\n\n# long: a table\ndef fine():\n{body}"
    )
    assert long_functions(source) == [("long", 5, MAX_FUNCTION_LINES + 1)]
