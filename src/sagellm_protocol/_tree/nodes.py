"""The nodes of the analysed type tree: plain data, one node per type form.

A node describes one type form and nothing else. What consumers derive from it — the compiled
checker, the precise pass's field scanner, the "expected …" text, the JSON mirror — each keeps
in a cache of its own that drops the value with the node (see ``cache``).
"""

import enum
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Literal, NamedTuple, TypeAlias, cast

from typing_extensions import assert_never

from ..constraints import StringFormat

if TYPE_CHECKING:
    from .._registry import Invariant

__all__ = [
    "ANY",
    "BOOL",
    "LOCK",
    "NONE",
    "AnyNode",
    "BoolNode",
    "Bound",
    "ChoiceNode",
    "ContainerKind",
    "DictNode",
    "Field",
    "LeafKind",
    "ListNode",
    "Node",
    "NodeKind",
    "NoneNode",
    "NumberNode",
    "StrNode",
    "TypedDictNode",
    "UnionNode",
    "children",
    "kind_of",
]

LOCK: Final = threading.RLock()
"""Guards analysis and everything derived from nodes: each is made once, whatever the threads."""


class Node:
    """A type form, analysed: immutable data once analysis returns it.

    What consumers derive from a node (compiled checkers, messages, JSON mirrors) they keep in
    caches of their own, keyed weakly by the node (see ``cache.NodeCache``).
    """

    __slots__ = ("__weakref__",)


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
    """``Literal`` values and ``Enum`` classes (their members or their values), maybe ``None``.

    ``strs`` and ``ints`` are the wire values; ``enum_classes`` accept any of their members and
    ``enum_members`` those exact members; ``shown_values`` are the values messages list;
    ``suggestions`` the registered meaning of values real callers send (see ``_registry``).
    """

    __slots__ = (
        "bools",
        "enum_classes",
        "enum_members",
        "ints",
        "none",
        "shown_values",
        "strs",
        "suggestions",
    )

    def __init__(
        self,
        strs: frozenset[str],
        ints: frozenset[int],
        bools: tuple[bool, ...],
        none: bool,
        enum_classes: tuple[type[enum.Enum], ...],
        enum_members: tuple[enum.Enum, ...],
        shown_values: tuple[object, ...],
        suggestions: Mapping[str, str],
    ) -> None:
        super().__init__()
        self.strs = strs
        self.ints = ints
        self.bools = bools
        self.none = none
        self.enum_classes = enum_classes
        self.enum_members = enum_members
        self.shown_values = shown_values
        self.suggestions = suggestions

    @property
    def only_strings(self) -> bool:
        """Whether every accepted value is a ``str``: wire strings and members of str enums."""
        return (
            bool(self.strs)
            and not (self.ints or self.bools or self.none or self.enum_members)
            and all(issubclass(cls, str) for cls in self.enum_classes)
        )


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


class Field(NamedTuple):
    """One declared key of a TypedDict."""

    name: str
    node: Node
    required: bool


class TypedDictNode(Node):
    """A TypedDict: declared fields, what extra keys may hold, its invariants and defaults.

    ``extra`` is ``None`` for a closed type (no extra keys), ``ANY`` for an open one.
    """

    __slots__ = (
        "cls",
        "declared",
        "defaults",
        "extra",
        "fields",
        "invariants",
        "name",
        "suggestions",
    )

    def __init__(self, cls: type, name: str) -> None:
        super().__init__()
        self.cls = cls
        self.name = name
        self.fields: tuple[Field, ...] = ()
        self.declared: frozenset[str] = frozenset()
        self.extra: Node | None = None
        self.invariants: tuple[Invariant, ...] = ()
        self.defaults: Mapping[str, object] = {}
        """The registered defaults of optional keys: plain values or ``Factory`` objects."""
        self.suggestions: Mapping[str, str] = {}
        """What a caller sending each registered unknown key means (see ``_registry``)."""


class UnionNode(Node):
    """A union of ``options``. ``tag`` names a key whose string value picks the option."""

    __slots__ = ("by_tag", "nullable", "options", "tag")

    def __init__(
        self,
        options: tuple[Node, ...],
        nullable: bool,
        tag: str | None,
        by_tag: Mapping[str, TypedDictNode],
    ) -> None:
        super().__init__()
        self.options = options
        self.nullable = nullable
        self.tag = tag
        self.by_tag = by_tag
        """The option of each tag value (str enum members find theirs: they hash as their value)."""


ANY: Final = AnyNode()
NONE: Final = NoneNode()
BOOL: Final = BoolNode()


LeafKind: TypeAlias = NoneNode | BoolNode | NumberNode | StrNode | ChoiceNode
"""The kinds whose values hold no other values: checked at once, never walked into."""
ContainerKind: TypeAlias = TypedDictNode | ListNode | DictNode | UnionNode
"""The kinds whose values are walked into."""
NodeKind: TypeAlias = AnyNode | LeafKind | ContainerKind
"""Every kind of node, each in one group. Walkers ``match`` over :func:`kind_of` and end with
``assert_never``, so that mypy names each walker a new kind is missing from; a hot walker may
route by group first (see ``validation._precise``), then dispatch exhaustively within it."""


def kind_of(node: Node) -> NodeKind:
    """``node`` as the one kind it is (analysis makes no other)."""
    return cast(NodeKind, node)


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside ``node``."""
    match kind_of(node):
        case ListNode(item=item):
            return (item,)
        case DictNode(value=value):
            return (value,)
        case TypedDictNode() as typed:
            inner = tuple(field.node for field in typed.fields)
            return (*inner, typed.extra) if typed.extra is not None else inner
        case UnionNode(options=options):
            return options
        case AnyNode() | NoneNode() | BoolNode() | NumberNode() | StrNode() | ChoiceNode():
            return ()
        case unknown:
            assert_never(unknown)
