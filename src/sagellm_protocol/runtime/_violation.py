"""What a runtime check reports: :class:`CheckViolation` and the issues it lists."""

import re
from typing import Any

from .._tree.functions import is_class
from ..validation import Issue, ValidationError, collect_issues, short_repr

__all__ = ["CheckViolation", "CheckYieldViolation", "hint_repr", "issues_of"]

_QUALIFIED = re.compile(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)")


class CheckViolation(ValidationError):
    """A call of a ``@checked`` function broke its annotations; :attr:`issues` says how.

    The class actually raised also derives from beartype's ``BeartypeCallHintViolation``
    (and from its parameter or return subclass), so handlers of either keep working. Its
    text is one header line naming the function and the parameter, ``return`` or
    ``yield #n`` (1 for the first item), then one indented line per issue.
    """

    function: str
    """The function: its ``__qualname__`` under ``@checked`` (``ToyBackend.generate``), its
    module-qualified name as beartype gives it under ``checked_package``."""
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


class CheckYieldViolation(CheckViolation):
    """A yielded item broke its item type, or a stream broke the rules of its events: at
    ``yield #n``, or at ``end after yield #n`` for what only the stream's end reveals.

    The class actually raised also derives from beartype's ``BeartypeCallHintViolation``.
    """


def hint_repr(hint: object) -> str:
    """``list[Request]`` rather than ``list[sagellm_protocol.core.Request]``."""
    if is_class(hint):
        return hint.__name__
    return _QUALIFIED.sub(r"\1", repr(hint))


def issues_of(hint: Any, value: object) -> list[Issue]:
    """Every issue of ``value`` against ``hint``, by our validator.

    For a hint the validator does not handle (a class, a type variable) or where it finds
    nothing wrong (beartype's validators inside ``Annotated``), one issue ``expected <hint>,
    got <value>``: beartype rejected the value, but only it knows why.
    """
    try:
        issues = collect_issues(hint, value)
    except TypeError:  # a type form the validator does not support
        issues = []
    return issues or [Issue((), "type", f"expected {hint_repr(hint)}, got {short_repr(value)}")]
