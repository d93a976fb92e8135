"""The one reader of type forms: annotations in, :mod:`.nodes` out.

This is the only code in the package that calls ``get_type_hints`` on TypedDicts or looks inside
``Annotated``, ``Literal``, ``NotRequired``, ``closed`` and ``extra_items``, and the only code that
reads their source (for the docstrings of keys).
"""

import ast
import enum
import functools
import inspect
import itertools
import sys
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
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

from .._registry import ANALYSED, DEFAULTS, INVARIANTS, SUGGESTIONS
from ..constraints import StringFormat
from .cache import FormCache, NodeCache
from .nodes import (
    ANY,
    BOOL,
    NONE,
    AnyNode,
    Bound,
    ChoiceNode,
    DictNode,
    Field,
    ListNode,
    Node,
    NoneNode,
    NumberNode,
    StrNode,
    TypedDictNode,
    UnionNode,
    children,
)

__all__ = [
    "KEYS_HEADING",
    "analyze",
    "documentation",
    "is_payload_type",
    "reaches_any",
    "reaches_recursive",
    "source_key_docs",
    "split_keys_section",
]

_NODES: Final[FormCache[Node]] = FormCache("node")
"""Nodes by the type form they were analysed from, each kept no longer than its type."""
_TYPED_DICTS_IN_PROGRESS: dict[type, TypedDictNode] = {}
"""TypedDicts being analysed: how a recursive one ends (its node exists, not yet filled)."""
_ALIASES_IN_PROGRESS: list[object] = []
_REACHES_RECURSIVE: Final[NodeCache[Node, bool]] = NodeCache()
_IS_RECURSIVE: Final[NodeCache[TypedDictNode, bool]] = NodeCache()
_REACHES_ANY: Final[NodeCache[Node, bool]] = NodeCache()
_DOCUMENTATION: Final[NodeCache[TypedDictNode, tuple[str, Mapping[str, str]]]] = NodeCache()


def analyze(tp: object) -> Node:
    """The node of type form ``tp``; raises ``TypeError`` for a form validation can't check.

    Each form is analysed once (an unhashable one once per equal form recently used).
    """
    return _NODES.get(tp, _analyze)


def is_payload_type(value: object) -> bool:
    """Whether ``value`` is a TypedDict or a union of TypedDicts (maybe with ``None``)."""
    if is_typeddict(value):
        return True
    if get_origin(value) is Union or isinstance(value, types.UnionType):
        members = [m for m in get_args(value) if m is not type(None)]
        return bool(members) and all(is_typeddict(m) for m in members)
    return False


def _analyze(tp: object) -> Node:
    if tp is Any or tp is object:
        return ANY
    if tp is None or tp is types.NoneType:
        return NONE
    if tp is bool:
        return BOOL
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
    if any(alias is seen for seen in _ALIASES_IN_PROGRESS):
        raise TypeError(
            f"validate() does not support the recursive type alias {alias.__name__}: "
            "use a recursive TypedDict"
        )
    _ALIASES_IN_PROGRESS.append(alias)
    try:
        return _analyze(alias.__value__)
    finally:
        _ALIASES_IN_PROGRESS.pop()


def _typed_dict(cls: type) -> TypedDictNode:
    node = _NODES.peek(cls) or _TYPED_DICTS_IN_PROGRESS.get(cls)
    if node is not None:
        assert isinstance(node, TypedDictNode)
        return node
    node = _TYPED_DICTS_IN_PROGRESS[cls] = TypedDictNode(cls, cls.__name__)
    try:
        hints = get_type_hints(cls, include_extras=True)
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
        node.defaults = DEFAULTS.get(cls, {})
        node.suggestions = SUGGESTIONS.get(cls, {})
        ANALYSED.add(cls)
    finally:
        del _TYPED_DICTS_IN_PROGRESS[cls]
    _NODES.put(cls, node)
    return node


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
    classes: list[type[enum.Enum]] = []
    members: list[enum.Enum] = []
    shown: list[object] = []
    for value in values:
        if isinstance(value, type) and issubclass(value, enum.Enum):
            classes.append(value)
            ANALYSED.add(value)
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
        tuple(dict.fromkeys(classes)),
        tuple(dict.fromkeys(members)),
        tuple(dict.fromkeys(shown)),
        _suggestions(classes),
    )


def _suggestions(enum_classes: Iterable[type[enum.Enum]]) -> dict[str, str]:
    return {sent: meant for cls in enum_classes for sent, meant in SUGGESTIONS.get(cls, {}).items()}


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
        flat.extend(member.options if isinstance(member, UnionNode) else [member])
        if isinstance(member, UnionNode) and member.nullable:
            flat.append(NONE)
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
            tuple(dict.fromkeys(e for c in choices for e in c.enum_classes)),
            tuple(dict.fromkeys(m for c in choices for m in c.enum_members)),
            tuple(dict.fromkeys(v for c in choices for v in c.shown_values)),
            _suggestions(e for c in choices for e in c.enum_classes),
        )
        if not rest:
            return merged
        rest.insert(0, merged)
    rest = list(dict.fromkeys(rest))
    if len(rest) == 1 and not nullable:
        return rest[0]
    tag, by_tag = _find_tag(rest)
    return UnionNode(tuple(rest), nullable, tag, by_tag)


def _find_tag(options: list[Node]) -> tuple[str | None, dict[str, TypedDictNode]]:
    """A key that is a required string choice in every option, with disjoint values."""
    if len(options) < 2 or not all(isinstance(m, TypedDictNode) for m in options):
        return None, {}
    typed = typing.cast(list[TypedDictNode], options)
    for candidate in typed[0].fields:
        by_tag: dict[str, TypedDictNode] = {}
        for option in typed:
            field = next((f for f in option.fields if f.name == candidate.name), None)
            node = field.node if field is not None and field.required else None
            if not (
                isinstance(node, ChoiceNode)
                and node.only_strings
                and by_tag.keys().isdisjoint(node.strs)
            ):
                break
            by_tag.update(dict.fromkeys(node.strs, option))
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
        if not any(_accepts(option, item) for option in node.options):
            raise TypeError(f"the constraint {item!r} fits no member of {tp!r}")
        options = tuple(_apply(m, item, tp) if _accepts(m, item) else m for m in node.options)
        return UnionNode(options, node.nullable, node.tag, node.by_tag)
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
    """``bound`` as the tree keeps it: an integral ``float`` (exact as a double) as its ``int``.

    ``typing`` caches ``Annotated`` forms by equal metadata, so ``Annotated[float, Ge(1.0)]``
    may be handed back as the ``Annotated[float, Ge(1)]`` built before it, or the reverse: one
    reading of both keeps verdicts, messages and schemas from depending on which came first.
    """
    if type(bound) is int:
        return bound
    if type(bound) is float and bound == bound:
        exact = bound.is_integer() and abs(bound) <= _EXACT_INTEGRAL_FLOATS
        return int(bound) if exact else bound
    raise TypeError(f"validate() supports int and float bounds only, got {bound!r} in {tp!r}")


_EXACT_INTEGRAL_FLOATS: Final = 2**53
"""Up to here every integer is a double: an integral ``float`` bound reads the same as an int."""


def _accepts(node: Node, item: object) -> bool:
    if isinstance(item, StringFormat):
        return isinstance(node, StrNode)
    if isinstance(item, at.MinLen | at.MaxLen):
        return isinstance(node, StrNode | ListNode | DictNode)
    return isinstance(node, NumberNode)


def reaches_recursive(node: Node) -> bool:
    """Whether values of ``node`` can nest without limit (it reaches a recursive TypedDict)."""
    return _REACHES_RECURSIVE.get(node, _reaches_recursive)


def _reaches_recursive(node: Node) -> bool:
    return (isinstance(node, TypedDictNode) and _is_recursive(node)) or any(
        isinstance(inner, TypedDictNode) and _is_recursive(inner)
        for inner in _reachable(children(node))
    )


def reaches_any(node: Node) -> bool:
    """Whether a value of ``node`` can hold an unchecked value (it reaches ``Any``)."""
    return _REACHES_ANY.get(
        node, lambda n: any(isinstance(inner, AnyNode) for inner in _reachable((n,)))
    )


def _is_recursive(node: TypedDictNode) -> bool:
    # Cycles can only close through TypedDict nodes: every other node is built fresh.
    return _IS_RECURSIVE.get(node, lambda n: any(inner is n for inner in _reachable(children(n))))


def _reachable(start: tuple[Node, ...]) -> list[Node]:
    out: list[Node] = []
    seen: set[Node] = set()
    stack = list(start)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            out.append(current)
            stack.extend(children(current))
    return out


KEYS_HEADING: Final = "Keys:"
"""The line that starts the generated key listing at the end of a TypedDict's class docstring.

``_key_help`` adds the listing (see ``_tree.listing``) to ``__doc__`` on first access so that
``inspect.getdoc`` shows every key; :func:`documentation` leaves it out.
"""


def split_keys_section(text: str) -> tuple[str, str]:
    """``text`` before the generated key listing (trailing whitespace removed), and the listing.

    The listing starts at the last line that is :data:`KEYS_HEADING` (indentation aside) and
    is either the first line or follows a blank one; without such a line it is ``""``. ``text``
    may be a cleaned docstring or the source between a docstring's quotes.
    """
    lines = text.split("\n")
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == KEYS_HEADING and (index == 0 or not lines[index - 1].strip()):
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:])
    return text.rstrip(), ""


def documentation(node: TypedDictNode) -> tuple[str, Mapping[str, str]]:
    """``node``'s class docstring (``""`` if none) and the docstring of each documented key.

    The class docstring is returned without its generated key listing (see
    :func:`split_keys_section`): the listing repeats the keys' docstrings. A key's docstring is
    the string literal right after its annotation in the class body, or in the body of the
    TypedDict base that declares it. Made once per node.
    """
    return _DOCUMENTATION.get(node, _documentation)


def _documentation(node: TypedDictNode) -> tuple[str, Mapping[str, str]]:
    doc = split_keys_section(inspect.cleandoc(node.cls.__doc__ or ""))[0]
    docs: dict[str, str] = {}
    for cls in reversed(_typed_dict_lineage(node.cls)):
        docs.update(_key_docs(cls.__module__, cls.__qualname__))
    return doc, {f.name: docs[f.name] for f in node.fields if f.name in docs}


def _key_docs(module_name: str, qualname: str) -> Mapping[str, str]:
    """The key docstrings of a class: the package's own from the notes written at build time
    (they do not depend on the ``.py`` files being installed), another's from its source."""
    if module_name == _PACKAGE or module_name.startswith(f"{_PACKAGE}."):
        from .._source_notes import KEY_DOCS

        return KEY_DOCS.get(f"{module_name}:{qualname}", {})
    return source_key_docs(module_name).get(qualname, {})


_PACKAGE: Final = __name__.split(".", 1)[0]


def _typed_dict_lineage(cls: type) -> list[type]:
    """``cls`` and its TypedDict bases, nearest first (a TypedDict's ``__mro__`` omits them)."""
    out: list[type] = []
    stack = [cls]
    while stack:
        current = stack.pop(0)
        if current not in out:
            out.append(current)
            stack.extend(b for b in getattr(current, "__orig_bases__", ()) if is_typeddict(b))
    return out


@functools.cache
def source_key_docs(module_name: str) -> dict[str, dict[str, str]]:
    """The docstring literal under each annotated name of each class of a module's source, by
    qualified class name; ``{}`` without source. (``scripts/generate_source_notes.py`` records
    the package's own.)"""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    except (OSError, TypeError, KeyError, SyntaxError):
        return {}
    found: dict[str, dict[str, str]] = {}
    pending: list[tuple[str, ast.AST]] = [("", tree)]
    while pending:
        prefix, parent = pending.pop()
        for child in ast.iter_child_nodes(parent):
            if isinstance(child, ast.ClassDef):
                docs = _class_key_docs(child)
                if docs:
                    found[prefix + child.name] = docs
                pending.append((f"{prefix}{child.name}.", child))
    return found


def _class_key_docs(definition: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    for statement, following in itertools.pairwise(definition.body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
