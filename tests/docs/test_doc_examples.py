"""Every code example on the documentation site runs, and shows what it prints.

The conventions (which blocks run, how fragments and outputs are marked) are in doc_blocks.py
and on the Architecture page. The python blocks of a page run in order in one module
namespace, as a reader would paste them into one session.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from doc_blocks import ROOT, Block, blocks, pages, transcript

PAGES = [page for page in pages() if blocks(page)]
MARKED_LANGUAGES = {("fragment", "python"), ("output", "text"), ("run", "console")}


def run_python(block: Block, namespace: types.ModuleType) -> str:
    printed = io.StringIO()
    code = compile(block.code, block.where, "exec")
    with contextlib.redirect_stdout(printed):
        exec(code, namespace.__dict__)
    return printed.getvalue()


def run_console(block: Block) -> str:
    script, _ = transcript(block)
    # The installed `sagellm-protocol` (and `python`) of the interpreter running the tests.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_page_examples_run_and_print_what_they_show(page: Path) -> None:
    namespace = types.ModuleType(f"doc_example_{page.stem}")
    sys.modules[namespace.__name__] = namespace  # dataclasses and pickling look their module up
    printed = ""
    try:
        for block in blocks(page):
            if block.language == "python" and block.marker is None:
                printed += run_python(block, namespace)
            elif block.marker == "output":
                assert printed == block.code, f"{block.where}: the output shown differs"
                printed = ""
            elif block.marker == "run":
                assert run_console(block) == transcript(block)[1], f"{block.where}: output differs"
    finally:
        del sys.modules[namespace.__name__]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_markers_are_used_as_documented(page: Path) -> None:
    misused = [
        f"{block.where}: {block.marker} on a {block.language or 'plain'} block"
        for block in blocks(page)
        if block.marker is not None and (block.marker, block.language) not in MARKED_LANGUAGES
    ]
    unexplained = [
        f"{block.where}: a fragment needs a reason: <!-- fragment: why it does not run -->"
        for block in blocks(page)
        if block.marker == "fragment" and not block.reason
    ]
    assert misused + unexplained == []


def test_the_conventions_find_what_they_should() -> None:
    page = next(page for page in PAGES if page.name == "architecture.md")
    markers = {(block.language, block.marker) for block in blocks(page)}
    assert {("python", "fragment"), ("text", "output"), ("console", "run")} <= markers
