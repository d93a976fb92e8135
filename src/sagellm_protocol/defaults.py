"""The original defaults of every type's optional keys, reachable at runtime."""

import copy
import functools
from collections.abc import Mapping
from typing import Any, TypeVar, cast, get_args, get_origin

from typing_extensions import TypeForm, get_type_hints, is_typeddict

from ._registry import DEFAULTS, Factory

__all__ = ["defaults", "with_defaults"]

T = TypeVar("T")


def defaults(tp: TypeForm[Any]) -> dict[str, Any]:
    """A new dict of ``tp``'s optional keys and the default a receiver assumes for each.

    Computed defaults (a fresh UUID, "now") are made at call time; mutable ones are
    new objects on every call, so callers can change the result freely.
    """
    if not is_typeddict(tp):
        raise TypeError(f"defaults() takes a protocol TypedDict, got {tp!r}")
    return {key: _made(default) for key, default in DEFAULTS.get(cast(type, tp), {}).items()}


def with_defaults(tp: TypeForm[T], value: T) -> T:
    """A new dict: ``value`` with every absent optional key set to its default.

    Nested protocol dicts (direct, optional or in lists) are completed too. ``value``
    itself is never modified; its unchanged leaves are shared, not copied.
    """
    if not is_typeddict(tp):
        raise TypeError(f"with_defaults() takes a protocol TypedDict, got {tp!r}")
    if not isinstance(value, Mapping):
        raise TypeError(f"with_defaults() takes a mapping, got {type(value).__name__}")
    return cast(T, _complete(tp, value))


def _made(default: object) -> object:
    """A default's value for one use: computed now, or a copy the caller may change."""
    return default.make() if isinstance(default, Factory) else copy.deepcopy(default)


@functools.cache
def _field_types(tp: type) -> dict[str, Any]:
    return get_type_hints(tp)


def _complete(tp: Any, value: Mapping[str, Any]) -> dict[str, Any]:
    registered = DEFAULTS.get(tp, {})
    # Keys in declaration order, as the original emits them; unknown keys last. Only the
    # defaults of absent keys are made (a Factory may create a UUID).
    completed = {
        key: _complete_nested(hint, value[key]) if key in value else _made(registered[key])
        for key, hint in _field_types(tp).items()
        if key in value or key in registered
    }
    for key, item in value.items():
        completed.setdefault(key, item)
    return completed


def _complete_nested(hint: Any, item: Any) -> Any:
    """Fill defaults inside ``item`` where ``hint`` names a protocol TypedDict."""
    if is_typeddict(hint):
        return _complete(hint, item) if isinstance(item, Mapping) else item
    args = get_args(hint)
    if get_origin(hint) is list and isinstance(item, list):
        return [_complete_nested(args[0], element) for element in item]
    if args and isinstance(item, Mapping):
        for member in args:
            if is_typeddict(member):
                return _complete(member, item)
    return item
