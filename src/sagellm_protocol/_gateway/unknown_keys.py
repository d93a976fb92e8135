"""The opt-in strictness of the gateway: keys that no declared key of an open type matches.

The OpenAI types are open (vendor keys pass), so a typo such as ``max_token`` validates and is
carried as an unknown field. :func:`unknown_keys` walks a value already valid for its type
and names each key that neither OpenAI nor a declared extension (vLLM's ``top_k`` …) knows,
with the declared key it most likely meant.
"""

import types
from typing import Annotated, Any, Final, Union, get_args, get_origin

from typing_extensions import NoExtraItems, get_type_hints, is_typeddict

from .._tree.describe import closest
from ..validation import Issue, is_valid

__all__ = ["unknown_keys"]

_UNIONS: Final = (Union, types.UnionType)
Path = tuple[str | int, ...]
_WRAPPERS: Final = frozenset({"Required", "NotRequired", "ReadOnly"})


_DECLARED: dict[Any, dict[str, Any]] = {}


def _declared(tp: Any) -> dict[str, Any]:
    """The keys ``tp`` declares, each with its type, ``NotRequired`` and the like removed."""
    declared = _DECLARED.get(tp)
    if declared is None:
        hints = get_type_hints(tp, include_extras=True)
        declared = _DECLARED[tp] = {key: _bare(hint) for key, hint in hints.items()}
    return declared


def _bare(hint: Any) -> Any:
    """``hint`` without ``Annotated`` metadata and ``Required``-like wrappers."""
    while True:
        origin = get_origin(hint)
        if origin is Annotated or getattr(origin, "_name", None) in _WRAPPERS:
            hint = get_args(hint)[0]
        else:
            return hint


def _takes_unknown_keys(tp: Any) -> bool:
    """Whether ``tp`` declares a type for the keys it does not name (PEP 728 extra items)."""
    extra = getattr(tp, "__extra_items__", NoExtraItems)
    return extra is not NoExtraItems and not getattr(tp, "__closed__", False)


def unknown_keys(tp: Any, value: object) -> list[Issue]:
    """An ``extra`` issue for each key of ``value`` (a valid ``tp``) that the open typed
    dicts of ``tp`` do not declare, at any depth, with "did you mean" the closest declared
    key not given. Values typed ``Any`` (a tool's JSON Schema …) are not looked into."""
    found: list[Issue] = []
    _walk(_bare(tp), value, (), found)
    return found


def _walk(tp: Any, value: object, path: Path, found: list[Issue]) -> None:
    if not isinstance(value, dict | list):
        return
    if is_typeddict(tp):
        if isinstance(value, dict):
            _fields(tp, value, path, found)
        return
    origin, args = get_origin(tp), get_args(tp)
    if origin in _UNIONS:
        # The member the value is valid for (the first, as validation tries them).
        options = [option for option in args if option is not type(None)]
        member = next(
            (option for option in options if len(options) == 1 or is_valid(option, value)), None
        )
        if member is not None:
            _walk(_bare(member), value, path, found)
    elif origin is list and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(_bare(args[0]), item, (*path, index), found)
    elif origin is dict and isinstance(value, dict):
        for key, item in value.items():
            _walk(_bare(args[1]), item, (*path, key), found)


def _fields(tp: Any, value: dict[Any, Any], path: Path, found: list[Issue]) -> None:
    declared = _declared(tp)
    for key, item in value.items():
        hint = declared.get(key)
        if hint is not None:
            _walk(hint, item, (*path, key), found)
        elif not _takes_unknown_keys(tp):
            meant = closest(key, declared.keys() - value.keys(), {})
            hint_text = f"; did you mean {meant!r}?" if meant else ""
            found.append(
                Issue(
                    (*path, key),
                    "extra",
                    f"unknown key (not a {tp.__name__} key, OpenAI's or a declared "
                    f"extension{hint_text})",
                )
            )
