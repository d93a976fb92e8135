"""The beartype side of runtime checks, built on first use: configuration and violations.

Nothing here imports beartype at module import; :func:`beartype_kit` does, once, under a lock.
"""

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from .._tree.functions import is_class
from ..validation import (
    Issue,
    ValidationError,
    checker,
    collect_issues,
    short_repr,
    type_by_name,
    type_names,
)

if TYPE_CHECKING:
    from beartype import BeartypeConf

__all__ = [
    "BeartypeKit",
    "CheckViolation",
    "beartype_cause",
    "beartype_kit",
    "hint_repr",
    "issues_of",
    "predicate",
    "protocol_forms",
]

_MODULE = "sagellm_protocol.runtime"
"""Where the violation classes say they are from (they are made on first use)."""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_QUALIFIED = re.compile(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)")


class CheckViolation(ValidationError):
    """A call of a ``@checked`` function broke its annotations; :attr:`issues` says how.

    The class actually raised also derives from beartype's ``BeartypeCallHintViolation``
    (and from its parameter or return subclass), so handlers of either keep working. Its
    text is one header line naming the function and the parameter, ``return`` or
    ``yield #n`` (1 for the first item), then one indented line per issue.
    """

    function: str
    """The function, as beartype or ``@checked`` names it (``ToyBackend.generate``)."""
    where: str
    """``parameter 'request'``, ``return`` or ``yield #3``."""

    def __init__(self, function: str, where: str, issues: list[Issue]) -> None:
        super().__init__(issues)
        self._explain(function, where, issues)

    def _explain(self, function: str, where: str, issues: list[Issue]) -> None:
        self.function = function
        self.where = where
        self.issues = issues
        lines = "".join(f"\n  {issue}" for issue in issues)
        self._text = f"{function}() {where} is invalid:{lines}"

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        count = len(self.issues)
        issues = f"{count} issue{'s' * (count != 1)}"
        return f"{type(self).__name__}({self.function}() {self.where}: {issues})"


@dataclass(frozen=True)
class BeartypeKit:
    """Everything checking needs from beartype, made once by :func:`beartype_kit`."""

    conf: "BeartypeConf"
    """Protocol forms overridden by their validator (``hint_overrides``), our violations."""
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
    classes: dict[str, type[CheckViolation]]
    """The raised violation classes by name (to unpickle them)."""
    yield_violation: Callable[[str, str, list[Issue], object], CheckViolation]
    """Makes the violation of a bad yielded item: ``(function, where, issues, item)``."""


_lock = threading.Lock()
_kit: BeartypeKit | None = None
_failures = threading.local()
"""``last``: the latest ``(protocol type, value)`` an override predicate rejected, per thread."""


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
    forms: dict[int, Any] = {}
    for name in type_names():
        form = type_by_name(name)
        forms.setdefault(id(form), form)
    return list(forms.values())


def _spellings(form: Any) -> list[Any]:
    """The annotations in which ``form`` is overridden as a whole, so checked in full.

    beartype checks one random item of a container per call; the validator checks them all.
    ``Union[A, B]`` and ``Optional[A]`` equal (and hash as) ``A | B`` and ``A | None``, so
    one key covers both spellings.
    """
    return [form, list[form], dict[str, form], form | None, list[form] | None]


def predicate(tp: Any) -> Callable[[object], bool]:
    """The compiled validator of ``tp`` that remembers what it rejected, for the error."""

    check: Callable[[object], bool]

    def compile_first(value: object) -> bool:
        nonlocal check
        check = checker(tp)
        return check(value)

    check = compile_first

    def is_valid(value: object) -> bool:
        if check(value):
            return True
        _failures.last = (tp, value)
        return False

    is_valid.__name__ = is_valid.__qualname__ = f"valid[{hint_repr(tp)}]"
    return is_valid


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
        # beartype raises the subclasses (conf.violation_*_type) with its message and culprits.
        def __init__(self, message: str, culprits: tuple[object, ...]) -> None:
            BeartypeCallHintViolation.__init__(self, message, culprits)
            type(self).__module__ = _MODULE  # beartype's __init__ renames it to beartype.roar
            self._root = culprits[0]
            self._explain_from_beartype(_ANSI.sub("", message), culprits[-1])

        def _explain_from_beartype(self, message: str, leaf: object) -> None:
            last = getattr(_failures, "last", None)
            _failures.last = None
            match = re.search(r"(\S+)\(\) (?:parameter (\w+)=|return )", message)
            function = match.group(1) if match else "<function>"
            where = f"parameter {match.group(2)!r}" if match and match.group(2) else "return"
            head, validator, _ = message.partition(" violates validator ")
            if last is not None and last[1] is leaf and validator:
                issues = issues_of(last[0], leaf, None)
                self._explain(function, where, issues)
                self._text = head + "".join(f"\n  {issue}" for issue in issues)
            else:
                self._explain(function, where, [Issue((), "type", message)])
                self._text = message

        def __reduce__(self) -> Any:
            # By a module-level function: these classes exist only once beartype is imported.
            getstate = getattr(BeartypeCallHintViolation, "__getstate__")  # noqa: B009 (untyped)
            state = {k: v for k, v in getstate(self).items() if k != "_root"}
            return _unpickle, (type(self).__name__, state)

    class CheckParamViolation(_Violation, BeartypeCallHintParamViolation):
        """A parameter broke its annotation."""

    class CheckReturnViolation(_Violation, BeartypeCallHintReturnViolation):
        """The return value broke its annotation."""

    class CheckYieldViolation(_Violation):
        """A yielded item broke the item type of the return annotation."""

        def __init__(self, function: str, where: str, issues: list[Issue], item: object) -> None:
            BeartypeCallHintViolation.__init__(self, f"{function}() {where}", (item,))
            type(self).__module__ = _MODULE
            self._explain(function, where, issues)

    for cls in (_Violation, CheckParamViolation, CheckReturnViolation, CheckYieldViolation):
        cls.__module__ = _MODULE
        cls.__qualname__ = cls.__name__

    def make_conf(extra: dict[Any, Any]) -> BeartypeConf:
        return BeartypeConf(
            hint_overrides=FrozenDict({**overrides, **extra}),
            violation_param_type=CheckParamViolation,
            violation_return_type=CheckReturnViolation,
        )

    return BeartypeKit(
        conf=make_conf({}),
        predicates=predicates,
        make_conf=make_conf,
        validated=validated,
        beartype=beartype,
        is_bearable=is_bearable,
        violation=_Violation,
        classes={
            cls.__name__: cls
            for cls in (CheckParamViolation, CheckReturnViolation, CheckYieldViolation)
        },
        yield_violation=CheckYieldViolation,
    )


def _unpickle(name: str, state: dict[str, Any]) -> CheckViolation:
    cls = beartype_kit().classes[name]
    error = cls.__new__(cls)
    error.__dict__.update(state)
    return error


def beartype_cause(error: CheckViolation) -> str:
    """What beartype said was wrong, without its preamble: ``list index 3 item str 'x' not …``."""
    message = _ANSI.sub("", str(error.args[0])) if error.args else str(error)
    return message.partition(", as ")[2] or message


def hint_repr(hint: object) -> str:
    """``list[Request]`` rather than ``list[sagellm_protocol.core.Request]``."""
    if is_class(hint):
        return hint.__name__
    return _QUALIFIED.sub(r"\1", repr(hint))


def issues_of(hint: Any, value: object, fallback: str | None) -> list[Issue]:
    """Every issue of ``value`` against ``hint`` by our validator, else one ``fallback`` issue.

    The validator covers protocol type forms; for other annotations (a class, a type
    variable) it may decline, and ``fallback`` (beartype's verdict) is all there is.
    """
    try:
        issues = collect_issues(hint, value)
    except Exception:  # a hint the validator does not handle; beartype's verdict stands
        issues = []
    if issues:
        return issues
    message = fallback or f"expected {hint_repr(hint)}, got {short_repr(value)}"
    return [Issue((), "type", message)]
