"""Regenerate every generated file, then build the documentation site.

Usage: ``python scripts/regenerate.py [--no-docs]``, from the development install
(``pip install -e '.[dev]'``; the site needs ``'.[docs]'`` too). In order:

1. the key docstrings and invariant notes read from the source at build time
   (``scripts/generate_source_notes.py`` writes ``src/sagellm_protocol/_source_notes.py``);
2. the stubs, which copy the docstrings (``scripts/generate_stubs.py``);
3. the wire snapshot (``sagellm-protocol snapshot > contracts/protocol-v0.1.json``);
4. the protocol reference (``sagellm-protocol reference > docs/protocol.md``);
5. the site (``mkdocs build --strict`` into ``site/``), unless ``--no-docs``.

Each step runs in a fresh interpreter, so it reads what the steps before it wrote. The drift
tests (``tests/unit/test_source_notes.py``, ``tests/test_stubs.py``,
``tests/unit/test_snapshot.py``) name this command. Stops at the first step that fails, with its
exit status.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLI = [PYTHON, "-m", "sagellm_protocol"]

STEPS: list[tuple[list[str], Path | None]] = [
    ([PYTHON, "scripts/generate_source_notes.py"], None),
    ([PYTHON, "scripts/generate_stubs.py"], None),
    ([*CLI, "snapshot"], ROOT / "contracts" / "protocol-v0.1.json"),
    ([*CLI, "reference"], ROOT / "docs" / "protocol.md"),
]
DOCS_STEP: tuple[list[str], Path | None] = ([PYTHON, "-m", "mkdocs", "build", "--strict"], None)


def run(command: list[str], output: Path | None) -> int:
    """Run ``command`` in the checkout; with ``output``, its stdout replaces that file."""
    shown = " ".join(
        Path(command[0]).name if index == 0 else part for index, part in enumerate(command)
    )
    print(f"== {shown}" + (f" > {output.relative_to(ROOT)}" if output else ""), flush=True)
    if output is None:
        return subprocess.run(command, cwd=ROOT, check=False).returncode
    result = subprocess.run(command, cwd=ROOT, check=False, stdout=subprocess.PIPE)
    if result.returncode == 0:  # a failed step leaves the committed file as it was
        output.write_bytes(result.stdout)
    return result.returncode


def main(argv: list[str]) -> int:
    if argv not in ([], ["--no-docs"]):
        print("usage: python scripts/regenerate.py [--no-docs]", file=sys.stderr)
        return 2
    steps = STEPS if argv else [*STEPS, DOCS_STEP]
    for command, output in steps:
        status = run(command, output)
        if status != 0:
            print(f"regenerate: step failed with exit status {status}", file=sys.stderr)
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
