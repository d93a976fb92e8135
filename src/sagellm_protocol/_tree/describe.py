"""What a node expects, in words, for issue messages: ``"an int >= 0"``, ``"a Request object"``."""

import typing
from collections.abc import Collection, Mapping
from typing import Final

from typing_extensions import assert_never

from .cache import NodeCache
from .nodes import (
    AnyNode,
    BoolNode,
    Bound,
    ChoiceNode,
    DictNode,
    ListNode,
    Node,
    NoneNode,
    NumberNode,
    StrNode,
    TypedDictNode,
    UnionNode,
    kind_of,
)

__all__ = ["closest", "expected"]


_DESCRIPTIONS: Final[NodeCache[Node, str]] = NodeCache()


def expected(node: Node) -> str:
    """What ``node`` expects (computed once per node)."""
    return _DESCRIPTIONS.get(node, _describe)


def _describe(node: Node) -> str:
    match kind_of(node):
        case AnyNode():
            return "any value"
        case NoneNode():
            return "None"
        case BoolNode():
            return "a bool"
        case NumberNode() as number:
            text = "a finite number" if number.is_float else "an int"
            text += _bounds_text(number.bounds)
            if number.multiple_of is not None:
                text += f" that is a multiple of {number.multiple_of!r}"
            return text
        case StrNode(formats=formats, min_len=low, max_len=high):
            text = "a str" + _length_text(low, high)
            if len(formats) == 1 and text == "a str":
                return formats[0].description
            names = " and ".join(f.name for f in formats)
            return f"{text} in {names} format" if names else text
        case ChoiceNode() as choice:
            return _choice_text(choice)
        case ListNode() | DictNode() as container:
            return f"a {_spelled(container)}" + _length_text(container.min_len, container.max_len)
        case TypedDictNode(name=name):
            return f"{_article(name)} {name} object"
        case UnionNode() as union:
            if union.tag is not None and all(isinstance(m, TypedDictNode) for m in union.options):
                names = " | ".join(typing.cast(TypedDictNode, m).name for m in union.options)
                text = f"{_article(names)} {names} object"
            else:
                text = " or ".join(expected(m) for m in union.options)
            return text + " or None" if union.nullable else text
        case unknown:
            assert_never(unknown)


MAX_SUGGESTED_LENGTH: Final = 64
"""Longest string (in characters) compared with declared names for "did you mean"."""


def closest(sent: str, declared: Collection[str], registered: Mapping[str, str]) -> str | None:
    """What a caller sending ``sent`` most likely meant, for "did you mean": the registered
    meaning of ``sent``, else the one name of ``declared`` spelled most like it, if one is close.

    Case is ignored (``"FP16"`` finds ``"fp16"``); a ``sent`` longer than
    :data:`MAX_SUGGESTED_LENGTH` is compared with nothing. Called only while reporting an issue.
    """
    meant = registered.get(sent)
    if meant is not None:
        return meant
    if len(sent) > MAX_SUGGESTED_LENGTH:  # no name is that long; comparing costs len² time
        return None
    import difflib  # loaded by the first issue that asks, not by validation

    by_folded = {name.casefold(): name for name in sorted(declared)}
    match = difflib.get_close_matches(sent.casefold(), by_folded, n=1)
    return by_folded[match[0]] if match else None


def _article(name: str) -> str:
    # "a Usage", "an Error": type names starting with U read as "you".
    return "an" if name[:1] in ("A", "E", "I", "O") else "a"


def _spelled(node: Node) -> str:
    """``node`` as a short type expression: ``list[int]``, ``dict[str, Error]``."""
    match kind_of(node):
        case ListNode(item=item, is_tuple=is_tuple):
            return f"tuple[{_spelled(item)}, ...]" if is_tuple else f"list[{_spelled(item)}]"
        case DictNode(value=value):
            return f"dict[str, {_spelled(value)}]"
        case TypedDictNode(name=name):
            return name
        case UnionNode(options=options, nullable=nullable):
            spelled = " | ".join(_spelled(option) for option in options)
            return f"{spelled} | None" if nullable else spelled
        case ChoiceNode() as choice:
            wire = (("str", choice.strs), ("int", choice.ints))
            kinds = [name for name, values in wire if values]
            kinds += ["bool"] * bool(choice.bools) + ["None"] * choice.none
            return " | ".join(kinds) or "Never"
        case NumberNode(is_float=is_float):
            return "float" if is_float else "int"
        case AnyNode():
            return "Any"
        case NoneNode():
            return "None"
        case BoolNode():
            return "bool"
        case StrNode():
            return "str"
        case unknown:
            assert_never(unknown)


def _bounds_text(bounds: tuple[Bound, ...]) -> str:
    lower = [b for b in bounds if b[0] in (">", ">=")]
    upper = [b for b in bounds if b[0] in ("<", "<=")]
    if len(lower) == 1 and len(upper) == 1:
        (low_op, low), (high_op, high) = lower[0], upper[0]
        opener = "[" if low_op == ">=" else "("
        closer = "]" if high_op == "<=" else ")"
        return f" in {opener}{low!r}, {high!r}{closer}"
    return " and".join(f" {op} {bound!r}" for op, bound in bounds)


def _length_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" of length {low}" if low == high else f" of length in [{low}, {high}]"
    if low is not None:
        return f" of length >= {low}"
    if high is not None:
        return f" of length <= {high}"
    return ""


def _choice_text(node: ChoiceNode) -> str:
    shown = [repr(value) for value in node.shown_values]
    tail = " or None" if node.none else ""
    if len(shown) == 1:
        return shown[0] + tail
    if len(shown) > 12:
        return f"one of {', '.join(shown[:10])}, … ({len(shown)} values){tail}"
    return f"one of {', '.join(shown)}{tail}"
