"""validate(), is_valid(), checker(), collect_issues(): the fast path, then the precise pass."""

from collections.abc import Callable
from typing import Any, Final, TypeVar

from typing_extensions import TypeForm

from .._tree.analyse import analyze
from .._tree.cache import UNIONS, FormCache
from .._tree.nodes import Node
from ._compile import fast_checker
from ._issues import Issue, ValidationError
from ._precise import collect

__all__ = ["checker", "collect_issues", "compile_once", "is_valid", "node_accepts", "validate"]

T = TypeVar("T")

_FAST: Final[FormCache[Callable[[object], bool]]] = FormCache("fast")
"""Compiled checkers by type form; on a TypedDict class (or a ``typing`` alias) the attribute
read first by the hot paths below."""
assert _FAST.attribute == "__sagellm_protocol_fast__"
assert _FAST.union_attribute == "__sagellm_protocol_fast_unions__"
_CHECKERS: Final[FormCache[Callable[[object], bool]]] = FormCache("checker")


def _fast(tp: object) -> Callable[[object], bool]:
    return _FAST.get(tp, lambda form: fast_checker(analyze(form)))


def compile_once(tp: object) -> bool:
    """Compile the checker of ``tp`` unless it is ready; whether this call compiled it."""
    if _FAST.peek(tp) is not None:
        return False
    _fast(tp)
    return True


def _fast_of_other(tp: object) -> Callable[[object], bool]:
    """The compiled checker of a form that keeps none as its attribute: a union's is read from
    its first member without a call to :data:`_FAST`."""
    try:
        if type(tp) in UNIONS:
            return tp.__args__[0].__sagellm_protocol_fast_unions__[tp.__args__]  # type: ignore[attr-defined,no-any-return]
    except (AttributeError, KeyError, TypeError):
        pass
    return _fast(tp)


def validate(tp: TypeForm[T], value: object) -> T:
    """``value`` itself (not a copy) if it conforms to ``tp``; else raise :class:`ValidationError`.

    Raises ``TypeError`` if ``tp`` is a type form validation does not support.
    """
    # The values of FormCache, read without a call: a call costs a small payload's check. A
    # TypedDict class, the usual form, is tried first; a union's test comes after.
    try:
        fast = tp.__sagellm_protocol_fast__  # type: ignore[attr-defined]
    except AttributeError:
        fast = _fast_of_other(tp)
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
        fast = tp.__sagellm_protocol_fast__
    except AttributeError:
        fast = _fast_of_other(tp)
    return fast(value) or not collect(analyze(tp), value, confirmed_invalid=True)


def checker(tp: TypeForm[Any]) -> Callable[[object], bool]:
    """A cached exact predicate for ``tp``: ``True`` iff the value is valid; it never raises."""
    return _CHECKERS.get(tp, _make_checker)


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
