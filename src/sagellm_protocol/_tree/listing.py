"""The key listing each TypedDict's ``__doc__`` gains on first access (``_key_help``).

Nothing imports this module at import time: the listing needs each key's docstring.
"""

from .analyse import KEYS_HEADING, documentation
from .nodes import TypedDictNode

__all__ = ["INDENT", "WIDTH", "key_listing", "one_line"]

WIDTH = 100
"""The longest source line the listing may make (the project's line length)."""
INDENT = "    "
"""How far each key's line is indented under the heading; wrapped lines go one step further."""


def one_line(doc: str) -> str:
    """The first paragraph of ``doc`` on one line."""
    return " ".join(doc.split("\n\n", 1)[0].split())


def key_listing(node: TypedDictNode, column: int = 4) -> list[str]:
    """The lines of ``node``'s key listing, without indentation, heading first.

    Every key of the type, inherited ones included, in declaration order: ``name:`` (or
    ``name (optional):``) and the first paragraph of its docstring, if it has one, on one line
    — wrapped so that no line set at ``column`` (the docstring's indentation in the source) is
    longer than :data:`WIDTH`, counting each backslash twice as the docstring literal writes it.
    """
    _, key_docs = documentation(node)
    lines = [KEYS_HEADING]
    for field in node.fields:
        label = f"{field.name}:" if field.required else f"{field.name} (optional):"
        words = [label, *one_line(key_docs.get(field.name, "")).split()]
        lines += _wrap(words, WIDTH - column, INDENT, INDENT * 2)
    return lines


def _wrap(words: list[str], width: int, first: str, rest: str) -> list[str]:
    """``words`` joined by spaces into lines of at most ``width`` (a longer word stands alone)."""
    lines: list[str] = []
    current = first + words[0]
    for word in words[1:]:
        candidate = f"{current} {word}"
        if _source_length(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = rest + word
    lines.append(current)
    return lines


def _source_length(line: str) -> int:
    return len(line) + line.count("\\")
