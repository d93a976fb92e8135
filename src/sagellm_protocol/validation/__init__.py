"""Strict runtime validation of protocol values: ``validate()``, ``is_valid()`` and friends.

The first use of a type compiles a checker specialised for it (cached, thread-safe); a valid
value runs only that code and comes back as the very same object. A value the checker does not
confirm is walked by a precise pass that reports every issue (:data:`CODES` lists their codes).
Strict as a wire contract: ``bool`` is not ``int``, ``int`` is fine for ``float``, NaN and ±inf
are rejected, strings are never coerced, str enum members pass where their value does, closed
types reject unknown keys, keys are strings, and registered cross-field invariants hold.
"""

from typing import TYPE_CHECKING

from ._api import checker, collect_issues, is_valid, validate
from ._issues import CODES, Issue, ValidationError, format_path, short_repr
from ._names import type_by_name, type_names, validate_by_name
from ._streams import StreamChecker, stream_checker, validate_stream

if TYPE_CHECKING:
    from ._json import validate_json

__all__ = [
    "CODES",
    "Issue",
    "StreamChecker",
    "ValidationError",
    "checker",
    "collect_issues",
    "format_path",
    "is_valid",
    "short_repr",
    "stream_checker",
    "type_by_name",
    "type_names",
    "validate",
    "validate_by_name",
    "validate_json",
    "validate_stream",
]


def __getattr__(name: str) -> object:
    # validate_json brings the json module (and msgspec when installed): load it on first use,
    # so validate() alone costs no more to import.
    if name == "validate_json":
        from ._json import validate_json

        return validate_json
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
