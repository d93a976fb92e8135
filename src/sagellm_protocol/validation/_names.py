"""Protocol types by wire name (``"Request"``, ``"kv.KVHandle"``), found in the package's modules.

A type's wire name is its name, prefixed by the wire namespace of the module that defines it:
a module's ``__wire_namespace__``, else its package's (``sagellm_protocol.kv`` says ``"kv"``;
``kv.hooks``, the original top-level ``kv_hooks``, says ``""``).
"""

import importlib
import sys
import threading
from typing import Any, Final, cast

from typing_extensions import TypeForm

from .._tree.analyse import is_payload_type
from ._api import validate

__all__ = ["type_by_name", "type_names", "validate_by_name"]

_PACKAGE: Final = __name__.rsplit(".", 2)[0]

_lock = threading.Lock()
_names: dict[str, object] = {}


def _namespace(module_name: str) -> str:
    while True:
        found = vars(sys.modules[module_name]).get("__wire_namespace__")
        if isinstance(found, str) or "." not in module_name:
            return found or ""
        module_name = module_name.rpartition(".")[0]


def _scan() -> dict[str, object]:
    """Name -> type of every TypedDict (and union alias of them) the package's modules define.

    The modules are those the package's exports come from (loading every export), in name
    order; a TypedDict is named where it is defined, a union alias where it is first exported.
    """
    package = importlib.import_module(_PACKAGE)
    for name in package.__all__:
        getattr(package, name)
    found: dict[str, object] = {}
    for module_name in sorted(name for name in sys.modules if name.startswith(f"{_PACKAGE}.")):
        module = sys.modules[module_name]
        prefix = _namespace(module_name)
        for name in getattr(module, "__all__", ()):
            value = vars(module).get(name)
            if not is_payload_type(value):
                continue
            # A TypedDict (a class) is named where it is defined; a union alias has no module.
            if not isinstance(value, type) or value.__module__ == module_name:
                found.setdefault(f"{prefix}.{name}" if prefix else name, value)
    return found


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
