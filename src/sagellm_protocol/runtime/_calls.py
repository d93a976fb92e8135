"""Which parameter of a call holds the argument a check rejected."""

import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["call_arguments", "parameter_holding"]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD


def call_arguments(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Iterator[tuple[str, object]]:
    """Each argument of a call with the parameter it goes to (one item of ``*args`` or
    ``**kwargs`` at a time), as beartype sees them: also when the call does not bind."""
    parameters = list(signature.parameters.values())
    positional = [p.name for p in parameters if p.kind in _POSITIONAL]
    star = next((p.name for p in parameters if p.kind is _VAR_POSITIONAL), None)
    for index, value in enumerate(args):
        name = positional[index] if index < len(positional) else star
        if name is not None:
            yield name, value
    by_keyword = {p.name for p in parameters if p.kind in _KEYWORD}
    star_star = next((p.name for p in parameters if p.kind is _VAR_KEYWORD), None)
    for key, value in kwargs.items():
        name = key if key in by_keyword else star_star
        if name is not None:
            yield name, value


def parameter_holding(
    culprit: object,
    hints: dict[str, Any],
    arguments: Iterable[tuple[str, object]],
    is_bearable: Callable[[object, Any], bool],
) -> str:
    """The parameter whose argument a check rejected: it was passed ``culprit`` itself.

    Of several parameters passed that very object, the first it breaks (beartype checks them
    in order).
    """
    names = [name for name, value in arguments if value is culprit and name in hints]
    if len(names) == 1:
        return names[0]
    return next((name for name in names if not is_bearable(culprit, hints[name])), names[0])
