"""Protocol conformance at runtime: what an object lacks beyond ``runtime_checkable``'s check."""

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from typing_extensions import get_protocol_members, is_protocol

from .._tree.functions import returns_async_stream, unsubscripted

__all__ = ["ConformanceError", "ConformanceProblem", "assert_conforms", "conformance"]

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class ConformanceProblem:
    """One way an object falls short of a protocol."""

    member: str
    """The protocol member concerned."""
    code: str
    """``missing``, ``not_callable``, ``async`` (sync/async mismatch), ``arity`` (positional
    count, a required or optional parameter, ``*args``/``**kwargs``) or ``name`` (a parameter
    named differently, a keyword not accepted)."""
    message: str
    """What is wrong, in words."""

    def __str__(self) -> str:
        return f"{self.member}: {self.message}"


class ConformanceError(TypeError):
    """Raised by :func:`assert_conforms`; :attr:`problems` lists every problem."""

    problems: list[ConformanceProblem]
    """Every problem found, in the protocol's member order."""

    def __init__(self, subject: str, protocol: str, problems: list[ConformanceProblem]) -> None:
        lines = "".join(f"\n  {problem}" for problem in problems)
        super().__init__(f"{subject} does not conform to {protocol}:{lines}")
        self.problems = problems


def conformance(obj: object, protocol: type) -> list[ConformanceProblem]:
    """Every problem of ``obj`` (an instance or a class) against ``protocol``; ``[]`` if none.

    Checks each protocol member: present; callable where the protocol has a method; ``async
    def`` exactly where the protocol's is (a protocol ``def`` returning an ``AsyncIterator``
    also takes an async generator); accepts the protocol's positional arguments and keywords,
    requires no others, and names positional-or-keyword parameters as the protocol does.
    Instance attributes set in ``__init__`` are only seen on an instance. Parameter and return
    types are left to mypy. Raises ``TypeError`` if ``protocol`` is not a ``typing.Protocol``.
    """
    bare: object = unsubscripted(protocol)
    if not (isinstance(bare, type) and is_protocol(bare)):
        raise TypeError(f"conformance() takes a typing.Protocol class, got {bare!r}")
    problems: list[ConformanceProblem] = []
    for name in _members(bare):
        declared = inspect.getattr_static(bare, name, None)
        if not _is_method(declared):
            if not _has(obj, name):
                problems.append(ConformanceProblem(name, "missing", "missing"))
            continue
        problems.extend(_method_problems(obj, name, declared))
    return problems


def assert_conforms(obj: object, protocol: type) -> None:
    """Raise :class:`ConformanceError` listing every problem of ``obj`` against ``protocol``."""
    problems = conformance(obj, protocol)
    if problems:
        subject = obj.__qualname__ if isinstance(obj, type) else f"{type(obj).__qualname__} object"
        raise ConformanceError(subject, unsubscripted(protocol).__qualname__, problems)


def _members(protocol: type) -> Iterator[str]:
    """The protocol's members in declaration order, base protocols' after its own."""
    members = get_protocol_members(protocol)
    seen: set[str] = set()
    for cls in protocol.__mro__:
        for name in [*vars(cls), *vars(cls).get("__annotations__", {})]:
            if name in members and name not in seen:
                seen.add(name)
                yield name


def _is_method(declared: object) -> bool:
    return inspect.isfunction(declared) or isinstance(declared, (classmethod, staticmethod))


def _method_problems(obj: object, name: str, declared: Any) -> Iterator[ConformanceProblem]:
    if not _has(obj, name):
        yield ConformanceProblem(name, "missing", "missing")
        return
    attr: object = obj if name == "__call__" and not isinstance(obj, type) else getattr(obj, name)
    if not callable(attr):
        kind = type(attr).__name__
        yield ConformanceProblem(name, "not_callable", f"is not callable (a {kind})")
        return
    expected = _signature(declared, bound=True)
    actual = _implementation_signature(obj, name, attr)
    yield from _async_problems(name, declared, attr)
    if expected is not None and actual is not None:
        yield from _signature_problems(name, expected, actual)


def _has(obj: object, name: str) -> bool:
    """Whether ``obj`` has member ``name``; a class's own members only, not its metaclass's
    (every class has a ``__call__``, the one that makes instances)."""
    if not isinstance(obj, type):
        return hasattr(obj, name)
    return any(
        name in vars(cls) or name in vars(cls).get("__annotations__", {}) for cls in obj.__mro__
    )


def _function_of(declared: Any) -> Callable[..., Any]:
    function: Callable[..., Any] = (
        declared.__func__ if isinstance(declared, (classmethod, staticmethod)) else declared
    )
    return function


def _signature(declared: Any, bound: bool) -> inspect.Signature | None:
    """The signature callers use: without ``self``/``cls`` when ``bound`` (not staticmethods)."""
    try:
        signature = inspect.signature(_function_of(declared))
    except (TypeError, ValueError):  # a builtin without signature metadata
        return None
    if isinstance(declared, staticmethod) or not bound:
        return signature
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def _implementation_signature(obj: object, name: str, attr: object) -> inspect.Signature | None:
    own = {} if isinstance(obj, type) else getattr(obj, "__dict__", {})
    if not (name == "__call__" and not isinstance(obj, type)) and name not in own:
        declared = inspect.getattr_static(obj if isinstance(obj, type) else type(obj), name)
        if _is_method(declared):
            return _signature(declared, bound=True)
    try:
        return inspect.signature(attr)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _kind(function: object) -> str:
    if inspect.iscoroutinefunction(function):
        return "async def"
    if inspect.isasyncgenfunction(function):
        return "an async generator"
    return "a plain def"


def _async_problems(name: str, declared: Any, attr: object) -> Iterator[ConformanceProblem]:
    function = _function_of(declared)
    expected, actual = _kind(function), _kind(attr)
    if expected == "async def":
        ok = actual == "async def"
    elif expected == "an async generator" or returns_async_stream(function):
        ok = actual != "async def"
        expected = "an async generator or a def returning an async iterator"
    else:
        ok = actual == "a plain def"
    if not ok:
        message = f"is {actual}; the protocol's is {expected}"
        yield ConformanceProblem(name, "async", message)


def _signature_problems(
    name: str, expected: inspect.Signature, actual: inspect.Signature
) -> Iterator[ConformanceProblem]:
    want = list(expected.parameters.values())
    have = list(actual.parameters.values())
    want_positional = [p for p in want if p.kind in _POSITIONAL]
    have_positional = [p for p in have if p.kind in _POSITIONAL]
    have_kinds = {p.kind for p in have}
    star_args = inspect.Parameter.VAR_POSITIONAL in have_kinds
    star_kwargs = inspect.Parameter.VAR_KEYWORD in have_kinds

    if len(have_positional) < len(want_positional) and not star_args:
        yield ConformanceProblem(
            name,
            "arity",
            f"accepts {_count(len(have_positional), 'positional argument')}; "
            f"the protocol passes {len(want_positional)}",
        )
    required = [
        p for p in have_positional[len(want_positional) :] if p.default is inspect.Parameter.empty
    ]
    if required:
        yield ConformanceProblem(
            name,
            "arity",
            f"requires {_count(len(want_positional) + len(required), 'positional argument')}; "
            f"the protocol passes {len(want_positional)}",
        )
    for index, (wanted, had) in enumerate(zip(want_positional, have_positional, strict=False)):
        by_name = wanted.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if by_name and had.name != wanted.name:
            yield ConformanceProblem(
                name,
                "name",
                f"parameter {index + 1} is named {had.name!r}; the protocol's is {wanted.name!r}",
            )
        if wanted.default is not inspect.Parameter.empty and had.default is inspect.Parameter.empty:
            yield ConformanceProblem(
                name, "arity", f"parameter {had.name!r} is required; optional in the protocol"
            )

    by_keyword = {p.name: p for p in have if p.kind is not inspect.Parameter.POSITIONAL_ONLY}
    for wanted in want:
        if wanted.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        keyword = by_keyword.get(wanted.name)
        if keyword is None:
            if not star_kwargs:
                yield ConformanceProblem(name, "name", f"does not accept keyword {wanted.name!r}")
        elif wanted.default is not inspect.Parameter.empty and keyword.default is _EMPTY:
            yield ConformanceProblem(
                name, "arity", f"parameter {keyword.name!r} is required; optional in the protocol"
            )
    wanted_names = {p.name for p in want}
    for had in have:
        if (
            had.kind is inspect.Parameter.KEYWORD_ONLY
            and had.default is inspect.Parameter.empty
            and had.name not in wanted_names
        ):
            yield ConformanceProblem(
                name, "arity", f"requires keyword {had.name!r}; the protocol does not pass it"
            )
    want_kinds = {p.kind for p in want}
    if inspect.Parameter.VAR_POSITIONAL in want_kinds and not star_args:
        yield ConformanceProblem(name, "arity", "does not accept *args; the protocol's does")
    if inspect.Parameter.VAR_KEYWORD in want_kinds and not star_kwargs:
        yield ConformanceProblem(name, "arity", "does not accept **kwargs; the protocol's does")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
