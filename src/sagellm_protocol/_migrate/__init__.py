"""``sagellm-protocol migrate``: move code written for the original pydantic package to this
one. Needs the ``migrate`` extra (LibCST and mypy)."""

import ast
import dataclasses
import difflib
import fnmatch
import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, Literal

import libcst

from ._codemod import Finding, Rewrite, rewrite
from ._dependencies import dependency_files, rewrite_dependencies
from ._lint import Ruff
from ._names import Protocol
from ._oracle import Blind, Oracle, Seen, Span, TypeMap, users_of_package

__all__ = ["Mode", "migrate"]

Mode = Literal["check", "diff", "fix"]

# Each mypy run lets values flow one more assignment further (m = r.metrics; m.ttft_ms).
_PASSES: Final = 4
_PACKAGE: Final = "sagellm_protocol"
_SKIPPED: Final = frozenset({".venv", "venv", ".git", "__pycache__", "build", "dist", ".tox"})
# Reported on the text a pass starts from, gone once that pass rewrote the import: kept.
_FIRST_PASS_ONLY: Final = frozenset({"PM105"})
_SCOPE: Final = (
    "nothing was rewritten: without types the rewrite would leave code half-migrated.\n"
    "Scope the run: pass fewer paths (the package and its tests), --exclude PATTERN for "
    "what mypy cannot read (a duplicate module name, generated code), or make the repo's "
    "own modules findable (run from the repo root, add the missing __init__.py)."
)


def _sources(paths: Sequence[Path], root: Path, excluded: Sequence[str]) -> Iterator[Path]:
    def kept(path: Path) -> bool:
        shown = path.resolve().relative_to(root).as_posix() if path.is_relative_to(root) else ""
        return not any(
            fnmatch.fnmatch(shown, pattern) or fnmatch.fnmatch(shown, pattern.rstrip("/") + "/*")
            for pattern in excluded
        )

    for path in paths:
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and not d.startswith("."))
                yield from (
                    p for f in sorted(files) if f.endswith(".py") and kept(p := Path(folder, f))
                )
        elif kept(path.resolve()):
            yield path


def _parsable(texts: dict[Path, str]) -> set[Path]:
    parsable = set()
    for path, text in texts.items():
        try:
            ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        parsable.add(path)
    return parsable


def _cache(root: Path) -> Path:
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return home / "sagellm-protocol" / "migrate" / digest


@dataclasses.dataclass
class _Run:
    """What one migration of the tree ends with."""

    current: dict[Path, str]
    done: dict[Path, set[Finding]]
    reports: dict[Path, set[Finding]]
    blocked: dict[Path, set[str]]


def migrate(paths: Sequence[str], mode: Mode, exclude: Sequence[str] = ()) -> int:
    """Check, diff or fix the Python files under ``paths`` and the dependency files of the
    tree; the exit status (0 nothing to do or done, 1 with ``check`` when anything needs
    migrating, 2 when a path is missing or mypy cannot type the code)."""
    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        print(
            f"sagellm-protocol migrate: error: no such file or directory: {missing[0]}",
            file=sys.stderr,
        )
        return 2
    given = [Path(p).resolve() for p in paths]
    root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in given]))
    files = [path.resolve() for path in _sources(given, root, exclude)]
    protocol = Protocol()
    original: dict[Path, str] = {}
    unparsable: dict[Path, list[Finding]] = {}
    for path in files:
        try:
            original[path] = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            unparsable[path] = [Finding(1, 1, "PM900", f"not migrated: cannot read: {error}")]
    users = users_of_package(original)
    # A file outside `users` that ast cannot parse (users_of_package skipped it) is read by
    # LibCST only for its error message.
    for path in sorted(users | (set(original) - _parsable(original))):
        try:
            libcst.parse_module(original[path])
        except libcst.ParserSyntaxError as error:
            reason = f"not migrated: syntax error: {error.message}"
            unparsable[path] = [Finding(error.raw_line, error.raw_column + 1, "PM900", reason)]
    users -= set(unparsable)
    texts = {path: text for path, text in original.items() if path not in unparsable}
    oracle = Oracle(root, protocol, _cache(root), set(unparsable))
    frozen: dict[Path, set[str]] = {path: set() for path in users}
    try:
        while True:
            run = _migrate_once(texts, users, protocol, oracle, frozen)
            more = {p: units - frozen[p] for p, units in run.blocked.items() if units - frozen[p]}
            if not more:
                break
            for path, units in more.items():
                frozen[path] |= units
    except Blind as blind:
        print(
            f"sagellm-protocol migrate: error: mypy cannot type the code:\n{blind}\n{_SCOPE}",
            file=sys.stderr,
        )
        return 2
    for path, found in unparsable.items():
        run.reports[path] = set(found)
        run.current.pop(path, None)
    ruff = Ruff(root)
    for path in users:
        if run.current[path] != original[path]:
            run.current[path] = ruff.tidy(path, original[path], run.current[path])
    if ruff.missing:
        print(
            "note: the repo configures ruff, but ruff is not installed here: the rewritten "
            "files are not sorted or formatted",
            file=sys.stderr,
        )
    before = {path: text for path, text in original.items() if path not in unparsable}
    for path in dependency_files(root):
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
        before[path], (run.current[path], found) = text, rewrite_dependencies(path, text)
        if found:
            run.done[path] = set(found)
    return _finish(mode, before, run)


def _migrate_once(
    texts: dict[Path, str],
    users: set[Path],
    protocol: Protocol,
    oracle: Oracle,
    frozen: dict[Path, set[str]],
) -> _Run:
    """The passes over the tree from ``texts``, leaving the ``frozen`` units whole."""
    current = dict(texts)
    done: dict[Path, set[Finding]] = {path: set() for path in users}
    first: dict[Path, set[Finding]] = {path: set() for path in users}
    seen: dict[Path, TypeMap] = {}
    for attempt in range(_PASSES + 1):
        changed = False
        last: dict[Path, set[Finding]] = {}
        blocked: dict[Path, set[str]] = {}
        for path in sorted(users):
            text = current[path]
            result = _rewrite(text, protocol, seen.get(path, {}), frozen[path])
            done[path] |= set(_back(texts[path], text, result.done))
            last[path] = set(_back(texts[path], text, result.reports))
            if attempt == 0:
                first[path] = {f for f in last[path] if f.code in _FIRST_PASS_ONLY}
            blocked[path] = set(result.blocked)
            if result.code != text:
                current[path], changed = result.code, True
        if not changed and attempt:
            break
        seen = oracle.types(current, users)
    reports = {path: last[path] | first[path] for path in users}
    return _Run(current, done, reports, blocked)


_REWRITES: dict[tuple[str, frozenset[str], tuple[tuple[Span, Seen], ...]], Rewrite] = {}


def _rewrite(text: str, protocol: Protocol, seen: TypeMap, frozen: set[str]) -> Rewrite:
    """:func:`rewrite`, skipped where it cannot find anything (a file that does not name this
    package and holds no protocol value) and not repeated for the same input."""
    if _PACKAGE not in text and not any(s.types for s in seen.values()):
        return Rewrite(text, [], [], {})
    key = (text, frozenset(frozen), tuple(sorted(seen.items())))
    if key not in _REWRITES:
        _REWRITES[key] = rewrite(text, protocol, seen, frozen)
    return _REWRITES[key]


def _back(original: str, text: str, found: list[Finding]) -> list[Finding]:
    """``found``, positions in ``text``, moved to the lines they came from in ``original``
    (an added import shifts the lines below it)."""
    if original == text:
        return found
    lines: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, original.splitlines(), text.splitlines(), False)
    for _, first, first_end, second, second_end in matcher.get_opcodes():
        for offset in range(second_end - second):
            lines[second + offset + 1] = min(first + offset, max(first_end - 1, first)) + 1
    return [dataclasses.replace(f, line=lines.get(f.line, f.line)) for f in found]


def _finish(mode: Mode, original: dict[Path, str], run: _Run) -> int:
    cwd = Path.cwd()

    def shown(path: Path) -> str:
        return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)

    current = run.current
    changed = [path for path in sorted(current) if current[path] != original[path]]
    for path in sorted(set(run.done) | set(run.reports)):
        done = run.done.get(path, set()) if path in changed else set()
        for finding in sorted(
            done | run.reports.get(path, set()),
            key=lambda f: (f.line, f.column, f.code, f.message),
        ):
            print(
                f"{shown(path)}:{finding.line}:{finding.column}: {finding.code} {finding.message}",
                file=sys.stdout if mode == "check" else sys.stderr,
            )
    if mode == "diff":
        for path in changed:
            sys.stdout.writelines(
                difflib.unified_diff(
                    original[path].splitlines(keepends=True),
                    current[path].splitlines(keepends=True),
                    f"a/{shown(path)}",
                    f"b/{shown(path)}",
                )
            )
    if mode == "fix":
        for path in changed:
            path.write_bytes(current[path].encode("utf-8", errors="surrogateescape"))
    left = sum(len(found) for found in run.reports.values())
    verb = "would rewrite" if mode != "fix" else "rewrote"
    print(
        f"{verb} {len(changed)} of {len(original)} files; {left} patterns to edit by hand",
        file=sys.stderr,
    )
    return 1 if mode == "check" and (changed or left) else 0
