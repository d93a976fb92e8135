"""The dependency on the original: ``isagellm-protocol`` pinned below 1.0 becomes the successor
``isagellm-protocol>=1.0`` in ``pyproject.toml`` (PEP 621 arrays and Poetry tables),
``requirements*.txt``, ``setup.cfg`` and string literals of ``setup.py``; every other byte of
the file stays as it was."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from ._codemod import Finding

__all__ = ["SUCCESSOR", "dependency_files", "rewrite_dependencies"]

SUCCESSOR: Final = ">=1.0"
_NAME: Final = r"isagellm[-_.]protocol"
# A version clause written for the original: any version with major 0, or a Poetry caret/tilde.
_OLD_VERSION: Final = re.compile(r"(?:^|[<>=!~^,\s*])0(?:\.|$|\*)")
# A requirement inside a quoted string: name, extras, version clauses, then a marker or the end
_QUOTED: Final = re.compile(
    rf"""(?P<quote>["'])(?P<name>{_NAME})(?P<extras>\s*\[[^\]]*\])?"""
    r"""(?P<version>\s*[^"';\[\]]*?)\s*(?P<marker>;[^\n]*?)?(?P=quote)""",
    re.IGNORECASE,
)
# A requirement on a line of its own (requirements files, setup.cfg)
_LINE: Final = re.compile(
    rf"(?P<lead>^[ \t]*)(?P<name>{_NAME})(?P<extras>\s*\[[^\]]*\])?"
    r"(?P<version>[ \t]*[<>=!~][^;#\n\\]*?)(?P<rest>[ \t]*(?:[;#\\].*)?$)",
    re.IGNORECASE | re.MULTILINE,
)
# Poetry: isagellm-protocol = "^0.5" or = { version = "^0.5", ... }
_POETRY: Final = re.compile(
    rf"""(?P<lead>^[ \t]*["']?{_NAME}["']?[ \t]*=[ \t]*(?:\{{[^}}\n]*?version[ \t]*=[ \t]*)?)"""
    r"""(?P<quote>["'])(?P<version>[^"'\n]*)(?P=quote)""",
    re.IGNORECASE | re.MULTILINE,
)
_NAMES: Final = ("pyproject.toml", "setup.cfg", "setup.py")
_SKIPPED: Final = frozenset({".venv", "venv", ".git", "node_modules", "build", "dist", ".tox"})


def dependency_files(root: Path) -> Iterator[Path]:
    """The files under ``root`` that may declare dependencies."""
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts[:-1])
        if parts & _SKIPPED or any(p.startswith(".") for p in parts) or not path.is_file():
            continue
        name = path.name
        if name in _NAMES or (name.startswith("requirements") and name.endswith(".txt")):
            yield path


def _old(version: str) -> bool:
    return bool(version.strip()) and bool(_OLD_VERSION.search(version.strip()))


def _line_of(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def rewrite_dependencies(path: Path, text: str) -> tuple[str, list[Finding]]:
    """``text`` of the dependency file ``path`` with the original's requirement rewritten,
    and one finding per rewrite."""
    found: list[Finding] = []

    def note(offset: int, before: str, after: str) -> None:
        found.append(Finding(*_line_of(text, offset), "PM010", f"{before} -> {after}"))

    def quoted(match: re.Match[str]) -> str:
        if not _old(match["version"]):
            return match[0]
        extras = match["extras"] or ""
        marker = match["marker"] or ""
        spelled = f"isagellm-protocol{extras.strip()}{SUCCESSOR}{marker}"
        note(match.start(), match[0][1:-1], spelled)
        return f"{match['quote']}{spelled}{match['quote']}"

    def line(match: re.Match[str]) -> str:
        if not _old(match["version"]) or "--hash" in match["rest"]:
            return match[0]
        spelled = f"{match['name']}{(match['extras'] or '').strip()}{SUCCESSOR}"
        note(match.start("name"), (match["name"] + match["version"]).strip(), spelled)
        return f"{match['lead']}{spelled}{match['rest']}"

    def poetry(match: re.Match[str]) -> str:
        if not _old(match["version"]):
            return match[0]
        note(match.start("quote"), match["version"], SUCCESSOR)
        return f"{match['lead']}{match['quote']}{SUCCESSOR}{match['quote']}"

    rules = {
        "pyproject.toml": [(_QUOTED, quoted), (_POETRY, poetry)],
        "setup.py": [(_QUOTED, quoted)],
    }
    # Every match is found in the original text (its positions are the ones reported), then
    # the changed ones are spliced in.
    edits = sorted(
        (match.start(), match.end(), new)
        for pattern, spell in rules.get(path.name, [(_LINE, line)])
        for match in pattern.finditer(text)
        if (new := spell(match)) != match[0]
    )
    pieces, at = [], 0
    for start, end, new in edits:
        pieces += [text[at:start], new]
        at = end
    return "".join([*pieces, text[at:]]), sorted(found, key=lambda f: (f.line, f.column))
