"""The runtime layer's reading of function annotations: resolved hints, stream items, forms used.

``runtime`` (``@checked``, ``conformance()``) reads annotations only through these functions.
"""

import collections.abc
import inspect
import re
from collections.abc import Callable, Collection
from typing import Any, TypeGuard, get_args, get_origin

from typing_extensions import get_type_hints

__all__ = [
    "annotations_as_written",
    "is_async_stream",
    "is_class",
    "is_one_of",
    "mentions",
    "returns_async_stream",
    "stream_item",
    "type_hints",
    "unsubscripted",
]

_ASYNC_STREAMS = frozenset(
    {collections.abc.AsyncIterator, collections.abc.AsyncIterable, collections.abc.AsyncGenerator}
)
_STREAMS = _ASYNC_STREAMS | {
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
}
"""Return annotations whose first argument is the type of every yielded item."""

_ASYNC_STREAM_TEXT = re.compile(
    r"(?:typing\.|collections\.abc\.)?Async(?:Iterator|Iterable|Generator)\b"
)


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """``func``'s resolved annotations, ``Annotated`` kept; ``NameError`` for an unresolvable
    forward reference."""
    return get_type_hints(func, include_extras=True)


def annotations_as_written(func: Callable[..., Any]) -> dict[str, Any]:
    """``func``'s annotations unevaluated: a forward reference stays a string."""
    return inspect.get_annotations(func)


def is_class(hint: object) -> TypeGuard[type]:
    """Whether ``hint`` is a class itself; ``list[int]`` is not (though a ``type`` on 3.10)."""
    return isinstance(hint, type) and not get_args(hint)


def unsubscripted(tp: Any) -> Any:
    """``CommBackend`` for ``CommBackend[Any]``; any other ``tp`` itself."""
    return get_origin(tp) or tp


def stream_item(hint: Any) -> Any:
    """``T`` for ``Iterator[T]``, ``Iterable[T]``, ``Generator[T, ...]`` and their async kin;
    ``None`` for any other return annotation.

    Not inside ``Annotated``: beartype refuses that as the return hint of a generator.
    """
    arguments = get_args(hint)
    return arguments[0] if get_origin(hint) in _STREAMS and arguments else None


def is_async_stream(hint: Any) -> bool:
    """Whether ``hint`` is an ``AsyncIterator``, ``AsyncIterable`` or ``AsyncGenerator``."""
    return get_origin(hint) in _ASYNC_STREAMS


def returns_async_stream(func: Callable[..., Any]) -> bool:
    """Whether ``func``'s return annotation is an async stream (:func:`is_async_stream`)."""
    try:
        return is_async_stream(type_hints(func).get("return"))
    except NameError:
        # An implementation may annotate with names its module imports only for type checkers:
        # read the return annotation as written rather than give up on the method.
        hint = annotations_as_written(func).get("return")
        if isinstance(hint, str):
            return _ASYNC_STREAM_TEXT.match(hint) is not None
        return is_async_stream(hint)


def is_one_of(hint: Any, forms: Collection[Any]) -> bool:
    """Whether ``hint`` is among ``forms``; ``False`` for a hint that cannot be hashed."""
    try:
        return hint in forms
    except TypeError:  # unhashable metadata in an Annotated
        return False


def mentions(hint: Any, forms: Collection[Any]) -> bool:
    """Whether ``hint`` is one of ``forms`` or has one among its arguments, at any depth."""
    return is_one_of(hint, forms) or any(mentions(argument, forms) for argument in get_args(hint))
