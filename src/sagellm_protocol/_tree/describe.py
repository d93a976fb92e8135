"""What a node expects, in words, for issue messages: ``"an int >= 0"``, ``"a Request object"``."""

import typing
from collections.abc import Collection, Mapping
from typing import Final

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
)

__all__ = ["closest", "expected"]


_DESCRIPTIONS: Final[NodeCache[Node, str]] = NodeCache()


def expected(node: Node) -> str:
    """What ``node`` expects (computed once per node)."""
    return _DESCRIPTIONS.get(node, _describe)


def _describe(node: Node) -> str:
    if isinstance(node, AnyNode):
        return "any value"
    if isinstance(node, NoneNode):
        return "None"
    if isinstance(node, BoolNode):
        return "a bool"
    if isinstance(node, NumberNode):
        text = "a finite number" if node.is_float else "an int"
        text += _bounds_text(node.bounds)
        if node.multiple_of is not None:
            text += f" that is a multiple of {node.multiple_of!r}"
        return text
    if isinstance(node, StrNode):
        text = "a str" + _length_text(node.min_len, node.max_len)
        if len(node.formats) == 1 and text == "a str":
            return node.formats[0].description
        formats = " and ".join(f.name for f in node.formats)
        return f"{text} in {formats} format" if formats else text
    if isinstance(node, ChoiceNode):
        return _choice_text(node)
    if isinstance(node, ListNode | DictNode):
        return f"a {_spelled(node)}" + _length_text(node.min_len, node.max_len)
    if isinstance(node, TypedDictNode):
        return f"{_article(node.name)} {node.name} object"
    assert isinstance(node, UnionNode)
    if node.tag is not None and all(isinstance(m, TypedDictNode) for m in node.options):
        names = " | ".join(typing.cast(TypedDictNode, m).name for m in node.options)
        text = f"{_article(names)} {names} object"
    else:
        text = " or ".join(expected(m) for m in node.options)
    return text + " or None" if node.nullable else text


def closest(sent: str, declared: Collection[str], registered: Mapping[str, str]) -> str | None:
    """What a caller sending ``sent`` most likely meant, for "did you mean": the registered
    meaning of ``sent``, else the one name of ``declared`` spelled most like it, if one is close.

    Case is ignored (``"FP16"`` finds ``"fp16"``). Called only while reporting an issue.
    """
    meant = registered.get(sent)
    if meant is not None:
        return meant
    import difflib  # loaded by the first issue that asks, not by validation

    by_folded = {name.casefold(): name for name in sorted(declared)}
    match = difflib.get_close_matches(sent.casefold(), by_folded, n=1)
    return by_folded[match[0]] if match else None


def _article(name: str) -> str:
    # "a Usage", "an Error": type names starting with U read as "you".
    return "an" if name[:1] in ("A", "E", "I", "O") else "a"


def _spelled(node: Node) -> str:
    """``node`` as a short type expression: ``list[int]``, ``dict[str, Error]``."""
    if isinstance(node, ListNode):
        return (
            f"tuple[{_spelled(node.item)}, ...]"
            if node.is_tuple
            else f"list[{_spelled(node.item)}]"
        )
    if isinstance(node, DictNode):
        return f"dict[str, {_spelled(node.value)}]"
    if isinstance(node, TypedDictNode):
        return node.name
    if isinstance(node, UnionNode):
        spelled = " | ".join(_spelled(option) for option in node.options)
        return f"{spelled} | None" if node.nullable else spelled
    if isinstance(node, ChoiceNode):
        kinds = [name for name, values in (("str", node.strs), ("int", node.ints)) if values]
        kinds += ["bool"] * bool(node.bools) + ["None"] * node.none
        return " | ".join(kinds) or "Never"
    if isinstance(node, NumberNode):
        return "float" if node.is_float else "int"
    return {AnyNode: "Any", NoneNode: "None", BoolNode: "bool", StrNode: "str"}[type(node)]


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
