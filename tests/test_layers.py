"""The package's layers hold: import-linter's contracts (``.importlinter``), no import cycle at
all, and the validator loads no protocol module."""

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = "sagellm_protocol"
PROTOCOL_MODULES = frozenset(
    f"{PACKAGE}.{name}"
    for name in (
        "core",
        "openai",
        "sampling",
        "kv",
        "backend",
        "comm",
        "compression",
        "hetero",
        "pd",
        "ports",
        "engine",
        "operators",
    )
)

pytestmark = pytest.mark.static


def test_import_linter_contracts_are_kept() -> None:
    # In a process of its own: import-linter's command configures logging, which would disable
    # the loggers of the package that later tests read.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_between_any_modules() -> None:
    """Stricter than the contract (which compares siblings): a package and its own modules
    count too. Imports inside functions and under TYPE_CHECKING are in grimp's graph."""
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycles(graph) == [["a.b", "a.c"]]


@pytest.mark.parametrize(
    "module", [f"{PACKAGE}.validation", f"{PACKAGE}._tree.analyse", f"{PACKAGE}._defaults"]
)
def test_the_engine_loads_no_protocol_module(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"from {PACKAGE}.validation import validate, collect_issues\n"
        "validate(list[int], [1])\n"
        "collect_issues(dict[str, int], {'a': 'b'})\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith('{PACKAGE}.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert f"{PACKAGE}._tree.analyse" in loaded
    assert [name for name in loaded if name.split(".")[:2] in _protocol_parts()] == []


def _protocol_parts() -> list[list[str]]:
    return [name.split(".") for name in PROTOCOL_MODULES]
