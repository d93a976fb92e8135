"""Write the key listing into the class docstring of every TypedDict in the package source.

Usage: ``python scripts/generate_docstrings.py``; it rewrites, in place, the source files under
``src/sagellm_protocol`` whose TypedDict docstrings lack the current listing, and prints how
many it changed. Run it after adding, removing or re-documenting a key;
``tests/unit/test_docstrings.py`` fails until the sources are current.

``help()`` and IDE hovers show a class's docstring only, not the docstring literal under each
key. So each TypedDict's class docstring ends with a ``Keys:`` section, rendered by
``sagellm_protocol._tree.listing``: every key (inherited ones included), whether it is
optional, and the first paragraph of its docstring. The hand-written description before the
section is kept as written; the section is replaced, or added, and a class without a docstring
gets one. The types are those of the protocol snapshot (``docs/protocol.md``): every named
protocol type and every TypedDict nested in one, in any module of the package.

Only the docstring literal is touched, spliced by its ``ast`` position, with its string prefix,
quotes and indentation; the output is ruff-format clean, and running twice changes nothing.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "sagellm_protocol"
if str(SOURCE.parent) not in sys.path:
    sys.path.insert(0, str(SOURCE.parent))  # this checkout's package, installed or not

from sagellm_protocol._snapshot import _named_nodes  # noqa: E402
from sagellm_protocol._tree.analyse import split_keys_section  # noqa: E402
from sagellm_protocol._tree.listing import key_listing  # noqa: E402
from sagellm_protocol._tree.nodes import TypedDictNode  # noqa: E402

REGENERATE = "python scripts/generate_docstrings.py"


class DocstringError(Exception):
    """A docstring the generator cannot rewrite faithfully."""


@dataclass(frozen=True)
class Docstring:
    """One TypedDict's class docstring: where it is, what it holds, what it should hold."""

    name: str
    """The type's name in the snapshot (``"Request"``, ``"kv.KVHandle"``)."""
    path: Path
    start: tuple[int, int]
    """Where the literal starts (or a new one goes): 1-based line, 0-based column."""
    end: tuple[int, int]
    """Where the literal ends; equal to ``start`` when the class has no docstring."""
    current: str | None
    """The literal's source text; ``None`` when the class has no docstring."""
    expected: str
    """The literal the generator writes."""

    @property
    def stale(self) -> bool:
        return self.current != self.expected


def typed_dicts() -> list[tuple[str, TypedDictNode]]:
    """Every TypedDict of the snapshot, with its snapshot name, in source order by module."""
    _, names = _named_nodes()
    return sorted(
        ((name, node) for node, name in names.items()),
        key=lambda item: (item[1].cls.__module__, item[1].cls.__qualname__),
    )


def class_definition(tree: ast.Module, qualname: str) -> ast.ClassDef:
    """The definition of class ``qualname`` in ``tree``."""
    scopes: list[ast.AST] = [tree]
    definition: ast.ClassDef | None = None
    for part in qualname.split("."):
        definition = next(
            (
                node
                for scope in scopes
                for node in ast.walk(scope)
                if isinstance(node, ast.ClassDef) and node.name == part
            ),
            None,
        )
        if definition is None:
            break
        scopes = [definition]
    if definition is None:
        raise DocstringError(f"no class {qualname} in the source")
    return definition


def docstrings() -> Iterator[Docstring]:
    """Every TypedDict's class docstring, current and expected."""
    parsed: dict[Path, tuple[str, ast.Module]] = {}
    for name, node in typed_dicts():
        path = Path(inspect.getfile(node.cls)).resolve()
        if not path.is_relative_to(SOURCE):
            raise DocstringError(f"{name} comes from {path}, not from this checkout's {SOURCE}")
        if path not in parsed:
            source = path.read_text(encoding="utf-8")
            parsed[path] = source, ast.parse(source)
        source, tree = parsed[path]
        definition = class_definition(tree, node.cls.__qualname__)
        first = definition.body[0]
        if first.lineno == definition.lineno:
            raise DocstringError(f"{name}: the class body starts on the class line")
        column = first.col_offset
        listing = key_listing(node, column)
        if is_docstring(first):
            segment = ast.get_source_segment(source, first)
            assert segment is not None
            expected = rewritten(name, segment, listing, column)
            yield Docstring(
                name,
                path,
                (first.lineno, first.col_offset),
                (first.end_lineno or first.lineno, first.end_col_offset or 0),
                segment,
                expected,
            )
        else:
            expected = rewritten(name, '""""""', listing, column)
            position = (first.lineno, column)
            yield Docstring(name, path, position, position, None, expected)


def is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def rewritten(name: str, literal: str, listing: list[str], column: int) -> str:
    """``literal`` (a docstring's source) with its key listing replaced by ``listing``.

    The description before the listing is kept as written. Without one, the literal opens with
    a line break: a heading on the first line would lose its keys' indentation to
    ``inspect.cleandoc`` and ruff, which both indent the following lines as one block.
    """
    prefix = literal[: len(literal) - len(literal.lstrip("rRuU"))]
    quoted = literal[len(prefix) :]
    quote = quoted[:3] if quoted[:3] in ('"""', "'''") else quoted[:1]
    if len(quoted) < 2 * len(quote) or not quoted.endswith(quote):
        raise DocstringError(f"{name}: the docstring is not one string literal")
    body = quoted[len(quote) : len(quoted) - len(quote)]
    if len(quote) == 1:
        quote = '"""'  # the listing needs several lines; ruff formats docstrings with """
    description, _ = split_keys_section(body)
    indent = " " * column
    text = "\n".join(listing)
    if "r" in prefix.lower():
        if "\\" in text or quote in text:
            raise DocstringError(f"{name}: a raw docstring cannot hold this key listing")
    else:
        text = text.replace("\\", "\\\\").replace(quote, "\\" + "\\".join(quote))
    lines = text.split("\n")
    section = "\n".join(indent + line for line in lines)
    head = f"{description}\n\n" if description.strip() else "\n"
    new = f"{prefix}{quote}{head}{section}\n{indent}{quote}"
    check(name, literal, new, listing)
    return new


def check(name: str, old: str, new: str, listing: list[str]) -> None:
    """``new`` is one valid literal that reads as ``old``'s description, then ``listing``."""
    try:
        value = ast.literal_eval(new)
    except (SyntaxError, ValueError) as error:
        raise DocstringError(f"{name}: the new docstring is not valid Python: {error}") from None
    if not isinstance(value, str):
        raise DocstringError(f"{name}: the new docstring is not one string literal")
    description, _ = split_keys_section(inspect.cleandoc(ast.literal_eval(old)))
    if split_keys_section(inspect.cleandoc(value)) != (description, "\n".join(listing)):
        raise DocstringError(f"{name}: the new docstring does not read back as written")


def apply(source: str, edits: list[Docstring]) -> str:
    """``source`` with each edit's literal replaced (or inserted), the rest byte for byte."""
    lines = source.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        (start_line, start_column), (end_line, end_column) = edit.start, edit.end
        if edit.current is None:
            insertion = " " * start_column + edit.expected + "\n\n"
            lines[start_line - 1 : start_line - 1] = [insertion]
            continue
        # ast columns count UTF-8 bytes.
        head = lines[start_line - 1].encode()[:start_column].decode()
        tail = lines[end_line - 1].encode()[end_column:].decode()
        lines[start_line - 1 : end_line] = [head + edit.expected + tail]
    return "".join(lines)


def generate() -> list[Docstring]:
    """Rewrite the stale docstrings in the source files; return them."""
    found = list(docstrings())
    stale = [docstring for docstring in found if docstring.stale]
    for path in sorted({docstring.path for docstring in stale}):
        source = path.read_text(encoding="utf-8")
        edits = [docstring for docstring in stale if docstring.path == path]
        path.write_text(apply(source, edits), encoding="utf-8")
    return stale


def main(argv: list[str]) -> int:
    if argv:
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    try:
        stale = generate()
    except DocstringError as error:
        print(f"generate_docstrings: {error}", file=sys.stderr)
        return 1
    files = len({docstring.path for docstring in stale})
    print(f"rewrote {len(stale)} class docstrings in {files} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
