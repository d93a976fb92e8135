"""Strict runtime validation of protocol values: ``validate()``, ``is_valid()`` and friends.

The first use of a type compiles a checker specialised for it (cached, thread-safe); a valid
value runs only that code and comes back as the very same object. A value the checker does not
confirm is walked by a precise pass that reports every issue (:data:`CODES` lists their codes).
Strict as a wire contract: ``bool`` is not ``int``, ``int`` is fine for ``float``, NaN and ±inf
are rejected, strings are never coerced, str enum members pass where their value does, closed
types reject unknown keys, keys are strings, and registered cross-field invariants hold.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Final

from ._api import checker, collect_issues, is_valid, validate
from ._issues import CODES, Issue, ValidationError, format_path, short_repr

if TYPE_CHECKING:
    from ._json import validate_json
    from ._names import type_by_name, type_names, validate_by_name
    from ._prepare import prepare
    from ._streams import StreamChecker, stream_checker, validate_stream

__all__ = [
    "CODES",
    "Issue",
    "StreamChecker",
    "ValidationError",
    "checker",
    "collect_issues",
    "format_path",
    "is_valid",
    "prepare",
    "short_repr",
    "stream_checker",
    "type_by_name",
    "type_names",
    "validate",
    "validate_by_name",
    "validate_json",
    "validate_stream",
]


_LAZY: Final = {
    "prepare": "_prepare",
    "StreamChecker": "_streams",
    "stream_checker": "_streams",
    "type_by_name": "_names",
    "type_names": "_names",
    "validate_by_name": "_names",
    "validate_json": "_json",
    "validate_stream": "_streams",
}
"""Names loaded on first use, so that ``validate()`` alone costs no more to import:
validate_json brings the json module (and msgspec when installed), and fewer programs check
whole streams or look types up by name."""


# As the package's own __getattr__ does; a module shared by the two would be one more import
# for ``import sagellm_protocol``, which loads nothing but the package itself.
def __getattr__(name: str) -> object:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
