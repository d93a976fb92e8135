"""Where each consumer keeps what it derives from a type form or a node, so that it dies with it.

Nothing here holds a class the program has dropped. A value derived from a type form is kept
on the form itself when the form can carry attributes (a TypedDict class, a ``typing`` alias
such as ``Union[A, B]`` or ``Annotated[...]``), as msgspec keeps ``__msgspec_cache__``;
otherwise on the first TypedDict or enum class the form mentions (``list[A]``, ``A | None``);
a form that mentions none (``int | None``) holds only immortal classes and is kept in a plain
dict. A form that cannot be hashed (``Annotated`` with unhashable metadata) is also remembered
in a small bounded list, compared by equality, so an equal form built anew on every call is not
analysed and compiled again. Values derived from a node are kept in a weak-keyed dict: they go
with the node, and the node goes with its type.
"""

import contextlib
import enum
import types
import weakref
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar, Union, get_args

from typing_extensions import is_typeddict

from .nodes import LOCK, Node

__all__ = ["UNIONS", "FormCache", "NodeCache", "attribute_name"]

V = TypeVar("V")
N = TypeVar("N", bound=Node)

_UNION: Final = object()
"""Marks a union's key: ``(_UNION, members)`` equals no tuple a caller passes as a form."""
UNIONS: Final = frozenset({types.UnionType, type(Union[int, str])})  # noqa: UP007
"""Union forms hash by building a frozenset of their members (about ten times a class's hash);
the tuple of their members hashes by the identity of its items."""
_UNHASHABLE_KEPT: Final = 64
"""How many unhashable forms each consumer remembers (the most recently used)."""


def attribute_name(consumer: str) -> str:
    """The attribute under which ``consumer``'s value is kept on a type form."""
    return f"__sagellm_protocol_{consumer}__"


def _key(tp: object) -> object:
    """``tp`` as a dict key (maybe unhashable): a union by its members, marked so that it
    equals no tuple."""
    return (_UNION, tp.__args__) if type(tp) in UNIONS else tp  # type: ignore[attr-defined]


def _carries_attributes(tp: object) -> bool:
    """Whether ``tp`` can keep a value as its own attribute, never inherited by another form:
    a TypedDict class (its MRO holds no other TypedDict) or a ``typing`` alias instance."""
    if isinstance(tp, type):
        return is_typeddict(tp)
    return hasattr(tp, "__dict__") and not isinstance(tp, types.ModuleType)


def _owner(tp: object) -> type | None:
    """The first TypedDict or enum class ``tp`` mentions (``tp`` itself included), if any."""
    pending = [tp]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, type) and not get_args(current):  # list[A] is a type on 3.10
            if _is_mortal_class(current):
                return current
            continue
        if isinstance(current, enum.Enum):  # a Literal's member
            return type(current)
        pending.extend(reversed(get_args(current)))
        for inner in ("__value__", "__supertype__"):  # a type alias, a NewType
            if hasattr(current, inner):
                pending.append(getattr(current, inner))
    return None


class FormCache(Generic[V]):
    """One consumer's values by type form (see the module docstring for where each is kept).

    ``attribute`` is the name under which the value sits on a form that carries attributes:
    hot paths read it directly (``tp.<attribute>``), and a union's value in the dict its first
    member holds under ``union_attribute``, by the union's members; they fall back to :meth:`get`.
    """

    __slots__ = ("_forms_attribute", "_immortal", "_unhashable", "attribute", "union_attribute")

    def __init__(self, consumer: str) -> None:
        self.attribute = attribute_name(consumer)
        self.union_attribute = attribute_name(f"{consumer}_unions")
        self._forms_attribute = attribute_name(f"{consumer}_forms")
        self._immortal: dict[object, V] = {}
        self._unhashable: list[tuple[object, V]] = []

    def get(self, tp: object, make: Callable[[object], V]) -> V:
        """The value of ``tp``, made by ``make(tp)`` (under the tree's lock) on first use."""
        try:
            return self._find(tp)
        except KeyError:
            pass
        with LOCK:  # racing first uses must all get the one value
            try:
                return self._find(tp)
            except KeyError:
                value = make(tp)
                self._keep(tp, value)
                return value

    def peek(self, tp: object) -> V | None:
        """The value of ``tp`` if one was kept."""
        try:
            return self._find(tp)
        except KeyError:
            return None

    def put(self, tp: object, value: V) -> None:
        """Keep ``value`` as the value of ``tp``."""
        self._keep(tp, value)

    def _find(self, tp: object) -> V:
        if _carries_attributes(tp):
            try:
                found: V = vars(tp)[self.attribute]
                return found
            except KeyError:
                pass
        try:
            values, key = self._values_of(tp)
        except TypeError:
            return self._find_unhashable(tp)
        return values[key]

    def _values_of(self, tp: object) -> tuple[dict[object, V], object]:
        """The dict that keeps ``tp``'s value, and its key there; ``TypeError`` if ``tp`` cannot
        be hashed."""
        if type(tp) in UNIONS:
            members = tp.__args__  # type: ignore[attr-defined]
            if _is_mortal_class(members[0]):
                # On the first member, by the members: the hot paths read it without a call.
                return _own_dict(members[0], self.union_attribute), members
        key = _key(tp)
        hash(key)
        owner = _owner(tp)
        if owner is None:
            return self._immortal, key
        return _own_dict(owner, self._forms_attribute), key

    def _find_unhashable(self, tp: object) -> V:
        for index, (form, value) in enumerate(self._unhashable):
            if _same(form, tp):
                if index:  # most recently used first
                    self._unhashable.insert(0, self._unhashable.pop(index))
                return value
        raise KeyError(tp)

    def _keep(self, tp: object, value: V) -> None:
        if _carries_attributes(tp):
            with contextlib.suppress(AttributeError, TypeError):  # a form that refuses it
                setattr(tp, self.attribute, value)
        try:
            values, key = self._values_of(tp)
        except TypeError:
            self._unhashable.insert(0, (tp, value))
            del self._unhashable[_UNHASHABLE_KEPT:]
            return
        values[key] = value


def _is_mortal_class(tp: object) -> bool:
    """Whether ``tp`` is a class the program may drop: a TypedDict or an enum."""
    return isinstance(tp, type) and (is_typeddict(tp) or issubclass(tp, enum.Enum))


def _own_dict(owner: type, attribute: str) -> dict[object, Any]:
    """``owner``'s own dict under ``attribute`` (never one inherited from a base), made once."""
    values: dict[object, Any] | None = vars(owner).get(attribute)
    if values is None:
        values = {}
        type.__setattr__(owner, attribute, values)
    return values


def _same(form: object, tp: object) -> bool:
    try:
        return form is tp or bool(form == tp)
    except Exception:  # metadata whose __eq__ raises: only the very object matches
        return False


class NodeCache(Generic[N, V]):
    """One consumer's values by node, each dropped with its node.

    A value must not refer to its own node (it would keep the node alive).
    """

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: weakref.WeakKeyDictionary[N, V] = weakref.WeakKeyDictionary()

    def get(self, node: N, make: Callable[[N], V]) -> V:
        """The value of ``node``, made by ``make(node)`` (under the tree's lock) on first use."""
        try:
            return self._values[node]
        except KeyError:
            pass
        with LOCK:
            try:
                return self._values[node]
            except KeyError:
                value = self._values[node] = make(node)
                return value

    def peek(self, node: N) -> V | None:
        """The value of ``node`` if one was made."""
        return self._values.get(node)
