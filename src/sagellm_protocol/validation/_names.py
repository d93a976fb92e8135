"""Protocol types by wire name (``"Request"``, ``"kv.KVHandle"``), found by scanning ``__all__``."""

import importlib
import importlib.util
import threading
import types
from typing import Any, Final, Union, cast, get_args, get_origin

from typing_extensions import TypeForm, is_typeddict

from ._api import validate

__all__ = ["type_by_name", "type_names", "validate_by_name"]

_ROOT_MODULES: Final = (
    "core",
    "sampling",
    "backend",
    "version",
    "ports",
    "hetero",
    "pd",
    "comm",
    "compression",
    "operators",
    "openai",
    "kv.hooks",
)
"""Modules whose types have root names; ``kv.hooks`` is the original top-level ``kv_hooks``."""

_KV_MODULES: Final = ("kv.enums", "kv.errors", "kv.metrics", "kv.types", "kv.operations")
"""Modules whose types are named ``kv.<Name>``, as ``sagellm_protocol.kv`` exports them."""

_PACKAGE: Final = __name__.rsplit(".", 2)[0]

_lock = threading.Lock()
_names: dict[str, object] = {}


def _scan() -> dict[str, object]:
    """Name -> type of every TypedDict (and union of TypedDicts) in the domain modules.

    Modules that do not exist (yet) are skipped; the first module listed wins a clash.
    """
    found: dict[str, object] = {}
    for prefix, modules in (("", _ROOT_MODULES), ("kv.", _KV_MODULES)):
        for module_name in modules:
            qualified = f"{_PACKAGE}.{module_name}"
            if importlib.util.find_spec(qualified) is None:
                continue
            module = importlib.import_module(qualified)
            for name in getattr(module, "__all__", ()):
                value = getattr(module, name, None)
                if _is_payload_type(value):
                    found.setdefault(prefix + name, value)
    return found


def _is_payload_type(value: object) -> bool:
    if is_typeddict(value):
        return True
    if get_origin(value) is Union or isinstance(value, types.UnionType):
        members = [m for m in get_args(value) if m is not type(None)]
        return bool(members) and all(is_typeddict(m) for m in members)
    return False


def _all_names() -> dict[str, object]:
    if not _names:
        with _lock:
            if not _names:
                _names.update(_scan())
    return _names


def type_names() -> list[str]:
    """Every wire type name, sorted: root names (``"Request"``) and ``"kv.<Name>"`` ones."""
    return sorted(_all_names())


def type_by_name(name: str) -> TypeForm[Any]:
    """The type named ``name`` (``"Request"``, ``"StreamEvent"``, ``"kv.KVHandle"``).

    Raises ``KeyError`` for an unknown name.
    """
    try:
        return cast(TypeForm[Any], _all_names()[name])
    except KeyError:
        raise KeyError(f"no protocol type named {name!r}; see type_names()") from None


def validate_by_name(name: str, value: object) -> Any:
    """``validate(type_by_name(name), value)``: the value itself, or raise ValidationError."""
    return validate(type_by_name(name), value)
