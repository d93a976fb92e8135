"""Issues, the error that carries them, and the short value repr used in messages."""

from collections.abc import Iterator
from typing import NamedTuple, TypeAlias

from ..core import Error

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
  its line and column, bytes that are not UTF-8, NaN, nesting or size beyond the limits.
"""

_MAX_REPR = 60


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
            parts.append(f"[{_cut(repr(key))}]")
    return "".join(parts)


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "…"


def short_repr(value: object) -> str:
    """A repr of ``value`` cut to about 60 characters, without running user code.

    Builtin scalars and containers show their content; other objects show only their type
    (their ``__repr__`` may be slow, raise, or leak data).
    """
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return repr(value)
    if kind is str:
        return repr(value) if len(value) <= 40 else _cut(repr(value[: _MAX_REPR + 1]))  # type: ignore[arg-type, index]
    try:
        return _cut(_repr(value, _MAX_REPR + 1))
    except Exception:  # a str subclass with a hostile __len__, say; never let it escape
        return "<value>"


def _type_name(value: object) -> str:
    # type.__name__ read through type's own descriptor: a metaclass can't intercept it.
    name: object = type.__dict__["__name__"].__get__(type(value))
    return name if isinstance(name, str) else "object"


def _repr(value: object, budget: int, depth: int = 0) -> str:
    """Repr of ``value`` that stops after ``budget`` characters and 3 levels of nesting."""
    if value is None or type(value) is bool:
        return repr(value)
    if isinstance(value, int):
        number = int.__index__(value)
        return (
            int.__repr__(number)
            if number.bit_length() < 200
            else f"<int of {number.bit_length()} bits>"
        )
    if isinstance(value, float):
        return float.__repr__(float.__float__(value))
    if isinstance(value, str):
        return str.__repr__(str.__str__(value)[:budget])
    if depth >= 3 and isinstance(value, list | tuple | dict):
        return "[…]" if isinstance(value, list) else "(…)" if isinstance(value, tuple) else "{…}"
    if isinstance(value, list):
        return "[" + _join(_repr(item, budget, depth + 1) for item in list.__iter__(value)) + "]"
    if isinstance(value, tuple):
        return "(" + _join(_repr(item, budget, depth + 1) for item in tuple.__iter__(value)) + ")"
    if isinstance(value, dict):
        return (
            "{"
            + _join(
                f"{_repr(key, budget, depth + 1)}: {_repr(item, budget, depth + 1)}"
                for key, item in dict.items(value)
            )
            + "}"
        )
    return f"<{_type_name(value)} object>"


def _join(parts: Iterator[str]) -> str:
    """Join reprs with ``", "``, stopping (with ``…``) once the text is longer than needed."""
    out: list[str] = []
    used = 0
    for part in parts:
        if used > _MAX_REPR:
            out.append("…")
            break
        out.append(part)
        used += len(part) + 2
    return ", ".join(out)
