"""prepare(): the checkers a server needs, compiled at start-up rather than by a request."""

from typing import Any

from typing_extensions import TypeForm

from ._api import compile_once
from ._names import type_by_name, type_names

__all__ = ["prepare"]


def prepare(*forms: TypeForm[Any]) -> int:
    """Compile now the checker ``validate()``, ``is_valid()`` and ``collect_issues()`` use for
    each of ``forms``, every protocol type (:func:`type_names`) when none is given, and the
    typed decoding ``validate_json()`` uses (with the ``fast`` extra: 2–6 ms a type), so that no
    request pays for them. Call it once at start-up (a server's lifespan hook).

    Returns how many forms were compiled now (``0`` when each was ready). Raises ``TypeError``
    naming the first form that validation does not support; the forms before it stay compiled.
    Unprepared, a type's first use compiles for about 10 ms (``ChatCompletionRequest``); every
    protocol type takes about 0.15 s (``benchmarks/compile.py``, on a quiet machine). A valid
    value of a prepared form then compiles nothing; the first invalid one may still compile
    helpers of the precise pass that reports issues.
    """
    from ._json import typed_decoding  # not at import: it is validate_json()'s own module

    if not forms:
        forms = tuple(type_by_name(name) for name in type_names())
    compiled = 0
    for form in forms:
        compiled += compile_once(form)
        typed_decoding(form)
    return compiled
