"""Hypothesis strategies that generate valid protocol values from their types.

``from_type(Request)`` draws plain dicts that ``validate(Request, ...)`` accepts: annotated-types
bounds, lengths and string formats are respected, enum fields get wire strings or members, and
registered cross-field invariants hold (values are repaired where a generic repair works, and
the rest is filtered). Downstream repos use it for their own property tests; a type whose
invariants defeat the repair can get a hand-written strategy with :func:`register_strategy`.

Requires ``hypothesis`` (a test dependency, not a runtime one).
"""

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from typing_extensions import TypeForm

from .._tree.analyse import analyze
from .._tree.nodes import (
    AnyNode,
    BoolNode,
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

__all__ = ["from_type", "json_values", "register_strategy"]

_MAX_ITEMS = 4
"""Longest generated list or dict, beyond its minimum length: keeps examples small and fast."""

_REGISTERED: dict[type, st.SearchStrategy[Any]] = {}


def register_strategy(tp: type, strategy: st.SearchStrategy[Any]) -> None:
    """Use ``strategy`` for the TypedDict ``tp`` wherever :func:`from_type` meets it."""
    _REGISTERED[tp] = strategy


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Small JSON values: null, bools, ints, finite floats, short strings, lists and objects."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**40), 2**40)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=8)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def from_type(tp: TypeForm[Any]) -> st.SearchStrategy[Any]:
    """A strategy drawing values of ``tp`` that ``validate(tp, value)`` accepts."""
    return _Builder().build(analyze(tp))


class _Builder:
    def __init__(self) -> None:
        self.typed_dicts: dict[TypedDictNode, st.SearchStrategy[Any]] = {}

    def build(self, node: Node) -> st.SearchStrategy[Any]:
        if isinstance(node, AnyNode):
            return json_values()
        if isinstance(node, NoneNode):
            return st.none()
        if isinstance(node, BoolNode):
            return st.booleans()
        if isinstance(node, NumberNode):
            return _number(node)
        if isinstance(node, StrNode):
            return _string(node)
        if isinstance(node, ChoiceNode):
            return _choice(node)
        if isinstance(node, ListNode):
            low = node.min_len or 0
            high = low + _MAX_ITEMS if node.max_len is None else min(node.max_len, low + _MAX_ITEMS)
            items = st.lists(self.build(node.item), min_size=low, max_size=high)
            return items.map(tuple) if node.is_tuple else items
        if isinstance(node, DictNode):
            low = node.min_len or 0
            high = low + _MAX_ITEMS if node.max_len is None else min(node.max_len, low + _MAX_ITEMS)
            return st.dictionaries(
                st.text(max_size=12), self.build(node.value), min_size=low, max_size=high
            )
        if isinstance(node, TypedDictNode):
            return self.typed_dict(node)
        assert isinstance(node, UnionNode)
        members = [self.build(option) for option in node.options]
        if node.nullable:
            members.append(st.none())
        return st.one_of(members)

    def typed_dict(self, node: TypedDictNode) -> st.SearchStrategy[Any]:
        registered = _REGISTERED.get(node.cls)
        if registered is not None:
            return registered
        found = self.typed_dicts.get(node)
        if found is not None:
            return found
        # Deferred, so a recursive TypedDict refers to its own strategy instead of looping.
        self.typed_dicts[node] = st.deferred(lambda: strategy)
        required = {f.name: self.build(f.node) for f in node.fields if f.required}
        optional = {f.name: self.build(f.node) for f in node.fields if not f.required}
        strategy: st.SearchStrategy[Any] = st.fixed_dictionaries(required, optional=optional)
        if node.invariants:
            strategy = strategy.map(lambda value: _repair(node, value)).filter(
                lambda value: not _violations(node, value)
            )
        self.typed_dicts[node] = strategy
        return strategy


def _number(node: NumberNode) -> st.SearchStrategy[Any]:
    low: float = -math.inf
    high: float = math.inf
    exclude_low = exclude_high = False
    for op, bound in node.bounds:
        if op in (">", ">=") and bound >= low:
            low, exclude_low = bound, op == ">"
        elif op in ("<", "<=") and bound <= high:
            high, exclude_high = bound, op == "<"
    int_low = None if low == -math.inf else math.floor(low) + 1 if exclude_low else math.ceil(low)
    int_high = (
        None if high == math.inf else math.ceil(high) - 1 if exclude_high else math.floor(high)
    )
    integers: st.SearchStrategy[Any] = st.integers(int_low, int_high)
    if node.multiple_of is not None:
        step = node.multiple_of
        integers = integers.filter(lambda number: number % step == 0)
    if not node.is_float:
        return integers
    floats = st.floats(
        None if low == -math.inf else low,
        None if high == math.inf else high,
        allow_nan=False,
        allow_infinity=False,
        exclude_min=exclude_low and low != -math.inf,
        exclude_max=exclude_high and high != math.inf,
    )
    if node.multiple_of is not None:
        step = node.multiple_of
        floats = floats.filter(lambda number: number % step == 0)
    if int_low is not None and int_high is not None and int_low > int_high:
        return floats  # no int fits, e.g. (0, 1)
    return floats | integers


def _string(node: StrNode) -> st.SearchStrategy[Any]:
    low = node.min_len or 0
    if not node.formats:
        return st.text(min_size=low, max_size=low + 20 if node.max_len is None else node.max_len)
    high = math.inf if node.max_len is None else node.max_len
    first, *others = node.formats
    return st.from_regex(first.pattern, fullmatch=True).filter(
        lambda text: low <= len(text) <= high and all(fmt.matches(text) for fmt in others)
    )


def _choice(node: ChoiceNode) -> st.SearchStrategy[Any]:
    values: list[object] = [*sorted(node.strs), *sorted(node.ints), *node.bools]
    values += [member for enum_type in node.enum_classes for member in enum_type]
    values += list(node.enum_members)
    if node.none:
        values.append(None)
    return st.sampled_from(values)


def _violations(node: TypedDictNode, value: Mapping[str, Any]) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    for rule in node.invariants:
        found += [tuple(path) for path, _ in rule.check(value)]
    return found


def _repair(node: TypedDictNode, value: dict[str, Any]) -> dict[str, Any]:
    """Make ``value`` respect ``node``'s invariants where a generic fix works.

    Each rule's own repair (registered beside it) runs first. Then optional keys that a
    violation names are dropped (absent keys take their defaults, which satisfy the rules); if
    that is not enough, same-typed numeric fields are sorted into declaration order, which
    fixes the "earlier field <= later field" rules (timestamps, start/end ranges).
    """
    for rule in node.invariants:
        if rule.repair is not None:
            rule.repair(value)
    fields = {field.name: field for field in node.fields}
    for attempt in range(3):
        broken = _violations(node, value)
        if not broken:
            break
        dropped = False
        for path in broken:
            field = fields.get(path[0]) if path and isinstance(path[0], str) else None
            if field is not None and not field.required and field.name in value:
                del value[field.name]
                dropped = True
        if not dropped and attempt == 0:
            _sort_numbers(node, value)
    return value


def _sort_numbers(node: TypedDictNode, value: dict[str, Any]) -> None:
    groups: dict[tuple[object, ...], list[str]] = {}
    for field in node.fields:
        if isinstance(field.node, NumberNode) and field.name in value:
            key = (field.node.is_float, field.node.bounds, field.node.multiple_of)
            groups.setdefault(key, []).append(field.name)
    for names in groups.values():
        for name, number in zip(names, sorted(value[name] for name in names), strict=True):
            value[name] = number
