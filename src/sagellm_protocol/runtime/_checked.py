"""``@checked``: opt-in runtime checks of an entrypoint's annotations, yielded items included."""

import functools
import inspect
import itertools
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, NoReturn, TypeVar, overload

from .._registry import STREAM_RULES
from .._tree.functions import (
    annotations_as_written,
    is_one_of,
    mentions,
    stream_item,
    type_hints,
)
from ..validation import Issue, StreamChecker, checker
from ._beartype_kit import BeartypeKit, beartype_kit, predicate
from ._calls import call_arguments, parameter_holding
from ._switch import call_period, overrides_in_force, sampling_period
from ._violation import CheckViolation, issues_of

__all__ = ["checked"]

_F = TypeVar(
    "_F",
    # A string: classmethod and staticmethod are not subscriptable at runtime before 3.12/3.13.
    bound="Callable[..., Any] | classmethod[Any, Any, Any] | staticmethod[Any, Any]",
)

_MARK = "__sagellm_checked__"
"""Set on our wrappers, so a class decorator leaves separately decorated methods alone."""

_UNRESOLVED: Any = object()


@overload
def checked(target: _F, /) -> _F: ...


@overload
def checked(*, default_mode: str | None = None, yields: bool = True) -> Callable[[_F], _F]: ...


def checked(target: Any = None, /, *, default_mode: str | None = None, yields: bool = True) -> Any:
    """Check every call of ``target`` against its annotations at runtime, per the switch.

    ``target`` is a function, method, ``classmethod``/``staticmethod``, ``async`` function,
    generator or async generator, or a class (each function in its body is checked).
    Protocol TypedDicts are checked fully by the compiled validator wherever they stand in an
    annotation; other annotations get beartype's checks. For an ``Iterator[T]``,
    ``Generator[T, ...]``, ``AsyncIterator[T]`` or ``AsyncGenerator[T, ...]`` return, every
    yielded item is checked against ``T`` (``yields=False`` turns that off).

    A violation raises :class:`CheckViolation` (a ``ValidationError`` and a beartype
    ``BeartypeCallHintViolation``) naming the function, the parameter, ``return`` or
    ``yield #n``, and every issue. The mode is read now: the override of
    :func:`override_checks` or :func:`set_checks_mode`, else ``SAGELLM_PROTOCOL_CHECKS``, else
    ``default_mode``, else ``on``. ``off`` returns ``target`` itself, for good: nothing turns
    it on later. Otherwise each call follows the overrides in force at that call
    (``with override_checks("off")`` silences it), else the mode read now; ``sample:N``
    checks one call in N (a shared counter per function, so about one in N under threads).
    Generators and async generators check their arguments when iteration starts, as their
    own body would run.
    """
    if target is None:
        return functools.partial(_decorate, default_mode=default_mode, yields=yields)
    return _decorate(target, default_mode=default_mode, yields=yields)


def _decorate(target: Any, *, default_mode: str | None, yields: bool) -> Any:
    period = sampling_period(default_mode)
    if period is None or getattr(target, _MARK, False):
        return target
    if isinstance(target, type):
        for name, member in list(vars(target).items()):
            wrapped = _wrap_member(member, period, yields)
            if wrapped is not member:
                setattr(target, name, wrapped)
        return target
    if isinstance(target, (classmethod, staticmethod)):
        return type(target)(_wrap(target.__func__, period, yields))
    if not inspect.isfunction(target):
        raise TypeError(f"@checked takes a function, method or class, got {target!r}")
    return _wrap(target, period, yields)


def _wrap_member(member: object, period: int, yields: bool) -> object:
    if inspect.isfunction(member):
        return member if getattr(member, _MARK, False) else _wrap(member, period, yields)
    if isinstance(member, (classmethod, staticmethod)) and inspect.isfunction(member.__func__):
        return type(member)(_wrap(member.__func__, period, yields))
    if isinstance(member, property):
        fget, fset, fdel = (
            None if accessor is None else _wrap_member(accessor, period, yields)
            for accessor in (member.fget, member.fset, member.fdel)
        )
        return type(member)(fget, fset, fdel, member.__doc__)  # type: ignore[arg-type]
    return member


class _Entrypoint:
    """One checked function: its beartype wrapper, made on first call, and what explains."""

    def __init__(
        self, func: Callable[..., Any], kit: BeartypeKit, yields: bool, period: int
    ) -> None:
        self.func = func
        self.period = period
        """The sampling period the function was decorated with."""
        self.calls = itertools.count()
        """Counts the calls, for ``sample:N``."""
        self.kit = kit
        self.name: str = func.__qualname__
        self.yields = yields
        self._lock = threading.Lock()
        self._checked: Callable[..., Any] | None = None
        self._conf: Any = kit.conf
        self._hints: dict[str, Any] | None = None
        self._item_hint: Any = _UNRESOLVED
        self._item_check: Callable[[object], bool] | None = None
        self._streams = False

    def checks(self) -> bool:
        """Whether to check this call: by the override in force now, if any, else by the
        decorated mode; ``sample:N`` counts this function's calls."""
        period = call_period(self.period) if overrides_in_force[0] else self.period
        return period is not None and (period == 1 or not next(self.calls) % period)

    def checked(self) -> Callable[..., Any]:
        """``func`` under beartype, made on first call, when forward references resolve.

        Each annotation mentioning a protocol form is handed whole to the validator (which
        checks every item of a container, where beartype samples one); the rest is beartype's.
        """
        if self._checked is None:
            with self._lock:
                if self._checked is None:
                    try:
                        hints = self.hints()
                    except NameError:  # beartype resolves (or reports) it at call time
                        hints = {}
                    extra = {
                        hint: self.kit.validated(predicate(hint))
                        for hint in hints.values()
                        if self._whole(hint)
                    }
                    if extra:
                        self._conf = self.kit.make_conf(extra)
                    self._checked = self.kit.beartype(self.func, conf=self._conf)
        return self._checked

    def _whole(self, hint: Any) -> bool:
        """Whether the validator should check ``hint`` as a whole: it mentions a protocol form
        beartype would not hand over by itself, and the validator supports all of it."""
        if is_one_of(hint, self.kit.predicates) or not mentions(hint, self.kit.predicates):
            return False
        try:
            checker(hint)
        except TypeError:  # a class, a type variable …: beartype checks it, around the forms
            return False
        return True

    def hints(self) -> dict[str, Any]:
        """The resolved annotations; raises ``NameError`` for an unresolvable forward ref."""
        if self._hints is None:
            self._hints = type_hints(self.func)
        return self._hints

    def item_check(self) -> Callable[[object], bool] | None:
        """The check of each yielded item, or ``None`` when the return declares no item type."""
        if self._item_hint is _UNRESOLVED:
            hint = stream_item(self.hints().get("return")) if self.yields else None
            if hint is not None:
                self._item_check = self._predicate(hint)
                self._streams = _has_stream_rules(hint)
            self._item_hint = hint
        return self._item_check

    def stream(self) -> StreamChecker[Any] | None:
        """A new checker of one call's stream, when the item type has stream rules (after
        :meth:`item_check`); it only applies the rules, the item check validates each item."""
        return StreamChecker(self._item_hint) if self._streams else None

    def _predicate(self, hint: Any) -> Callable[[object], bool]:
        if is_one_of(hint, self.kit.predicates):
            exact: Callable[[object], bool] = self.kit.predicates[hint]
            return exact
        if self._whole(hint):
            return predicate(hint)
        is_bearable, conf = self.kit.is_bearable, self._conf
        return lambda item: is_bearable(item, hint, conf=conf)

    def is_bearable(self, value: object, hint: Any) -> bool:
        return self.kit.is_bearable(value, hint, conf=self._conf)

    def explain(self, error: CheckViolation, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Give ``error`` our validator's account, if beartype raised it for this call.

        A violation that reaches here already explained was raised by a nested checked call or
        for a yielded item, and is left as it is.
        """
        taken = self.kit.take_culprit(error)
        if taken is None:
            return
        returned, culprit = taken
        try:
            hints = self.hints()
        except NameError:  # a forward reference beartype resolved in a scope we cannot see
            hints = annotations_as_written(self.func)
        name = (
            "return"
            if returned
            else parameter_holding(
                culprit,
                hints,
                call_arguments(inspect.signature(self.func), args, kwargs),
                self.is_bearable,
            )
        )
        where = "return" if returned else f"parameter {name!r}"
        error._explain(self.name, where, issues_of(hints[name], culprit))

    def yield_error(self, item: object, number: int) -> CheckViolation:
        issues = issues_of(self._item_hint, item)
        return self.kit.yield_violation(self.name, f"yield #{number}", issues, item)

    def sequence_error(self, item: object, number: int, issues: list[Issue]) -> CheckViolation:
        """A yielded item that is valid but breaks a stream rule: paths from the item."""
        relative = [issue._replace(path=issue.path[1:]) for issue in issues]
        return self.kit.yield_violation(self.name, f"yield #{number}", relative, item)

    def stream_end_error(self, number: int, issues: list[Issue]) -> CheckViolation:
        """A stream that stopped after ``number`` items without what its end needs."""
        whole = [issue._replace(path=()) for issue in issues]
        return self.kit.yield_violation(self.name, f"end after yield #{number}", whole, None)


def _has_stream_rules(hint: Any) -> bool:
    try:
        return hint in STREAM_RULES
    except TypeError:  # an unhashable hint
        return False


def _wrap(func: Callable[..., Any], period: int, yields: bool) -> Callable[..., Any]:
    entry = _Entrypoint(func, beartype_kit(), yields, period)
    wrapper: Callable[..., Any]
    if inspect.isasyncgenfunction(func):
        wrapper = _async_generator(entry, period)
    elif inspect.isgeneratorfunction(func):
        wrapper = _generator(entry, period)
    elif inspect.iscoroutinefunction(func):
        wrapper = _coroutine(entry, period)
    else:
        wrapper = _function(entry, period)
    functools.update_wrapper(wrapper, func)
    setattr(wrapper, _MARK, True)
    return wrapper


def _function(entry: _Entrypoint, period: int) -> Callable[..., Any]:
    func, explain, violation, checks = entry.func, entry.explain, entry.kit.violation, entry.checks
    overrides = overrides_in_force

    checked: Callable[..., Any]

    def first_call(*args: Any, **kwargs: Any) -> Any:
        nonlocal checked
        checked = entry.checked()
        return checked(*args, **kwargs)

    checked = first_call

    def on(*args: Any, **kwargs: Any) -> Any:
        if overrides[0] and not checks():
            return func(*args, **kwargs)
        try:
            return checked(*args, **kwargs)
        except violation as error:
            explain(error, args, kwargs)
            raise

    if period == 1:
        return on

    calls = entry.calls

    def sample(*args: Any, **kwargs: Any) -> Any:
        if (not checks()) if overrides[0] else next(calls) % period:  # inlined: most skip
            return func(*args, **kwargs)
        try:
            return checked(*args, **kwargs)
        except violation as error:
            explain(error, args, kwargs)
            raise

    return sample


def _coroutine(entry: _Entrypoint, period: int) -> Callable[..., Awaitable[Any]]:
    func, explain, violation, checks = entry.func, entry.explain, entry.kit.violation, entry.checks
    overrides = overrides_in_force

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if (period != 1 or overrides[0]) and not checks():
            return await func(*args, **kwargs)
        try:
            return await entry.checked()(*args, **kwargs)
        except violation as error:
            explain(error, args, kwargs)
            raise

    return wrapper


def _generator(entry: _Entrypoint, period: int) -> Callable[..., Generator[Any, Any, Any]]:
    overrides = overrides_in_force

    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        if (period != 1 or overrides[0]) and not entry.checks():
            return (yield from entry.func(*args, **kwargs))
        try:
            check = entry.item_check()
            generator = entry.checked()(*args, **kwargs)
            if check is None:
                return (yield from generator)
            return (yield from _checked_items(entry, generator, check))
        except entry.kit.violation as error:
            entry.explain(error, args, kwargs)
            raise

    return wrapper


def _checked_items(
    entry: _Entrypoint, generator: Generator[Any, Any, Any], check: Callable[[object], bool]
) -> Generator[Any, Any, Any]:
    """``yield from generator`` (send, throw and close pass through), checking each item."""
    stream = entry.stream()
    number = 0
    resume: Callable[[Any], Any] = generator.send
    value: Any = None
    while True:
        try:
            item = resume(value)
        except StopIteration as stop:
            if stream is not None and (issues := stream.close_issues()):
                raise entry.stream_end_error(number, issues) from None
            return stop.value
        number += 1
        if not check(item):
            _throw_in(generator, entry.yield_error(item, number))
        if stream is not None and (issues := stream.advance(item)):
            _throw_in(generator, entry.sequence_error(item, number, issues))
        try:
            value = yield item
            resume = generator.send
        except GeneratorExit:
            generator.close()
            raise
        except BaseException as thrown:
            resume, value = generator.throw, thrown


def _throw_in(generator: Generator[Any, Any, Any], error: CheckViolation) -> NoReturn:
    """Raise ``error`` at the ``yield`` that produced the bad item, then to the consumer."""
    try:
        generator.throw(error)
    except StopIteration:
        pass
    else:  # the generator swallowed the error and went on: it is done all the same
        generator.close()
    raise error


def _async_generator(entry: _Entrypoint, period: int) -> Callable[..., AsyncGenerator[Any, Any]]:
    overrides = overrides_in_force

    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        on = (period == 1 and not overrides[0]) or entry.checks()
        try:
            check = entry.item_check() if on else None
            source = (entry.checked() if on else entry.func)(*args, **kwargs)
            stream = entry.stream() if check is not None else None
            number = 0
            resume: Callable[[Any], Awaitable[Any]] = source.asend
            value: Any = None
            while True:
                try:
                    item = await resume(value)
                except StopAsyncIteration:
                    if stream is not None and (issues := stream.close_issues()):
                        raise entry.stream_end_error(number, issues) from None
                    return
                number += 1
                if check is not None and not check(item):
                    await _athrow_in(source, entry.yield_error(item, number))
                if stream is not None and (issues := stream.advance(item)):
                    await _athrow_in(source, entry.sequence_error(item, number, issues))
                try:
                    value = yield item
                    resume = source.asend
                except GeneratorExit:
                    await source.aclose()
                    raise
                except BaseException as thrown:
                    resume, value = source.athrow, thrown
        except entry.kit.violation as error:
            entry.explain(error, args, kwargs)
            raise

    return wrapper


async def _athrow_in(source: AsyncGenerator[Any, Any], error: CheckViolation) -> NoReturn:
    try:
        await source.athrow(error)
    except StopAsyncIteration:
        pass
    else:
        await source.aclose()
    raise error
