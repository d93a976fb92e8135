"""``sagellm-protocol migrate``: move code written for the original pydantic package to this
one. Needs the ``migrate`` extra (LibCST and mypy)."""

import dataclasses
import difflib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, Literal

import libcst

from ._codemod import Finding, Span, TypedAccess, left_alone, rewrite, typed_access
from ._names import Protocol

__all__ = ["Mode", "migrate"]

Mode = Literal["check", "diff", "fix"]

# Each mypy pass lets one more level of a chain through (resp.metrics.ttft_ms needs two).
_PASSES: Final = 4
# An attribute mypy cannot find: on a protocol value, or on one option of a union holding one.
_ATTRIBUTE_CODES: Final = frozenset({"attr-defined", "union-attr"})
_SKIPPED: Final = frozenset({".venv", "venv", ".git", "__pycache__", "build", "dist", ".tox"})


def _sources(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and not d.startswith("."))
                yield from (Path(root, f) for f in sorted(files) if f.endswith(".py"))
        else:
            yield path


def _mypy(texts: dict[Path, str], root: Path, cache: str) -> list[dict[str, object]]:
    """mypy's JSON messages over ``texts`` as they stand, written under a scratch copy."""
    from mypy import api

    with tempfile.TemporaryDirectory() as scratch:
        files = []
        for path, text in texts.items():
            copy = Path(scratch, path.relative_to(root))
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(text, encoding="utf-8")
            files.append(str(copy))
        # Untyped functions are checked too: what mypy infers inside them still counts.
        options = ["-O", "json", "--show-column-numbers", "--check-untyped-defs"]
        options += ["--follow-imports=silent", "--cache-dir", cache, "--no-error-summary"]
        here = os.getcwd()
        os.chdir(scratch)  # the copy's own packages resolve from its root
        try:
            out, _, _ = api.run([*options, *files])
        finally:
            os.chdir(here)
        messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        base = Path(scratch).resolve()
        for message in messages:
            where = (base / str(message["file"])).resolve()
            if where.is_relative_to(base):
                message["file"] = str(root / where.relative_to(base))
    return messages


def migrate(paths: Sequence[str], mode: Mode) -> int:
    """Check, diff or fix the Python files under ``paths``; the exit status (0 nothing to do
    or done, 1 with ``check`` when anything needs migrating, 2 when a path is missing)."""
    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        print(
            f"sagellm-protocol migrate: error: no such file or directory: {missing[0]}",
            file=sys.stderr,
        )
        return 2
    protocol = Protocol()
    files = [path.resolve() for path in _sources([Path(p) for p in paths])]
    root = Path(os.path.commonpath([p.parent for p in files])) if files else Path.cwd()
    original: dict[Path, str] = {}
    findings: dict[Path, list[Finding]] = {}
    reports: dict[Path, list[Finding]] = {}
    for path in files:
        try:
            original[path] = path.read_text(encoding="utf-8")
            libcst.parse_module(original[path])
        except libcst.ParserSyntaxError as error:
            reason = f"not migrated: syntax error: {error.message}"
            reports[path] = [Finding(error.raw_line, error.raw_column + 1, "PM900", reason)]
            original.pop(path, None)
        except (OSError, UnicodeDecodeError) as error:
            reports[path] = [Finding(1, 1, "PM900", f"not migrated: cannot read: {error}")]
            original.pop(path, None)
    current = dict(original)
    typed: dict[Path, dict[Span, TypedAccess]] = {path: {} for path in current}
    with tempfile.TemporaryDirectory() as cache:
        for attempt in range(_PASSES + 1):
            changed = False
            for path, text in current.items():
                new, done, found = rewrite(text, protocol, typed[path])
                done, found = _back(original[path], text, done), _back(original[path], text, found)
                findings.setdefault(path, []).extend(done)
                reports.setdefault(path, []).extend(found)  # the same on each pass: a set
                if new != text:
                    current[path], changed = new, True
            if not changed and attempt:
                break
            typed = {path: {} for path in current}
            for message in _mypy(current, root, cache):
                access = typed_access(str(message["message"]), protocol)
                path = Path(str(message["file"]))
                if access is None or message["code"] not in _ATTRIBUTE_CODES or path not in typed:
                    continue
                span = (
                    int(str(message["line"])),
                    int(str(message["column"])),
                    int(str(message["end_line"])),
                    int(str(message["end_column"])),
                )
                typed[path][span] = access
        _report_left(current, typed, reports)
    return _finish(mode, original, current, findings, reports)


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


def _report_left(
    current: dict[Path, str],
    typed: dict[Path, dict[Span, TypedAccess]],
    reports: dict[Path, list[Finding]],
) -> None:
    for path, accesses in typed.items():
        for (line, column, _, _), access in accesses.items():
            reports.setdefault(path, []).append(
                Finding(line, column + 1, "PM104", left_alone(access))
            )


def _finish(
    mode: Mode,
    original: dict[Path, str],
    current: dict[Path, str],
    findings: dict[Path, list[Finding]],
    reports: dict[Path, list[Finding]],
) -> int:
    cwd = Path.cwd()

    def shown(path: Path) -> str:
        return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)

    changed = [path for path in current if current[path] != original[path]]
    for path in sorted(set(findings) | set(reports)):
        done = findings.get(path, []) if path in changed else []
        for finding in sorted(
            set(done) | set(reports.get(path, [])),
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
            path.write_text(current[path], encoding="utf-8")
    left = sum(len(set(found)) for found in reports.values())
    verb = "would rewrite" if mode != "fix" else "rewrote"
    print(
        f"{verb} {len(changed)} of {len(original)} files; {left} patterns to edit by hand",
        file=sys.stderr,
    )
    return 1 if mode == "check" and (changed or left) else 0
