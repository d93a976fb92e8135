"""Exact-type checks over lists of scalars, for the compiled checkers (``_scalar_lists.c``), and
validate_json()'s typed path: the key count and the typed decoder (``_typed_decode.c``)."""

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

def typed_program(spec: tuple[object, ...], /) -> object:
    """The decoding program of ``spec`` (``_typed_json.DecoderSpec``), for :func:`typed_decode`;
    raises ``ValueError`` or ``TypeError`` for a malformed one."""

def typed_decode(program: object, data: bytes | str, max_depth: int, /) -> object:
    """The value of the JSON text ``data`` if every part of it is what ``program`` says, with no
    key undeclared, missing or given twice, nested at most ``max_depth`` levels; else
    ``NotImplemented``."""
