"""The beartype side of runtime checks, built on first use: configuration and violations.

Nothing here imports beartype at module import; :func:`beartype_kit` does, once, under a lock.
"""

import gc
import inspect
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Annotated, Any

from .._tree.functions import type_hints
from ..validation import Issue, checker, type_by_name, type_names
from ._calls import call_arguments, parameter_holding
from ._violation import CheckViolation, hint_repr, issues_of
from ._violation import CheckYieldViolation as PublicYieldViolation

if TYPE_CHECKING:
    from beartype import BeartypeConf

__all__ = ["BeartypeKit", "beartype_kit", "predicate", "protocol_forms"]

_MODULE = "sagellm_protocol.runtime"
"""Where the violation classes say they are from (they are made on first use)."""


@dataclass(frozen=True)
class BeartypeKit:
    """Everything checking needs from beartype, made once by :func:`beartype_kit`."""

    conf: "BeartypeConf"
    """``@checked``'s: protocol forms overridden by their validator (``hint_overrides``), and
    violations that the entrypoint explains once it catches them (:attr:`take_culprit`)."""
    package_conf: "BeartypeConf"
    """``checked_package``'s: the same overrides; violations that explain themselves."""
    predicates: dict[Any, Callable[[object], bool]]
    """The exact predicate of each overridden protocol type form."""
    make_conf: Callable[[dict[Any, Any]], "BeartypeConf"]
    """:attr:`conf` with more overrides."""
    validated: Callable[[Callable[[object], bool]], Any]
    """``Annotated[object, Is[predicate]]``: the override that hands a hint to a predicate."""
    beartype: Callable[..., Any]
    """``beartype.beartype``."""
    is_bearable: Callable[..., bool]
    """``beartype.door.is_bearable``."""
    violation: type[CheckViolation]
    """Base of the raised violations: a :class:`CheckViolation` and a beartype violation."""
    take_culprit: Callable[[CheckViolation], tuple[bool, object] | None]
    """Of a violation beartype raised under :attr:`conf` and nobody explained yet: whether it
    is of the return, and the rejected argument or return value; ``None`` otherwise."""
    classes: dict[str, type[CheckViolation]]
    """The raised violation classes by name (to unpickle them)."""
    yield_violation: Callable[[str, str, list[Issue], object], CheckViolation]
    """Makes the violation of a bad yielded item: ``(function, where, issues, item)``."""


_lock = threading.Lock()
_kit: BeartypeKit | None = None


def beartype_kit() -> BeartypeKit:
    """The beartype machinery, imported and configured on first call (thread-safe)."""
    global _kit
    if _kit is None:
        with _lock:
            if _kit is None:
                _kit = _make_kit()
    return _kit


def protocol_forms() -> list[Any]:
    """Every protocol TypedDict and union alias of them (``StreamEvent``), each once."""
    forms: list[Any] = []
    for name in type_names():
        form = type_by_name(name)
        if not any(form is known for known in forms):  # aliases name one form twice
            forms.append(form)
    return forms


def _spellings(form: Any) -> list[Any]:
    """The annotations in which ``form`` is overridden as a whole, so checked in full.

    beartype checks one random item of a container per call; the validator checks them all.
    ``Union[A, B]`` and ``Optional[A]`` equal (and hash as) ``A | B`` and ``A | None``, so
    one key covers both spellings.
    """
    return [form, list[form], dict[str, form], form | None, list[form] | None]


def predicate(tp: Any) -> Callable[[object], bool]:
    """The compiled validator of ``tp``, compiled on its first call."""

    check: Callable[[object], bool]

    def compile_first(value: object) -> bool:
        nonlocal check
        check = checker(tp)
        return check(value)

    check = compile_first

    def is_valid(value: object) -> bool:
        return check(value)

    is_valid.__name__ = is_valid.__qualname__ = f"valid[{hint_repr(tp)}]"
    return is_valid


def _package_account(message: str, culprit: object, returned: bool) -> tuple[str, str, list[Issue]]:
    """The function, ``where`` and issues of a violation in a ``checked_package`` function.

    ``beartype.claw`` hands the violation only its message and culprits; the function and the
    call are found on the stack instead (the wrapper beartype made is the first frame outside
    beartype and this package), the parameter by which argument is ``culprit``, and the issues
    are our validator's, by that function's annotation. Only where the stack does not lead
    back to a function is beartype's message the issue.
    """
    where = "return" if returned else "parameter"
    found = _failed_call(sys._getframe(1))
    if found is None:
        return "<function>", where, [Issue((), "type", message)]
    function, args, kwargs = found
    name = f"{function.__module__}.{function.__qualname__.replace('.<locals>', '')}"
    try:
        hints = type_hints(function)
    except NameError:  # a forward reference we cannot resolve: beartype's account stands
        return name, where, [Issue((), "type", message)]
    if not returned:
        signature = inspect.signature(function)
        parameter = parameter_holding(
            culprit, hints, call_arguments(signature, args, kwargs), beartype_kit().is_bearable
        )
        where = f"parameter {parameter!r}"
    return name, where, issues_of(hints["return" if returned else parameter], culprit)


_wrappers: dict[CodeType, Callable[..., Any]] = {}
"""The wrapper function of each beartype wrapper code object seen raising (found once)."""


def _failed_call(
    frame: FrameType | None,
) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None:
    """The function a beartype wrapper on the stack above ``frame`` checks, with the call's
    positional and keyword arguments, as the wrapper's frame holds them."""
    import beartype

    ours = str(Path(__file__).parent)
    theirs = str(Path(beartype.__file__).parent)
    while frame is not None and frame.f_code.co_filename.startswith((ours, theirs)):
        frame = frame.f_back
    if frame is None:
        return None
    code = frame.f_code
    wrapper = _wrappers.get(code)
    if wrapper is None:
        found = [f for f in gc.get_referrers(code) if getattr(f, "__code__", None) is code]
        if len(found) != 1:
            return None
        wrapper = _wrappers[code] = found[0]
    function = inspect.unwrap(wrapper)
    names = code.co_varnames
    positional = [frame.f_locals[name] for name in names[: code.co_argcount]]
    rest = code.co_argcount + code.co_kwonlyargcount
    if code.co_flags & inspect.CO_VARARGS:
        positional += frame.f_locals[names[rest]]
        rest += 1
    kwargs = frame.f_locals[names[rest]] if code.co_flags & inspect.CO_VARKEYWORDS else {}
    return function, tuple(positional), dict(kwargs)


def _make_kit() -> BeartypeKit:
    from beartype import BeartypeConf, FrozenDict, beartype
    from beartype.door import is_bearable
    from beartype.roar import (
        BeartypeCallHintParamViolation,
        BeartypeCallHintReturnViolation,
        BeartypeCallHintViolation,
    )
    from beartype.vale import Is

    predicates = {
        spelling: predicate(spelling) for form in protocol_forms() for spelling in _spellings(form)
    }

    # ``object``, not the TypedDict itself, under the validator: the compiled validator is the
    # whole check, so beartype's own shallow TypedDict test would only add time, and a value
    # failing it would not reach the validator that explains the failure.
    def validated(predicate: Callable[[object], bool]) -> Any:
        return Annotated[object, Is[predicate]]

    overrides = {spelling: validated(predicate) for spelling, predicate in predicates.items()}

    class _Violation(CheckViolation, BeartypeCallHintViolation):
        # beartype raises the subclasses (conf.violation_*_type) with its message and culprits:
        # the argument or return value that broke its annotation, then the part that did.
        def __init__(self, message: str, culprits: tuple[object, ...]) -> None:
            BeartypeCallHintViolation.__init__(self, message, culprits)
            type(self).__module__ = _MODULE  # beartype's __init__ renames it to beartype.roar
            self._received(message, culprits[0])

        def _received(self, message: str, culprit: object) -> None:
            self._culprit = culprit  # until the entrypoint that catches it explains it

        def __reduce__(self) -> Any:
            # By a module-level function: these classes exist only once beartype is imported.
            getstate = getattr(BeartypeCallHintViolation, "__getstate__")  # noqa: B009 (untyped)
            state = {k: v for k, v in getstate(self).items() if k != "_culprit"}
            return _unpickle, (type(self).__name__, state)

    class _PackageViolation(_Violation):
        def _received(self, message: str, culprit: object) -> None:
            returned = isinstance(self, BeartypeCallHintReturnViolation)
            self._explain(*_package_account(message, culprit, returned))

    class CheckParamViolation(_Violation, BeartypeCallHintParamViolation):
        """A parameter broke its annotation."""

    class CheckReturnViolation(_Violation, BeartypeCallHintReturnViolation):
        """The return value broke its annotation."""

    class PackageParamViolation(_PackageViolation, BeartypeCallHintParamViolation):
        """A parameter of a function checked by ``checked_package`` broke its annotation."""

    class PackageReturnViolation(_PackageViolation, BeartypeCallHintReturnViolation):
        """The return value of a function checked by ``checked_package`` broke its annotation."""

    class CheckYieldViolation(_Violation, PublicYieldViolation):
        """A yielded item broke the item type of the return annotation, or a stream its rules."""

        def __init__(self, function: str, where: str, issues: list[Issue], item: object) -> None:
            BeartypeCallHintViolation.__init__(self, f"{function}() {where}", (item,))
            type(self).__module__ = _MODULE
            self._explain(function, where, issues)

    raised = (
        CheckParamViolation,
        CheckReturnViolation,
        PackageParamViolation,
        PackageReturnViolation,
        CheckYieldViolation,
    )
    for cls in (_Violation, _PackageViolation, *raised):
        cls.__module__ = _MODULE
        cls.__qualname__ = cls.__name__

    def make_conf(extra: dict[Any, Any]) -> BeartypeConf:
        return BeartypeConf(
            hint_overrides=FrozenDict({**overrides, **extra}),
            violation_param_type=CheckParamViolation,
            violation_return_type=CheckReturnViolation,
        )

    def take_culprit(error: CheckViolation) -> tuple[bool, object] | None:
        if "_culprit" not in error.__dict__:
            return None
        return isinstance(error, CheckReturnViolation), error.__dict__.pop("_culprit")

    return BeartypeKit(
        conf=make_conf({}),
        package_conf=BeartypeConf(
            hint_overrides=FrozenDict(overrides),
            is_color=False,  # the message may stand as an issue (_package_account): no colours
            violation_param_type=PackageParamViolation,
            violation_return_type=PackageReturnViolation,
        ),
        predicates=predicates,
        make_conf=make_conf,
        validated=validated,
        beartype=beartype,
        is_bearable=is_bearable,
        violation=_Violation,
        take_culprit=take_culprit,
        classes={cls.__name__: cls for cls in raised},
        yield_violation=CheckYieldViolation,
    )


def _unpickle(name: str, state: dict[str, Any]) -> CheckViolation:
    cls = beartype_kit().classes[name]
    error = cls.__new__(cls)
    error.__dict__.update(state)
    return error
