"""The fenced code blocks of the documentation pages, with the HTML comment that marks each.

A block's marker is an HTML comment on the line right before its opening fence (blank lines
between are allowed); the rendered site does not show it:

- ``<!-- fragment: REASON -->`` before a ``python`` block: not executed, for the reason given
  (an excerpt of a larger program, a server that must be running, ...);
- ``<!-- output -->`` before a ``text`` block: what the ``python`` blocks since the previous
  output block print, compared exactly;
- ``<!-- run -->`` before a ``console`` block: a transcript, ``$ command`` lines (a heredoc's
  body belongs to its command) followed by what they print, run and compared exactly.

Every other ``python`` block is executed; other ``console`` blocks (installs, commands that
need a network or a server) are shown, not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<kind>fragment|output|run)(?::\s*(?P<reason>.*?))?\s*-->$")
_HEREDOC = re.compile(r"<<-?\s*'?\"?(?P<word>\w+)'?\"?")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int
    """1-based line of the opening fence."""
    language: str
    """The info string's first word: ``python``, ``console``, ``text``, ... (``""`` if none)."""
    marker: str | None
    """``fragment``, ``output`` or ``run`` (see the module docstring), else ``None``."""
    reason: str
    """A fragment's reason; ``""`` for the other markers."""
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site, sorted."""
    return sorted(DOCS.rglob("*.md"))


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        code = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
        kind, reason = _marker_before(lines, index)
        language = opening["info"].strip().split(" ")[0].strip("{}.")
        found.append(Block(page, index + 1, language, kind, reason, code))
        index = end + 1
    return found


def _marker_before(lines: list[str], fence: int) -> tuple[str | None, str]:
    previous = fence - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    marker = _MARKER.match(lines[previous].strip()) if previous >= 0 else None
    if marker is None:
        return None, ""
    return marker["kind"], (marker["reason"] or "").strip()


def transcript(block: Block) -> tuple[str, str]:
    """A ``console`` transcript as (the shell script of its commands, the output it shows)."""
    script: list[str] = []
    output: list[str] = []
    lines = block.code.rstrip("\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            output.append(line)
            index += 1
            continue
        script.append(line[2:])
        heredoc = _HEREDOC.search(line)
        if heredoc is not None:
            while index + 1 < len(lines):
                index += 1
                script.append(lines[index])
                if lines[index].strip() == heredoc["word"]:
                    break
        index += 1
    return "\n".join(script) + "\n", "\n".join(output) + "\n" if output else ""
