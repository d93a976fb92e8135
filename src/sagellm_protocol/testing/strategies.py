"""Hypothesis strategies that generate valid protocol values from their types, and their faults.

``from_type(Request)`` draws plain dicts that ``validate(Request, ...)`` accepts: annotated-types
bounds, lengths and string formats are respected, enum fields get wire strings or members, and
registered cross-field invariants hold (values are repaired where a generic repair works, and
the rest is filtered). Downstream repos use it for their own property tests; a type whose
invariants defeat the repair can get a hand-written strategy with :func:`register_strategy`.
Installing the package registers ``from_type`` with hypothesis itself (see
``sagellm_protocol._hypothesis``), so ``hypothesis.strategies.from_type(Request)`` draws the
same values. :func:`mutations` turns a valid value into single-fault invalid ones, each with the
path and code ``validate()`` reports.

Requires ``hypothesis`` (a test dependency, not a runtime one).
"""

import copy
import math
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from hypothesis import strategies as st
from typing_extensions import TypeForm, assert_never

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
    kind_of,
)
from .._tree.rules import could_be
from ..validation import collect_issues
from ..validation._issues import Path

__all__ = [
    "Mutation",
    "OptionalKeys",
    "from_type",
    "json_values",
    "mutations",
    "register_strategy",
]

_MAX_ITEMS = 4
"""Longest generated list or dict, beyond its minimum length: keeps examples small and fast."""

_REGISTERED: dict[type, st.SearchStrategy[Any]] = {}


def register_strategy(tp: type, strategy: st.SearchStrategy[Any]) -> None:
    """Use ``strategy`` for the TypedDict ``tp`` wherever :func:`from_type` meets it."""
    _REGISTERED[tp] = strategy


def json_values(max_leaves: int = 6, nulls: bool = True) -> st.SearchStrategy[Any]:
    """Small JSON values: null (unless ``nulls=False``), bools, ints, finite floats, short
    strings, lists and objects."""
    scalars = (
        (st.none() if nulls else st.nothing())
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


OptionalKeys = Literal["some", "all", "none"]
"""Which optional keys a generated TypedDict holds: any subset, all of them, or none."""


def from_type(
    tp: TypeForm[Any], *, optional_keys: OptionalKeys = "some", nulls: bool = True
) -> st.SearchStrategy[Any]:
    """A strategy drawing values of ``tp`` that ``validate(tp, value)`` accepts.

    ``optional_keys`` picks which optional keys each TypedDict holds: ``"some"`` (any subset),
    ``"all"`` (every one, except those a cross-field invariant needs absent) or ``"none"``.
    ``nulls=False`` draws no ``None`` where a non-null value is allowed as well. Strategies
    given to :func:`register_strategy` are used as they are, whatever the options.
    """
    if optional_keys not in ("some", "all", "none"):
        raise ValueError(
            f"invalid optional_keys {optional_keys!r}: expected 'some', 'all' or 'none'"
        )
    return _Builder(optional_keys, nulls).build(analyze(tp))


class _Builder:
    def __init__(self, optional_keys: OptionalKeys = "some", nulls: bool = True) -> None:
        self.optional_keys = optional_keys
        self.nulls = nulls
        self.typed_dicts: dict[TypedDictNode, st.SearchStrategy[Any]] = {}

    def build(self, node: Node) -> st.SearchStrategy[Any]:
        match kind_of(node):
            case AnyNode():
                return json_values(nulls=self.nulls)
            case NoneNode():
                return st.none()
            case BoolNode():
                return st.booleans()
            case NumberNode() as number:
                return _number(number)
            case StrNode() as string:
                return _string(string)
            case ChoiceNode() as choice:
                return _choice(choice, self.nulls)
            case ListNode() as sequence:
                low, high = _sizes(sequence.min_len, sequence.max_len)
                items = st.lists(self.build(sequence.item), min_size=low, max_size=high)
                return items.map(tuple) if sequence.is_tuple else items
            case DictNode() as mapping:
                low, high = _sizes(mapping.min_len, mapping.max_len)
                keys = st.text(max_size=12)
                return st.dictionaries(keys, self.build(mapping.value), min_size=low, max_size=high)
            case TypedDictNode() as typed:
                return self.typed_dict(typed)
            case UnionNode() as union:
                members = [self.build(option) for option in union.options]
                if union.nullable and (self.nulls or not members):
                    members.append(st.none())
                return st.one_of(members)
            case unknown:
                assert_never(unknown)

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
        if self.optional_keys == "all":
            required, optional = {**required, **optional}, {}
        elif self.optional_keys == "none":
            optional = {}
        strategy: st.SearchStrategy[Any] = st.fixed_dictionaries(required, optional=optional)
        if node.invariants:
            strategy = strategy.map(lambda value: _repair(node, value)).filter(
                lambda value: not _violations(node, value)
            )
        self.typed_dicts[node] = strategy
        return strategy


def _sizes(min_len: int | None, max_len: int | None) -> tuple[int, int]:
    """The smallest and largest container to draw: at most ``_MAX_ITEMS`` beyond the minimum."""
    low = min_len or 0
    return low, low + _MAX_ITEMS if max_len is None else min(max_len, low + _MAX_ITEMS)


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


def _choice(node: ChoiceNode, nulls: bool) -> st.SearchStrategy[Any]:
    values: list[object] = [*sorted(node.strs), *sorted(node.ints), *node.bools]
    values += [member for enum_type in node.enum_classes for member in enum_type]
    values += list(node.enum_members)
    if node.none and (nulls or not values):
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


class Mutation(NamedTuple):
    """A single-fault invalid variant of a valid value, and what ``validate()`` must report."""

    kind: Literal["drop", "extra", "range", "nan", "length", "swap", "format"]
    """The fault: a required key dropped, an undeclared key added, a number out of its bounds,
    NaN for a float, a string or list out of its lengths, a value of a wrong JSON type (``None``
    first), a string out of its format."""
    path: Path
    """Where ``validate()`` reports it: the dropped or added key, or the changed value."""
    code: str
    """The issue code ``validate()`` reports at :attr:`path` (one of ``CODES``)."""
    value: Any
    """The whole variant: a deep copy of the valid value with the one fault."""


_UNKNOWN_KEY = "zz_unknown"
"""The key the ``extra`` mutation adds to closed types: declared by none of them."""

_SWAPS: tuple[object, ...] = (None, True, 0, 0.5, "x", [], {})
"""One value of each JSON type; a ``swap`` puts the first its site cannot hold."""


def mutations(tp: TypeForm[Any], value: object) -> list[Mutation]:
    """Every single-fault invalid variant of the valid ``value`` of ``tp``, in path order.

    Each variant breaks one rule at one place, and ``validate(tp, variant)`` reports exactly
    one issue, with the mutation's path and code. Positions under an untagged union of several
    members are left out: a fault there is reported at the union, as no member matching.
    ``value`` is not changed. Raises ``ValueError`` with the first issue when ``value`` is not
    valid.
    """
    issues = collect_issues(tp, value)
    if issues:
        raise ValueError(f"mutations() needs a valid value of {tp!r}; {issues[0]}")
    found: list[Mutation] = []

    def add(kind: Any, path: Path, code: str, at: Path, new: object) -> None:
        found.append(Mutation(kind, path, code, _replaced(value, at, new)))

    for path, site, current in _sites(analyze(tp), value, ()):
        if isinstance(site, TypedDictNode) and isinstance(current, dict):
            for field in site.fields:
                if field.required:
                    dropped = {key: item for key, item in current.items() if key != field.name}
                    add("drop", (*path, field.name), "missing", path, dropped)
            if site.extra is None:
                add("extra", (*path, _UNKNOWN_KEY), "extra", path, {**current, _UNKNOWN_KEY: 1})
        if isinstance(site, NumberNode) and site.bounds:
            add("range", path, "range", path, _out_of_range(site))
        if isinstance(site, NumberNode) and site.is_float:
            add("nan", path, "range", path, math.nan)
        if isinstance(site, StrNode) and not site.formats and site.max_len is not None:
            add("length", path, "length", path, "x" * (site.max_len + 1))
        if isinstance(site, StrNode | ListNode) and site.min_len:
            add("length", path, "length", path, "" if isinstance(site, StrNode) else [])
        if isinstance(site, StrNode) and site.formats:
            add("format", path, "format", path, "NOT A FORMAT")
        swap = next((other for other in _SWAPS if not could_be(site, other)), _NO_SWAP)
        if path and swap is not _NO_SWAP:
            code = "literal" if isinstance(site, ChoiceNode) else "type"
            add("swap", path, code, path, swap)
    return found


_NO_SWAP = object()


def _sites(node: Node, value: object, path: Path) -> list[tuple[Path, Node, object]]:
    """``(path, node, value)`` of every position of ``value`` a mutation may target."""
    out: list[tuple[Path, Node, object]] = [(path, node, value)]
    if isinstance(node, UnionNode):
        if value is None:
            return out
        if node.tag is not None and isinstance(value, dict):
            member = node.by_tag.get(value.get(node.tag))  # type: ignore[arg-type]
            return out + _sites(member, value, path)[1:] if member is not None else out
        if len(node.options) == 1:
            return out + _sites(node.options[0], value, path)[1:]
        return out
    if isinstance(node, TypedDictNode) and isinstance(value, dict):
        for field in node.fields:
            if field.name in value:
                out += _sites(field.node, value[field.name], (*path, field.name))
    elif isinstance(node, ListNode) and isinstance(value, list | tuple):
        for index, item in enumerate(value):
            out += _sites(node.item, item, (*path, index))
    elif isinstance(node, DictNode) and isinstance(value, dict):
        for key, item in value.items():
            out += _sites(node.value, item, (*path, key))
    return out


def _replaced(root: object, path: Path, new: object) -> object:
    """A deep copy of ``root`` with the value at ``path`` replaced by ``new``."""
    if not path:
        return new
    *parents, last = path
    copied: Any = copy.deepcopy(root)
    chain = [copied]
    for key in parents:
        chain.append(chain[-1][key])
    target = chain[-1]
    if isinstance(target, tuple):  # immutable: rebuild it, then put it back in its parent
        items = list(target)
        items[int(last)] = new
        return _replaced(copied, tuple(parents), tuple(items))
    target[last] = new
    return copied


def _out_of_range(node: NumberNode) -> int | float:
    op, bound = node.bounds[0]
    step = 1 if not node.is_float else max(1.0, abs(bound))
    return {">=": bound - step, ">": bound, "<=": bound + step, "<": bound}[op]
