"""Per-type defaults, invariants and suggestions, registered beside the types.

This module imports nothing from the package so that domain modules can register here and the
type tree can read from here without import cycles. The tree reads a type's registrations when
it first analyses the type; a registration after that raises instead of being ignored.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias
from weakref import WeakKeyDictionary, WeakSet

__all__ = [
    "ANALYSED",
    "DEFAULTS",
    "INVARIANTS",
    "STREAM_RULES",
    "SUGGESTIONS",
    "WIRE_SIDES",
    "Factory",
    "Invariant",
    "InvariantCheck",
    "InvariantViolation",
    "StreamRule",
    "StreamRules",
    "StreamState",
    "register_defaults",
    "register_invariant",
    "register_stream_rules",
    "register_suggestions",
    "register_wire_side",
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
"""Yields one violation per broken rule of a value whose keys it reads are valid."""


class Invariant:
    """A cross-field rule of a type: its explaining check, and optional faster or repairing forms.

    Calling it runs :attr:`check`.
    """

    __slots__ = ("check", "holds", "repair")

    def __init__(
        self,
        check: InvariantCheck,
        holds: Callable[[Mapping[str, Any]], bool] | None,
        repair: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.check = check
        """Yields a ``(path, message)`` per broken rule; the precise pass reports these."""
        self.holds = holds
        """A quick predicate for the compiled fast path, true only when the rule holds: it
        settles the common case, and where it is false (or ``None``) :attr:`check` decides."""
        self.repair = repair
        """Makes a generated value respect the rule, in place, for hypothesis strategies."""

    @property
    def name(self) -> str:
        """The check's function name, ``_request_ranks``."""
        return getattr(self.check, "__name__", "invariant")

    @property
    def description(self) -> str:
        """The check's docstring: what the rule says."""
        return " ".join((self.check.__doc__ or self.name).split())

    def __call__(self, value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
        return self.check(value)

    def __repr__(self) -> str:
        return f"Invariant({self.name})"


class StreamState(Protocol):
    """One stream's running state under its type's rules; fed only events valid on their own.

    Its paths start with the event's index in the stream.
    """

    def feed(self, index: int, event: Any) -> Sequence[InvariantViolation]:
        """The rules event ``index`` breaks that are already certain (usually none)."""
        ...

    def close(self, count: int) -> Sequence[InvariantViolation]:
        """The rules only the end of a stream of ``count`` events reveals as broken."""
        ...


class StreamRule(NamedTuple):
    """One rule a whole stream of events keeps, named like an invariant."""

    name: str
    """Stable identifier, ``one_start_first``."""
    description: str
    """What the rule says."""


class StreamRules:
    """The rules of a stream of one event type, and the state that applies them to a stream."""

    __slots__ = ("rules", "state")

    def __init__(self, rules: tuple[StreamRule, ...], state: Callable[[], StreamState]) -> None:
        self.rules = rules
        """Every rule, for listings and docs (the JSON Schema's ``x-stream-rules``)."""
        self.state = state
        """Makes the state of one new stream."""

    def __repr__(self) -> str:
        return f"StreamRules({', '.join(rule.name for rule in self.rules)})"


# Keyed weakly, like every table here keyed by a class: registering for a type made at run
# time must not keep it alive once the program drops it.
DEFAULTS: WeakKeyDictionary[type, dict[str, object]] = WeakKeyDictionary()
"""Original defaults of each type's optional keys: plain values or :class:`Factory`."""

INVARIANTS: WeakKeyDictionary[type, list[Invariant]] = WeakKeyDictionary()
"""Cross-field rules of each type."""

STREAM_RULES: dict[object, StreamRules] = {}
"""Rules of whole streams, by event type form (``StreamEvent``, a union, included)."""
SUGGESTIONS: WeakKeyDictionary[type, dict[str, str]] = WeakKeyDictionary()
"""What real callers send that a type rejects, and what they mean: keys of a TypedDict, values
of an enum. Messages suggest these before any spelling match."""

WireSideName: TypeAlias = Literal["request", "response", "both"]
"""Who puts a type on the wire: ``"request"`` clients (the engine receives it), ``"response"``
the engine or a backend (clients read it), ``"both"`` either."""

WIRE_SIDES: dict[object, WireSideName] = {}
"""The wire side of types no ``typing.Protocol`` interface takes or returns (the OpenAI wire
bodies, messages between services), by type form; the breaking-change check reads it."""

ANALYSED: WeakSet[type] = WeakSet()
"""Types the tree has analysed (TypedDicts and enums): their registrations are final."""


def _open(tp: type, what: str) -> None:
    if tp in ANALYSED:
        raise RuntimeError(
            f"cannot register {what} for {tp.__qualname__}: the type was already analysed "
            "(validated, completed or compiled), so the rule would not apply everywhere; "
            "register beside the type, before its first use"
        )


def register_defaults(tp: type, defaults: Mapping[str, object]) -> None:
    """Record the defaults of ``tp``'s optional keys (the spec's default column)."""
    _open(tp, "defaults")
    DEFAULTS[tp] = dict(defaults)


def register_suggestions(tp: type, meant: Mapping[str, str]) -> None:
    """Record, for a closed TypedDict's unknown keys or an enum's unknown values, what a caller
    sending each one means: ``{"timestamps": "metrics.timestamps"}``, ``{"linear": "matmul"}``.

    An issue about a registered key or value says "did you mean" the registered meaning.
    """
    _open(tp, "suggestions")
    SUGGESTIONS.setdefault(tp, {}).update(meant)


def register_invariant(
    tp: type,
    *,
    holds: Callable[[Mapping[str, Any]], bool] | None = None,
    repair: Callable[[dict[str, Any]], None] | None = None,
) -> Callable[[InvariantCheck], Invariant]:
    """Decorator: register a cross-field rule of ``tp``.

    ``holds`` settles the common case quickly: true only when the rule holds (a property test
    holds the compiled checker, which uses it, to the check); ``repair`` fixes a generated
    value whose rule no generic repair meets.
    """

    def register(check: InvariantCheck) -> Invariant:
        _open(tp, f"the invariant {getattr(check, '__name__', check)!r}")
        invariant = check if isinstance(check, Invariant) else Invariant(check, holds, repair)
        INVARIANTS.setdefault(tp, []).append(invariant)
        return invariant

    return register


def register_stream_rules(
    tp: object, rules: Mapping[str, str]
) -> Callable[[Callable[[], StreamState]], Callable[[], StreamState]]:
    """Decorator: register the state class that applies ``rules`` (name -> what it says) to
    each stream of ``tp`` events; one registration per type form."""

    def register(state: Callable[[], StreamState]) -> Callable[[], StreamState]:
        if tp in STREAM_RULES:
            raise RuntimeError(f"stream rules of {tp!r} are already registered")
        listed = tuple(StreamRule(name, " ".join(text.split())) for name, text in rules.items())
        STREAM_RULES[tp] = StreamRules(listed, state)
        return state

    return register


def register_wire_side(side: WireSideName, *forms: object) -> None:
    """Declare who sends each of ``forms`` (TypedDicts or union aliases of them): ``"request"``
    clients, ``"response"`` the engine or backends, ``"both"`` either.

    Needed only for a type no ``typing.Protocol`` interface of the package takes (request-side)
    or returns (response-side); the types it contains inherit the side.
    """
    for form in forms:
        WIRE_SIDES[form] = side
