"""validate(), is_valid(), checker(), collect_issues(): the fast path, then the precise pass."""

import types
from collections.abc import Callable
from typing import Any, Final, TypeVar, Union

from typing_extensions import TypeForm

from .._tree.analyse import analyze
from .._tree.nodes import LOCK, Node
from ._compile import fast_checker
from ._issues import Issue, ValidationError
from ._precise import collect

__all__ = ["checker", "collect_issues", "is_valid", "node_accepts", "validate"]

T = TypeVar("T")

_FAST: dict[object, Callable[[object], bool]] = {}
"""Compiled checkers by type form, and unions' by their ``__args__`` (see :data:`_UNIONS`)."""
_CHECKERS: dict[object, Callable[[object], bool]] = {}
_UNIONS: Final = frozenset({types.UnionType, type(Union[int, str])})  # noqa: UP007
"""Union forms hash by building a frozenset of their members on every call (~250 ns, ten times
a TypedDict's hash); their tuple of members hashes by identity of its items, so they are
cached by that instead."""


def _key(tp: object) -> object:
    return tp.__args__ if type(tp) in _UNIONS else tp  # type: ignore[attr-defined]


def _fast(tp: object) -> Callable[[object], bool]:
    key = _key(tp)
    try:
        return _FAST[key]
    except KeyError:
        fast = _FAST[key] = fast_checker(analyze(tp))
        return fast
    except TypeError:  # an unhashable type form: compiled, just not cached by the form
        return fast_checker(analyze(tp))


def validate(tp: TypeForm[T], value: object) -> T:
    """``value`` itself (not a copy) if it conforms to ``tp``; else raise :class:`ValidationError`.

    Raises ``TypeError`` if ``tp`` is a type form validation does not support.
    """
    try:
        fast = _FAST[tp.__args__ if type(tp) in _UNIONS else tp]  # type: ignore[attr-defined]
    except (KeyError, TypeError):
        fast = _fast(tp)
    # ``value`` is returned as is, not through ``typing.cast``: a call costs more than a small
    # payload's whole check.
    if fast(value):
        return value  # type: ignore[return-value]
    issues = collect(analyze(tp), value, confirmed_invalid=True)
    if issues:
        raise ValidationError(issues)
    return value  # type: ignore[return-value]


def is_valid(tp: TypeForm[Any], value: object) -> bool:
    """Whether ``value`` conforms to ``tp``. Never raises for any ``value``."""
    try:
        fast = _FAST[tp.__args__ if type(tp) in _UNIONS else tp]
    except (KeyError, TypeError):
        fast = _fast(tp)
    return fast(value) or not collect(analyze(tp), value, confirmed_invalid=True)


def checker(tp: TypeForm[Any]) -> Callable[[object], bool]:
    """A cached exact predicate for ``tp``: ``True`` iff the value is valid; it never raises."""
    try:
        return _CHECKERS[tp]
    except KeyError:
        with LOCK:  # racing first calls must all get the one cached predicate
            check = _CHECKERS.get(tp)
            if check is None:
                check = _CHECKERS[tp] = _make_checker(tp)
            return check
    except TypeError:
        return _make_checker(tp)


def node_accepts(node: Node, value: object) -> bool:
    """Whether ``value`` is valid for ``node``: the compiled checker, then the precise pass."""
    return fast_checker(node)(value) or not collect(node, value, confirmed_invalid=True)


def _make_checker(tp: object) -> Callable[[object], bool]:
    node = analyze(tp)
    fast = fast_checker(node)

    def check(value: object) -> bool:
        return fast(value) or not collect(node, value, confirmed_invalid=True)

    check.__qualname__ = check.__name__ = f"check_{getattr(tp, '__name__', 'value')}"
    return check


def collect_issues(tp: TypeForm[Any], value: object) -> list[Issue]:
    """Every issue of ``value`` against ``tp`` (``[]`` when valid); never raises for any value."""
    if _fast(tp)(value):
        return []
    return collect(analyze(tp), value, confirmed_invalid=True)
