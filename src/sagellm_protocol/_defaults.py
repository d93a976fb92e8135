"""What is registered beside each type, read from the type tree: defaults and invariants."""

import copy
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from typing_extensions import TypeForm, assert_never

from ._registry import Factory
from ._tree.analyse import analyze
from ._tree.nodes import (
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
from ._tree.rules import could_be, tag_option

__all__ = ["defaults", "invariants", "make", "with_defaults"]

T = TypeVar("T")


def _typed_dict(tp: object, caller: str) -> TypedDictNode:
    try:
        node = analyze(tp)
    except TypeError:
        node = None
    if not isinstance(node, TypedDictNode):
        raise TypeError(f"{caller}() takes a protocol TypedDict, got {tp!r}")
    return node


def defaults(tp: TypeForm[Any]) -> dict[str, Any]:
    """A new dict of ``tp``'s optional keys and the default a receiver assumes for each.

    Computed defaults (a fresh UUID, "now") are made at call time; mutable ones are
    new objects on every call, so callers can change the result freely.
    """
    node = _typed_dict(tp, "defaults")
    return {key: _made(default) for key, default in node.defaults.items()}


def invariants(tp: TypeForm[Any]) -> dict[str, str]:
    """The cross-field rules of ``tp``, by name, each with what it says (its docstring).

    ``validate()`` checks every one; the dict is new on every call.
    """
    node = _typed_dict(tp, "invariants")
    return {rule.name: rule.description for rule in node.invariants}


def with_defaults(tp: TypeForm[T], value: T) -> T:
    """A new dict: ``value`` with every absent optional key set to its default.

    A required key whose type allows a single value (the ``event`` tag of a stream event,
    ``type: "function"`` of a tool) is set to that value when absent: the type fixes it.
    Nested protocol dicts (direct, optional, in lists or dicts, in unions) are completed too.
    ``value`` itself is never modified; its unchanged leaves are shared, not copied.
    """
    return cast(T, _completed(tp, value, "with_defaults"))


def make(tp: TypeForm[T], fields: T | Callable[[], T], /) -> T:
    """A new, valid ``tp``: ``fields`` completed with the defaults and fixed tags, validated.

    The constructor for code that called the original's models (``Metrics(ttft_ms=12.0)``
    becomes ``make(Metrics, {"ttft_ms": 12.0, ...})``): absent optional keys get the
    original's defaults (fresh objects on every call), nested protocol dicts are completed
    too, and absent tags are set as by :func:`with_defaults`. Raises ``ValidationError``
    with every issue when the result is not a valid ``tp``; ``TypeError`` when ``tp`` is not
    a protocol TypedDict or ``fields`` not a mapping. ``fields`` is never modified.
    """
    # The ``Callable`` member is never accepted (``TypeError``): a callable returning T in
    # the annotation makes mypy infer T from ``tp`` alone and then check ``fields`` against
    # it, so a dict literal with a typo'd key or a wrong value is a type error at the call.
    from .validation._api import validate  # the validator is loaded by the first make()

    return validate(tp, _completed(tp, fields, "make"))


def _completed(tp: object, value: object, caller: str) -> dict[str, Any]:
    node = _typed_dict(tp, caller)
    if not isinstance(value, Mapping):
        raise TypeError(f"{caller}() takes a mapping, got {type(value).__name__}")
    return _complete(node, value)


def _made(default: object) -> object:
    """A default's value for one use: computed now, or a copy the caller may change."""
    return default.make() if isinstance(default, Factory) else copy.deepcopy(default)


def _complete(node: TypedDictNode, value: Mapping[str, Any]) -> dict[str, Any]:
    # Keys in declaration order, as the original emits them; unknown keys last. Only the
    # defaults of absent keys are made (a Factory may create a UUID).
    registered = node.defaults
    completed: dict[str, Any] = {}
    for field in node.fields:
        name = field.name
        if name in value:
            completed[name] = _nested(field.node, value[name])
        elif name in registered:
            completed[name] = _made(registered[name])
        elif field.required and (fixed := _fixed_value(field.node)) is not None:
            completed[name] = fixed
    for key, item in value.items():
        completed.setdefault(key, item)
    return completed


def _fixed_value(node: Node) -> str | None:
    """The one wire string a ``Literal`` of a single string allows, else ``None``."""
    if isinstance(node, ChoiceNode) and len(node.strs) == 1 and len(node.shown_values) == 1:
        return next(iter(node.strs))
    return None


def _nested(node: Node, item: Any) -> Any:
    """``item`` with defaults filled inside it wherever ``node`` holds a protocol TypedDict."""
    match kind_of(node):
        case TypedDictNode() as typed:
            return _complete(typed, item) if isinstance(item, Mapping) else item
        case ListNode(item=inner) if isinstance(item, list | tuple):
            return type(item)(_nested(inner, element) for element in item)
        case DictNode(value=inner) if isinstance(item, Mapping):
            return {key: _nested(inner, element) for key, element in item.items()}
        case UnionNode() as union:
            option = _option(union, item)
            return item if option is None else _nested(option, item)
        case (
            ListNode()
            | DictNode()
            | AnyNode()
            | NoneNode()
            | BoolNode()
            | NumberNode()
            | StrNode()
            | ChoiceNode()
        ):
            return item  # a leaf, or a container given a value of another shape
        case unknown:
            assert_never(unknown)


def _option(node: UnionNode, item: Any) -> Node | None:
    """The option of the union ``node`` that ``item`` is a value of, if one can be told."""
    if node.tag is not None:
        return tag_option(node, item)[1] if isinstance(item, dict) else None
    candidates = [option for option in node.options if could_be(option, item)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    from .validation._api import node_accepts  # only ambiguous unions need the validator

    return next((option for option in candidates if node_accepts(option, item)), None)
