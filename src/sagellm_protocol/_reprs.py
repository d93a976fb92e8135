"""Short reprs of any value for messages, without running the value's own code.

A leaf: the validator's issues and the protocol's stream rules both word their messages with it.
"""

from collections.abc import Iterator

__all__ = ["MAX_REPR", "cut", "short_repr"]

MAX_REPR = 60
"""About the longest repr a message shows, in characters."""


def cut(text: str) -> str:
    """``text``, or its first characters and ``…`` when longer than :data:`MAX_REPR`."""
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"


def short_repr(value: object) -> str:
    """A repr of ``value`` cut to about 60 characters, without running user code.

    Builtin scalars and containers show their content; other objects show only their type
    (their ``__repr__`` may be slow, raise, or leak data).
    """
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return repr(value)
    if kind is str:
        return repr(value) if len(value) <= 40 else cut(repr(value[: MAX_REPR + 1]))  # type: ignore[arg-type, index]
    try:
        return cut(_repr(value, MAX_REPR + 1))
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
        if used > MAX_REPR:
            out.append("…")
            break
        out.append(part)
        used += len(part) + 2
    return ", ".join(out)
