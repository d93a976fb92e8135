"""Rules that do not depend on the pass, interpreted: one definition each.

The precise pass, its untrusting mode, defaults and strategies call these; the compiler
(``validation._compile``) emits specialised code for the same rules, and a property test holds
the two to the same answers on every type.
"""

import math
import re
from collections.abc import Iterator
from enum import Enum
from operator import countOf
from typing import Any, Final, cast

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
    "builtin_view",
    "could_be",
    "has_exact_str_keys",
    "has_lone_surrogate",
    "has_text_keys",
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


def has_text_keys(value: dict[str, object]) -> bool:
    """Whether no key of the dict ``value``, whose keys are exact ``str``, holds a lone
    surrogate (``validate_json`` refuses such a key as it refuses such a value)."""
    return all(map(str.isascii, value)) or not any(map(has_lone_surrogate, value))


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


_EXACT_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_CONTAINER: Final = object()
"""What :func:`_scalar_view` says of a ``dict``, ``list`` or ``tuple``: its items are to be read."""


def _scalar_view(value: object) -> object:
    """The builtin value a ``str``, ``int`` or ``float`` (subclass) holds, :data:`_CONTAINER` for
    a ``dict``, ``list`` or ``tuple`` (subclass), else ``value`` itself (enum members kept)."""
    kind = type(value)
    if kind in _EXACT_SCALARS or issubclass(kind, Enum):
        return value
    if issubclass(kind, str):
        return str.__str__(cast(str, value))
    if issubclass(kind, int):
        return int.__index__(cast(int, value))
    if issubclass(kind, float):
        return float.__float__(cast(float, value))
    if issubclass(kind, dict | list | tuple):
        return _CONTAINER
    return value


class _Copy:
    """A container being read by :func:`builtin_view`: its items and the views that differ."""

    __slots__ = ("changed", "entries", "parent", "position", "value")

    def __init__(self, value: object, parent: "_Copy | None", position: int) -> None:
        self.value = value
        self.parent = parent
        self.position = position
        """Where the view of ``value`` goes in ``parent``'s items."""
        self.changed: dict[int, object] = {}
        """The views that differ from the items they replace, by position."""
        self.entries: Iterator[tuple[int, object]] = enumerate(_items(value))

    def view(self) -> object:
        """``value`` itself if it is an exact builtin whose items are all their own views;
        else a copy of the builtin type with every item's view."""
        value, changed = self.value, self.changed
        kind = type(value)
        if (kind is dict or kind is list or kind is tuple) and not changed:
            return value
        if issubclass(kind, dict):
            return {
                changed.get(2 * index, key): changed.get(2 * index + 1, item)
                for index, (key, item) in enumerate(dict.items(cast(dict[object, object], value)))
            }
        items = [changed.get(index, item) for index, item in enumerate(_items(value))]
        return tuple(items) if issubclass(kind, tuple) else items


def _items(value: object) -> Iterator[object]:
    """The items of a ``dict`` (each key, then its value), ``list`` or ``tuple``, read through
    the builtin types' own methods: no override runs."""
    kind = type(value)
    if issubclass(kind, dict):
        return (part for pair in dict.items(cast(dict[object, object], value)) for part in pair)
    if issubclass(kind, list):
        return list.__iter__(cast(list[object], value))
    return tuple.__iter__(cast(tuple[object, ...], value))


_is_exact_scalar_type: Final = _EXACT_SCALARS.__contains__


def _holds_exact_scalars(value: Any) -> bool:
    """Whether ``value`` is an exact ``dict`` (exact ``str`` keys), ``list`` or ``tuple`` of
    exact builtin scalars only: its own view, told by loops in C (its exact type runs no
    override, so no cast or unbound call is needed)."""
    kind = type(value)
    if kind is dict:
        return all(map(_is_exact_scalar_type, map(type, value.values()))) and countOf(
            map(type, value), str
        ) == len(value)
    return (kind is list or kind is tuple) and all(map(_is_exact_scalar_type, map(type, value)))


def builtin_view(value: object, memo: dict[int, tuple[object, object]]) -> object:
    """``value`` as the wire carries it, at any depth: each ``str``, ``int`` or ``float``
    subclass replaced by the builtin value it holds and each ``dict``, ``list`` or ``tuple``
    subclass by a copy of its builtin type (enum members kept). ``value`` itself, not a copy,
    when it holds no subclass. An invariant reading it then runs no ``__len__``, ``__eq__``,
    ``__lt__`` or ``__getitem__`` override.

    ``memo`` (by ``id``, the container kept alive beside its view) is shared by one check: each
    container is read once however many invariants read it, so the views cost time linear in
    the value. Iterative: no nesting depth exhausts the interpreter stack.
    """
    scalar = _scalar_view(value)
    if scalar is not _CONTAINER or _holds_exact_scalars(value):
        return value if scalar is _CONTAINER else scalar
    known = memo.get(id(value))
    if known is not None:
        return known[1]
    memo[id(value)] = (value, value)  # a reference cycle reads the container as it is
    stack = [_Copy(value, None, 0)]
    while True:
        top = stack[-1]
        for position, item in top.entries:
            if type(item) in _EXACT_SCALARS or _holds_exact_scalars(item):  # most items
                continue
            view = _scalar_view(item)
            if view is _CONTAINER:
                known = memo.get(id(item))
                if known is None:
                    memo[id(item)] = (item, item)
                    stack.append(_Copy(item, top, position))
                    break
                view = known[1]
            if view is not item:
                top.changed[position] = view
        else:
            stack.pop()
            view = top.view()
            memo[id(top.value)] = (top.value, view)
            if top.parent is None:
                return view
            if view is not top.value:
                top.parent.changed[top.position] = view
