"""Type forms analysed once into a small tree of nodes, shared by the compiler and the precise pass.

All type introspection happens here; what follows only reads the nodes.
"""

import enum
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, Final, Literal, NewType, Union, get_args, get_origin

import annotated_types as at
from typing_extensions import (
    NoExtraItems,
    NotRequired,
    ReadOnly,
    Required,
    TypeAliasType,
    get_type_hints,
    is_typeddict,
)

from .._registry import INVARIANTS, InvariantCheck
from ..constraints import StringFormat

__all__ = [
    "ANY",
    "LOCK",
    "AnyNode",
    "BoolNode",
    "ChoiceNode",
    "DictNode",
    "Field",
    "ListNode",
    "Node",
    "NoneNode",
    "NumberNode",
    "StrNode",
    "TypedDictNode",
    "UnionNode",
    "analyze",
    "children",
    "describe",
    "is_unbounded",
]

LOCK: Final = threading.RLock()
"""Guards analysis and compilation: a type is analysed and compiled once, whatever the threads."""


class Node:
    """A type form, analysed. ``fast`` caches its compiled checker (see ``_compile``)."""

    __slots__ = ("__weakref__", "fast", "unbounded")

    def __init__(self) -> None:
        self.fast: Callable[[object], bool] | None = None
        self.unbounded: bool | None = None


class AnyNode(Node):
    """``Any`` / ``object``: every value, never traversed."""

    __slots__ = ()


class NoneNode(Node):
    """``None``."""

    __slots__ = ()


class BoolNode(Node):
    """``bool``."""

    __slots__ = ()


Bound = tuple[Literal[">", ">=", "<", "<="], int | float]
"""A comparison the value must satisfy: ``value <op> bound``."""


class NumberNode(Node):
    """``int`` (exactly, never ``bool``) or ``float`` (finite ``float`` or ``int``) with bounds."""

    __slots__ = ("bounds", "is_float", "multiple_of")

    def __init__(
        self, is_float: bool, bounds: tuple[Bound, ...] = (), multiple_of: int | float | None = None
    ) -> None:
        super().__init__()
        self.is_float = is_float
        self.bounds = bounds
        self.multiple_of = multiple_of


class StrNode(Node):
    """``str`` (subclasses such as str enum members too) with length bounds and formats."""

    __slots__ = ("formats", "max_len", "min_len")

    def __init__(
        self,
        min_len: int | None = None,
        max_len: int | None = None,
        formats: tuple[StringFormat, ...] = (),
    ) -> None:
        super().__init__()
        self.min_len = min_len
        self.max_len = max_len
        self.formats = formats


class ChoiceNode(Node):
    """``Literal`` values and ``Enum`` classes (members or their values), maybe ``None``."""

    __slots__ = ("bools", "enums", "ints", "members", "none", "shown", "strs")

    def __init__(
        self,
        strs: frozenset[str],
        ints: frozenset[int],
        bools: tuple[bool, ...],
        none: bool,
        enums: tuple[type[enum.Enum], ...],
        members: tuple[enum.Enum, ...],
        shown: tuple[object, ...],
    ) -> None:
        super().__init__()
        self.strs = strs
        self.ints = ints
        self.bools = bools
        self.none = none
        self.enums = enums
        self.members = members
        self.shown = shown


class ListNode(Node):
    """``list[T]`` (or ``tuple[T, ...]`` when ``is_tuple``) with length bounds."""

    __slots__ = ("is_tuple", "item", "max_len", "min_len")

    def __init__(
        self,
        item: Node,
        is_tuple: bool = False,
        min_len: int | None = None,
        max_len: int | None = None,
    ) -> None:
        super().__init__()
        self.item = item
        self.is_tuple = is_tuple
        self.min_len = min_len
        self.max_len = max_len


class DictNode(Node):
    """``dict[str, T]`` with length bounds."""

    __slots__ = ("max_len", "min_len", "value")

    def __init__(self, value: Node, min_len: int | None = None, max_len: int | None = None) -> None:
        super().__init__()
        self.value = value
        self.min_len = min_len
        self.max_len = max_len


class Field(typing.NamedTuple):
    """One declared key of a TypedDict."""

    name: str
    node: Node
    required: bool


class TypedDictNode(Node):
    """A TypedDict: declared fields, what extra keys may hold, and its invariants.

    ``extra`` is ``None`` for a closed type (no extra keys), ``ANY`` for an open one.
    """

    __slots__ = ("cls", "declared", "extra", "fields", "invariants", "name")

    def __init__(self, cls: type, name: str) -> None:
        super().__init__()
        self.cls = cls
        self.name = name
        self.fields: tuple[Field, ...] = ()
        self.declared: frozenset[str] = frozenset()
        self.extra: Node | None = None
        self.invariants: tuple[InvariantCheck, ...] = ()


class UnionNode(Node):
    """A union. ``tag`` names a key whose ``Literal`` value picks the member (``by_tag``)."""

    __slots__ = ("by_tag", "members", "nullable", "tag")

    def __init__(
        self,
        members: tuple[Node, ...],
        nullable: bool,
        tag: str | None,
        by_tag: dict[str, TypedDictNode],
    ) -> None:
        super().__init__()
        self.members = members
        self.nullable = nullable
        self.tag = tag
        self.by_tag = by_tag


ANY: Final = AnyNode()
_NONE: Final = NoneNode()
_BOOL: Final = BoolNode()

_NODES: dict[object, Node] = {}
_TYPED_DICTS: dict[type, TypedDictNode] = {}
_ALIASES_IN_PROGRESS: set[int] = set()


def analyze(tp: object) -> Node:
    """The node of type form ``tp``; raises ``TypeError`` for a form validation can't check."""
    try:
        return _NODES[tp]
    except KeyError:
        pass
    except TypeError:  # unhashable metadata in an Annotated: analyse without caching
        with LOCK:
            return _analyze(tp)
    with LOCK:
        node = _NODES.get(tp)
        if node is None:
            node = _NODES[tp] = _analyze(tp)
        return node


def _analyze(tp: object) -> Node:
    if tp is Any or tp is object:
        return ANY
    if tp is None or tp is types.NoneType:
        return _NONE
    if tp is bool:
        return _BOOL
    if tp is int or tp is float:
        return NumberNode(is_float=tp is float)
    if tp is str:
        return StrNode()
    if tp is list or tp is tuple:
        return ListNode(ANY, is_tuple=tp is tuple)
    if tp is dict:
        return DictNode(ANY)
    if is_typeddict(tp):
        return _typed_dict(typing.cast(type, tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _choice([tp])
    if isinstance(tp, TypeAliasType | getattr(typing, "TypeAliasType", TypeAliasType)):
        return _alias(tp)
    if isinstance(tp, NewType):
        return _analyze(tp.__supertype__)
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated:
        return _constrained(_analyze(args[0]), _expand(getattr(tp, "__metadata__", ())), tp)
    if origin is Union or isinstance(tp, types.UnionType):
        return _union([_analyze(arg) for arg in args])
    if origin is Literal:
        return _choice(list(args))
    if origin is list:
        return ListNode(_analyze(args[0]) if args else ANY)
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return ListNode(_analyze(args[0]) if args else ANY, is_tuple=True)
        raise TypeError(
            f"validate() does not support fixed-length tuples such as {tp!r}: "
            "the wire has arrays, use list[T] or tuple[T, ...]"
        )
    if origin is dict:
        if args and args[0] is not str and args[0] is not Any:
            raise TypeError(
                f"validate() supports dict[str, T] only (JSON keys are strings), got {tp!r}"
            )
        return DictNode(_analyze(args[1]) if args else ANY)
    if origin in (Required, NotRequired, ReadOnly):
        return _analyze(args[0])
    if isinstance(tp, str | typing.ForwardRef):
        raise TypeError(
            f"validate() takes a type, not the name {tp!r}: use validate_by_name() for names"
        )
    raise TypeError(f"validate() does not support the type form {tp!r}")


def _alias(alias: Any) -> Node:
    key = id(alias)
    if key in _ALIASES_IN_PROGRESS:
        raise TypeError(
            f"validate() does not support the recursive type alias {alias.__name__}: "
            "use a recursive TypedDict"
        )
    _ALIASES_IN_PROGRESS.add(key)
    try:
        return _analyze(alias.__value__)
    finally:
        _ALIASES_IN_PROGRESS.discard(key)


def _typed_dict(cls: type) -> TypedDictNode:
    node = _TYPED_DICTS.get(cls)
    if node is not None:  # also how recursive TypedDicts end: the node exists, maybe unfilled
        return node
    node = _TYPED_DICTS[cls] = TypedDictNode(cls, cls.__name__)
    try:
        namespace = {**vars(sys.modules[cls.__module__]), cls.__name__: cls}
        hints = {
            name: _resolve_names(hint, namespace)
            for name, hint in get_type_hints(cls, include_extras=True).items()
        }
        required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
        node.fields = tuple(
            Field(name, _analyze(_field_type(hint)), name in required_keys)
            for name, hint in hints.items()
        )
        node.declared = frozenset(hints)
        extra_items = getattr(cls, "__extra_items__", NoExtraItems)
        if extra_items is not NoExtraItems:
            node.extra = _analyze(_field_type(extra_items))
        elif getattr(cls, "__closed__", None) is True:
            node.extra = None
        else:
            node.extra = ANY
        node.invariants = tuple(INVARIANTS.get(cls, ()))
    except Exception:
        del _TYPED_DICTS[cls]
        raise
    return node


def _resolve_names(hint: Any, namespace: dict[str, Any]) -> Any:
    """``hint`` with names left as strings inside generics evaluated in ``namespace``.

    ``get_type_hints`` leaves ``list["Tree"]`` unresolved before Python 3.11.
    """
    if isinstance(hint, str | typing.ForwardRef):
        source = hint if isinstance(hint, str) else hint.__forward_arg__
        return _resolve_names(eval(source, namespace), namespace)  # as get_type_hints does
    origin, args = get_origin(hint), get_args(hint)
    if not args or origin is Literal:
        return hint
    if origin is typing.Annotated:
        inner = _resolve_names(args[0], namespace)
        params = (inner, *hint.__metadata__)
        return hint if inner is args[0] else typing.Annotated[params]
    resolved = tuple(_resolve_names(arg, namespace) for arg in args)
    if all(new is old for new, old in zip(resolved, args, strict=True)):
        return hint
    if origin is Union or isinstance(hint, types.UnionType):
        return Union[resolved]  # noqa: UP007 (members known only at run time)
    return origin[resolved] if len(resolved) > 1 else origin[resolved[0]]


def _field_type(hint: object) -> object:
    """Strip ``Required``/``NotRequired``/``ReadOnly`` (maybe inside ``Annotated``)."""
    origin = get_origin(hint)
    if origin in (Required, NotRequired, ReadOnly):
        return _field_type(get_args(hint)[0])
    if origin is typing.Annotated:
        inner = get_args(hint)[0]
        stripped = _field_type(inner)
        if stripped is not inner:
            metadata: tuple[object, ...] = getattr(hint, "__metadata__", ())
            params = (stripped, *metadata)
            return typing.Annotated[params]
    return hint


def _choice(values: list[object]) -> ChoiceNode:
    strs: set[str] = set()
    ints: set[int] = set()
    bools: list[bool] = []
    none = False
    enums: list[type[enum.Enum]] = []
    members: list[enum.Enum] = []
    shown: list[object] = []
    for value in values:
        if isinstance(value, type) and issubclass(value, enum.Enum):
            enums.append(value)
            for member in value:
                _add_wire_value(member.value, strs, ints, value)
                shown.append(member.value)
        elif isinstance(value, enum.Enum):
            members.append(value)
            _add_wire_value(value.value, strs, ints, value)
            shown.append(value.value)
        elif value is None:
            none = True
        elif type(value) is bool:
            bools.append(value)
            shown.append(value)
        elif type(value) in (str, int):
            _add_wire_value(value, strs, ints, value)
            shown.append(value)
        else:
            raise TypeError(f"validate() does not support the Literal value {value!r}")
    return ChoiceNode(
        frozenset(strs),
        frozenset(ints),
        tuple(dict.fromkeys(bools)),
        none,
        tuple(dict.fromkeys(enums)),
        tuple(dict.fromkeys(members)),
        tuple(dict.fromkeys(shown)),
    )


def _add_wire_value(value: object, strs: set[str], ints: set[int], where: object) -> None:
    if isinstance(value, str):
        strs.add(str.__str__(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        ints.add(int.__index__(value))
    else:
        raise TypeError(
            f"validate() supports str and int enum values only, {where!r} has {value!r}"
        )


def _union(members: list[Node]) -> Node:
    flat: list[Node] = []
    for member in members:
        flat.extend(member.members if isinstance(member, UnionNode) else [member])
        if isinstance(member, UnionNode) and member.nullable:
            flat.append(_NONE)
    if any(isinstance(member, AnyNode) for member in flat):
        return ANY
    choices = [member for member in flat if isinstance(member, ChoiceNode)]
    nullable = any(isinstance(member, NoneNode) for member in flat) or any(
        choice.none for choice in choices
    )
    rest = [member for member in flat if not isinstance(member, ChoiceNode | NoneNode)]
    if choices:
        # Literal aliases and their enums (``XName | X``) become one set of wire values.
        merged = ChoiceNode(
            frozenset().union(*(c.strs for c in choices)),
            frozenset().union(*(c.ints for c in choices)),
            tuple(dict.fromkeys(b for c in choices for b in c.bools)),
            nullable and not rest,
            tuple(dict.fromkeys(e for c in choices for e in c.enums)),
            tuple(dict.fromkeys(m for c in choices for m in c.members)),
            tuple(dict.fromkeys(v for c in choices for v in c.shown)),
        )
        if not rest:
            return merged
        rest.insert(0, merged)
    rest = list(dict.fromkeys(rest))
    if len(rest) == 1 and not nullable:
        return rest[0]
    tag, by_tag = _find_tag(rest)
    return UnionNode(tuple(rest), nullable, tag, by_tag)


def _find_tag(members: list[Node]) -> tuple[str | None, dict[str, TypedDictNode]]:
    """A key that is a required string ``Literal`` in every member, with disjoint values."""
    if len(members) < 2 or not all(isinstance(m, TypedDictNode) for m in members):
        return None, {}
    typed = typing.cast(list[TypedDictNode], members)
    for candidate in typed[0].fields:
        by_tag: dict[str, TypedDictNode] = {}
        for member in typed:
            field = next((f for f in member.fields if f.name == candidate.name), None)
            node = field.node if field is not None and field.required else None
            if not (
                isinstance(node, ChoiceNode)
                and node.strs
                and not (node.ints or node.bools or node.none or node.members or node.enums)
                and by_tag.keys().isdisjoint(node.strs)
            ):
                break
            by_tag.update(dict.fromkeys(node.strs, member))
        else:
            return candidate.name, by_tag
    return None, {}


def _expand(metadata: tuple[object, ...]) -> Iterator[object]:
    for item in metadata:
        if isinstance(item, at.GroupedMetadata):
            yield from _expand(tuple(item))
        else:
            yield item


def _constrained(node: Node, metadata: Iterator[object], tp: object) -> Node:
    for item in metadata:
        if isinstance(
            item,
            StringFormat | at.Gt | at.Ge | at.Lt | at.Le | at.MultipleOf | at.MinLen | at.MaxLen,
        ):
            node = _apply(node, item, tp)
        elif isinstance(item, at.BaseMetadata):
            raise TypeError(f"validate() does not support the constraint {item!r} in {tp!r}")
        # Other metadata (documentation, other tools' markers) is not ours to check.
    return node


def _apply(node: Node, item: object, tp: object) -> Node:
    if isinstance(node, UnionNode):
        applied = [m for m in node.members if _accepts(m, item)]
        if not applied:
            raise TypeError(f"the constraint {item!r} fits no member of {tp!r}")
        members = tuple(_apply(m, item, tp) if _accepts(m, item) else m for m in node.members)
        return UnionNode(members, node.nullable, node.tag, node.by_tag)
    if not _accepts(node, item):
        raise TypeError(f"the constraint {item!r} does not apply to the type in {tp!r}")
    if isinstance(item, StringFormat):
        assert isinstance(node, StrNode)
        return StrNode(node.min_len, node.max_len, (*node.formats, item))
    if isinstance(item, at.MinLen | at.MaxLen):
        low = item.min_length if isinstance(item, at.MinLen) else None
        high = item.max_length if isinstance(item, at.MaxLen) else None
        assert isinstance(node, StrNode | ListNode | DictNode)
        low = max(low, node.min_len or 0) if low is not None else node.min_len
        high = (
            min(high, node.max_len)
            if high is not None and node.max_len is not None
            else (high if high is not None else node.max_len)
        )
        if isinstance(node, StrNode):
            return StrNode(low, high, node.formats)
        if isinstance(node, ListNode):
            return ListNode(node.item, node.is_tuple, low, high)
        return DictNode(node.value, low, high)
    assert isinstance(node, NumberNode)
    if isinstance(item, at.MultipleOf):
        return NumberNode(node.is_float, node.bounds, _number(item.multiple_of, tp))
    op, bound = (
        (">", item.gt)
        if isinstance(item, at.Gt)
        else (">=", item.ge)
        if isinstance(item, at.Ge)
        else ("<", item.lt)
        if isinstance(item, at.Lt)
        else ("<=", typing.cast(at.Le, item).le)
    )
    new: Bound = (typing.cast(Any, op), _number(bound, tp))
    return NumberNode(node.is_float, (*node.bounds, new), node.multiple_of)


def _number(bound: object, tp: object) -> int | float:
    if type(bound) is int or (type(bound) is float and bound == bound):
        return bound
    raise TypeError(f"validate() supports int and float bounds only, got {bound!r} in {tp!r}")


def _accepts(node: Node, item: object) -> bool:
    if isinstance(item, StringFormat):
        return isinstance(node, StrNode)
    if isinstance(item, at.MinLen | at.MaxLen):
        return isinstance(node, StrNode | ListNode | DictNode)
    return isinstance(node, NumberNode)


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside ``node``."""
    if isinstance(node, ListNode):
        return (node.item,)
    if isinstance(node, DictNode):
        return (node.value,)
    if isinstance(node, TypedDictNode):
        inner = tuple(field.node for field in node.fields)
        return (*inner, node.extra) if node.extra is not None else inner
    if isinstance(node, UnionNode):
        return node.members
    return ()


def is_unbounded(node: Node) -> bool:
    """Whether values of ``node`` can nest without limit (it reaches a recursive TypedDict)."""
    if node.unbounded is None:
        with LOCK:
            node.unbounded = any(
                isinstance(inner, TypedDictNode) and _is_recursive(inner)
                for inner in _reachable(children(node))
            ) or (isinstance(node, TypedDictNode) and _is_recursive(node))
    return node.unbounded


_RECURSIVE: dict[int, bool] = {}


def _is_recursive(node: TypedDictNode) -> bool:
    # Cycles can only close through TypedDict nodes: every other node is built fresh.
    known = _RECURSIVE.get(id(node))
    if known is None:
        known = _RECURSIVE[id(node)] = any(inner is node for inner in _reachable(children(node)))
    return known


def _reachable(start: tuple[Node, ...]) -> list[Node]:
    out: list[Node] = []
    seen: set[int] = set()
    stack = list(start)
    while stack:
        current = stack.pop()
        if id(current) not in seen:
            seen.add(id(current))
            out.append(current)
            stack.extend(children(current))
    return out


def describe(node: Node) -> str:
    """What ``node`` expects, for messages: ``"an int >= 0"``, ``"a Request object"``."""
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
        return f"a {node.name} object"
    assert isinstance(node, UnionNode)
    if node.tag is not None and all(isinstance(m, TypedDictNode) for m in node.members):
        names = " | ".join(typing.cast(TypedDictNode, m).name for m in node.members)
        text = f"a {names} object"
    else:
        text = " or ".join(describe(m) for m in node.members)
    return text + " or None" if node.nullable else text


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
        spelled = " | ".join(_spelled(member) for member in node.members)
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
    shown = [repr(value) for value in node.shown]
    tail = " or None" if node.none else ""
    if len(shown) == 1:
        return shown[0] + tail
    if len(shown) > 12:
        return f"one of {', '.join(shown[:10])}, … ({len(shown)} values){tail}"
    return f"one of {', '.join(shown)}{tail}"
