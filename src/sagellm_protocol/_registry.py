"""Per-type defaults and invariants, registered beside the types.

This module imports nothing from the package so that domain modules can
register here and ``validation`` can read from here without import cycles.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "DEFAULTS",
    "INVARIANTS",
    "Factory",
    "InvariantCheck",
    "InvariantViolation",
    "register_defaults",
    "register_invariant",
]


class Factory:
    """A default computed at call time (a fresh list, "now", a new UUID)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make

    def __repr__(self) -> str:
        return f"Factory({getattr(self.make, '__qualname__', self.make)!r})"


InvariantViolation = tuple[tuple[str | int, ...], str]
"""``(path relative to the checked dict, message)``."""

InvariantCheck = Callable[[Mapping[str, Any]], Iterator[InvariantViolation]]
"""Yields one violation per broken rule of a structurally valid value."""

DEFAULTS: dict[type, dict[str, object]] = {}
"""Original defaults of each type's optional keys: plain values or :class:`Factory`."""

INVARIANTS: dict[type, list[InvariantCheck]] = {}
"""Cross-field rules of each type, run after its keys are structurally valid."""


def register_defaults(tp: type, defaults: Mapping[str, object]) -> None:
    """Record the defaults of ``tp``'s optional keys (the spec's default column)."""
    DEFAULTS[tp] = dict(defaults)


def register_invariant(tp: type) -> Callable[[InvariantCheck], InvariantCheck]:
    """Decorator: register a cross-field rule of ``tp``."""

    def register(check: InvariantCheck) -> InvariantCheck:
        INVARIANTS.setdefault(tp, []).append(check)
        return check

    return register
