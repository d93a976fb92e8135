"""Issues and the error that carries them (the short value repr lives in ``_reprs``)."""

from typing import NamedTuple, TypeAlias

from .._error import Error
from .._reprs import cut, short_repr

__all__ = [
    "CODES",
    "Issue",
    "Path",
    "ValidationError",
    "format_path",
    "short_repr",
]

Path: TypeAlias = tuple[str | int, ...]
"""Keys (``str``) and list indexes (``int``) from the validated value down to the issue."""

CODES: frozenset[str] = frozenset(
    {
        "missing",
        "extra",
        "type",
        "literal",
        "range",
        "length",
        "format",
        "invariant",
        "union",
        "json",
        "sequence",
        "more",
    }
)
"""Every issue code:

- ``missing``: a required key is absent;
- ``extra``: a key a closed type does not declare;
- ``type``: the value (or a dict key) has the wrong type, including ``None`` where null is not
  allowed and a reference cycle where a tree is expected;
- ``literal``: a value outside a ``Literal``/enum (including a stream event's ``event`` tag);
- ``range``: a number outside its bounds, NaN or ±inf, or not a multiple of its step;
- ``length``: a string, list or dict too short or too long;
- ``format``: a string not in its format (device string, UUID);
- ``invariant``: a registered cross-field rule is broken;
- ``union``: a value matching no member of an ambiguous union;
- ``json``: text that is not JSON the protocol takes (``validate_json()``): a syntax error with
  its line and column, bytes that are not UTF-8, NaN, nesting or size beyond the limits;
- ``more``: the last issue of a value with more issues than are kept (100): how many more.
"""


class Issue(NamedTuple):
    """One problem found in a value."""

    path: Path
    """Where: keys and list indexes from the validated value, ``()`` for the value itself."""
    code: str
    """What kind of problem: one of :data:`CODES`."""
    message: str
    """``expected <what>, got <short repr of what came>``."""

    def __str__(self) -> str:
        where = format_path(self.path)
        return f"{where}: {self.message}" if where else self.message


class ValidationError(ValueError):
    """A value does not conform to its protocol type; :attr:`issues` lists every problem."""

    issues: list[Issue]
    """Every issue found, in a stable order (declaration order of keys, then unknown keys)."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(issues)
        self.issues = issues

    def __str__(self) -> str:
        return "\n".join(map(str, self.issues))

    def __repr__(self) -> str:
        return f"ValidationError({len(self.issues)} issue{'' if len(self.issues) == 1 else 's'})"

    def to_error(self) -> Error:
        """The protocol's own error: code ``invalid_argument``, not retryable."""
        return {"code": "invalid_argument", "message": str(self), "retryable": False}


def format_path(path: Path) -> str:
    """``("metrics", "itl_list", 3)`` as ``metrics.itl_list[3]``; odd keys as ``['a.b']``."""
    parts: list[str] = []
    for key in path:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key.isidentifier():
            parts.append(f".{key}" if parts else key)
        else:
            parts.append(f"[{cut(repr(key))}]")
    return "".join(parts)
