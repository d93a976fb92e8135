"""Write ``src/sagellm_protocol/_source_notes.py``: what the package's source says and its
bytecode does not keep, so that an install without ``.py`` files behaves the same.

Usage: ``python scripts/generate_source_notes.py [OUTPUT]``; by default it rewrites the module in
place. ``tests/unit/test_source_notes.py`` fails until the module is current.

Two things are lost when Python compiles a module:

- the docstring literal under each ``TypedDict`` key (JSON Schema ``description``, the protocol
  snapshot): recorded by ``"module:qualname"`` of the class, key by key;
- the definition of each quick invariant predicate (``register_invariant(..., holds=f)``) that
  is a one-parameter, one-``return`` function, for the compiled checker to inline its
  expression; with its first line, so that a note is used only for the function it was
  written from.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "sagellm_protocol"
OUTPUT = SOURCE / "_source_notes.py"
PACKAGE = "sagellm_protocol"
REGENERATE = "python scripts/generate_source_notes.py"
if str(SOURCE.parent) not in sys.path:
    sys.path.insert(0, str(SOURCE.parent))  # this checkout's package, installed or not

HEADER = f'''# ruff: noqa: E501
"""What the package source says that its bytecode does not keep (generated; do not edit).

Written by ``{REGENERATE}`` from the source, so that behaviour does not depend on the
``.py`` files being installed: JSON Schema descriptions read :data:`KEY_DOCS`, and the compiled
checker inlines the quick invariant predicates of :data:`INLINABLE_FUNCTIONS`.
"""

from typing import Final

__all__ = ["INLINABLE_FUNCTIONS", "KEY_DOCS"]
'''


def modules() -> dict[str, Path]:
    """Every module of the package by name, with its source file."""
    found: dict[str, Path] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def key_docs() -> dict[str, dict[str, str]]:
    """The docstring of each documented key of each class, by ``"module:qualname"``."""
    from sagellm_protocol._tree.analyse import source_key_docs

    found: dict[str, dict[str, str]] = {}
    for name in imported_modules():
        for qualname, docs in source_key_docs(name).items():
            found[f"{name}:{qualname}"] = docs
    return dict(sorted(found.items()))


def imported_modules() -> list[str]:
    """Every module of the package, imported (``__main__`` and these notes aside)."""
    names = []
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if path != OUTPUT and parts[-1] != "__main__":
            importlib.import_module(name)
            names.append(name)
    return names


def inlinable_functions() -> dict[str, tuple[int, str]]:
    """The definition of each quick predicate registered in the package that returns one
    expression (the compiled checker inlines it), by ``"module:qualname"``."""
    imported_modules()
    from sagellm_protocol._registry import INVARIANTS
    from sagellm_protocol.validation._compile import returned_expression_of

    found: dict[str, tuple[int, str]] = {}
    for rules in list(INVARIANTS.values()):
        for rule in rules:
            holds = rule.holds
            if holds is None or not holds.__module__.startswith(PACKAGE):
                continue
            source = textwrap.dedent(inspect.getsource(holds))
            if returned_expression_of(source) is not None:
                key = f"{holds.__module__}:{holds.__qualname__}"
                found[key] = (holds.__code__.co_firstlineno, source)
    return dict(sorted(found.items()))


def render() -> str:
    lines = [HEADER]
    lines.append(f"KEY_DOCS: Final[dict[str, dict[str, str]]] = {key_docs()!r}")
    lines.append('"""Each documented key\'s docstring, by ``"module:qualname"`` of its class."""')
    lines.append("")
    functions = inlinable_functions()
    lines.append(f"INLINABLE_FUNCTIONS: Final[dict[str, tuple[int, str]]] = {functions!r}")
    lines.append(
        '"""The first line and definition of each quick invariant predicate that returns one '
        'expression,\nby ``"module:qualname"``."""'
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    output.write_text(render(), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", str(output)], cwd=ROOT, check=True
    )
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
