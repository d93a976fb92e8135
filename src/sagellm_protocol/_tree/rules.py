"""Rules that do not depend on the pass, interpreted: one definition each.

The precise pass, its untrusting mode, defaults and strategies call these; the compiler
(``validation._compile``) emits specialised code for the same rules, and a property test holds
the two to the same answers on every type.
"""

import math
import re
from operator import countOf
from typing import Final, cast

from typing_extensions import assert_never

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

__all__ = [
    "FLOAT_INT_LIMIT",
    "bounds_hold",
    "could_be",
    "has_exact_str_keys",
    "has_lone_surrogate",
    "is_chosen",
    "is_missing",
    "length_fits",
    "tag_option",
]


def has_exact_str_keys(value: dict[object, object]) -> bool:
    """Whether every key of the dict ``value`` is exactly a ``str`` (no subclass runs code)."""
    return countOf(map(type, dict.keys(value)), str) == dict.__len__(value)


_SURROGATE: Final = re.compile("[\ud800-\udfff]").search


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: no Unicode text, it cannot be encoded as UTF-8
    (``validate_json`` refuses its ``\\u`` escape). An ASCII string is told in constant time."""
    return not text.isascii() and _SURROGATE(text) is not None


def length_fits(node: StrNode | ListNode | DictNode, size: int) -> bool:
    """Whether ``size`` is within ``node``'s length bounds."""
    return (node.min_len is None or size >= node.min_len) and (
        node.max_len is None or size <= node.max_len
    )


FLOAT_INT_LIMIT = 2**1024 - 2**970
"""The least int that ``float()`` rounds to infinity (it raises ``OverflowError``): a ``float``
field takes an ``int`` only strictly between ``-FLOAT_INT_LIMIT`` and ``FLOAT_INT_LIMIT``."""


_COMPARE = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def bounds_hold(node: NumberNode, number: int | float) -> bool:
    """Whether the exact ``int`` or ``float`` ``number`` is finite (as a double, for a ``float``
    node) and within ``node``'s bounds."""
    if isinstance(number, float) and not math.isfinite(number):
        return False
    if (
        node.is_float
        and isinstance(number, int)
        and not -FLOAT_INT_LIMIT < number < FLOAT_INT_LIMIT
    ):
        return False  # a double cannot hold it
    bound: Bound
    for bound in node.bounds:
        if not _COMPARE[bound[0]](number, bound[1]):
            return False
    return node.multiple_of is None or number % node.multiple_of == 0


def is_chosen(node: ChoiceNode, value: object) -> bool:
    """Whether ``value`` is one of ``node``'s choices (read through the builtin types)."""
    kind = type(value)
    if kind in node.enum_classes or any(value is member for member in node.enum_members):
        return True
    if issubclass(kind, str):
        return str.__str__(cast(str, value)) in node.strs
    if kind is bool:
        return value in node.bools
    if issubclass(kind, int):
        return int.__index__(cast(int, value)) in node.ints
    return value is None and node.none


def could_be(node: Node, value: object) -> bool:
    """Whether ``value``'s type is one ``node`` accepts (its content aside)."""
    kind = type(value)
    match kind_of(node):
        case TypedDictNode() | DictNode():
            return issubclass(kind, dict)
        case UnionNode(options=options, nullable=nullable):
            return (value is None and nullable) or any(could_be(o, value) for o in options)
        case ListNode(is_tuple=is_tuple):
            return issubclass(kind, tuple if is_tuple else list)
        case StrNode():
            return issubclass(kind, str)
        case NumberNode(is_float=is_float):
            numeric = issubclass(kind, int) or (is_float and issubclass(kind, float))
            return numeric and kind is not bool
        case ChoiceNode() as choice:
            return (
                kind in choice.enum_classes
                or (bool(choice.strs) and issubclass(kind, str))
                or (bool(choice.bools) and kind is bool)
                or (bool(choice.ints) and issubclass(kind, int) and kind is not bool)
                or (value is None and choice.none)
            )
        case BoolNode():
            return kind is bool
        case NoneNode():
            return value is None
        case AnyNode():
            return True
        case unknown:
            assert_never(unknown)


_MISSING = object()


def tag_option(node: UnionNode, value: dict[object, object]) -> tuple[object, TypedDictNode | None]:
    """The tag value of the dict ``value`` (or a sentinel when absent) and the option it picks.

    Keys and the tag are read through ``str``'s own methods: a subclass runs no code here.
    """
    tag: object = _MISSING
    for key, item in dict.items(value):
        if issubclass(type(key), str) and str.__str__(cast(str, key)) == node.tag:
            tag = item
    if tag is _MISSING:
        return tag, None
    option = node.by_tag.get(str.__str__(cast(str, tag))) if issubclass(type(tag), str) else None
    return tag, option


def is_missing(tag: object) -> bool:
    """Whether :func:`tag_option` found no tag key."""
    return tag is _MISSING
