"""Exact-type checks over lists of scalars, for the compiled checkers, and the key count of
validate_json()'s typed path (``_scalar_lists.c``)."""

from collections.abc import Iterable

def all_of_type(items: Iterable[object], cls: type, /) -> bool:
    """Whether the type of every item (every key, for a dict) is exactly ``cls``."""

def all_finite_numbers(items: Iterable[object], /) -> bool:
    """Whether every item is an exact int or an exact float that is neither NaN nor infinite."""

def is_str_keyed_dict(item: object, /) -> bool:
    """Whether ``item`` is exactly a ``dict`` whose keys are all exactly ``str``, none with a lone
    surrogate."""

def same_key_count(data: bytes | str, value: object, shape: object, /) -> bool:
    """Whether ``value``, decoded from the JSON text ``data``, has as many keys in its dicts
    (exact dicts, in exact dicts and lists, where ``shape`` says they may be: see
    ``_typed_json.Shape``) as ``data`` has in its objects."""
