"""What the codemod knows of this package, read from its exports and its type tree."""

import functools
import importlib
import inspect
from collections.abc import Sequence
from typing import Final

from .. import _HOMES  # type: ignore[attr-defined]  # the runtime map of the lazy exports
from .._defaults import _fixed_value
from .._tree.analyse import analyze
from .._tree.nodes import TypedDictNode

__all__ = ["Protocol"]

_PACKAGE: Final = "sagellm_protocol"
# Homes whose functions take a protocol value first (the methods the original had).
_TOOLS: Final = ("_", "validation")


class Protocol:
    """The public names, the protocol TypedDicts, their keys and fixed tags, the functions."""

    def __init__(self) -> None:
        package = importlib.import_module(_PACKAGE)
        homes: dict[str, tuple[str, ...]] = _HOMES
        self.public = frozenset(package.__all__)
        self._nodes: dict[str, TypedDictNode] = {}
        functions = set()
        for home, names in homes.items():
            for name in names:
                value = getattr(package, name)
                node = _typed_dict(value)
                if node is not None:
                    self._nodes[name] = node
                elif inspect.isfunction(value) and not home.startswith(_TOOLS):
                    functions.add(name)
        self.typed_dicts = frozenset(self._nodes)
        self.functions = frozenset(functions)
        self.keys = frozenset(f.name for node in self._nodes.values() for f in node.fields)
        # key -> the types that declare it, to say which annotation would type a value
        self.owners = {
            key: tuple(sorted(n for n, node in self._nodes.items() if key in node.declared))
            for key in self.keys
        }

    def tags(self, type_name: str) -> list[tuple[str, str]]:
        """The required keys of ``type_name`` that allow one string, with that string."""
        return [
            (field.name, fixed)
            for field in self._nodes[type_name].fields
            if field.required and (fixed := _fixed_value(field.node)) is not None
        ]

    def is_old_module(self, module: str, names: Sequence[str] = ()) -> bool:
        """Whether ``module`` is the original's submodule that this package lacks, or one
        of ours that lacks some of ``names``."""
        if not module.startswith(f"{_PACKAGE}."):
            return False
        ours = _module(module)
        return ours is None or any(not hasattr(ours, name) for name in names)


def _typed_dict(value: object) -> TypedDictNode | None:
    try:
        node = analyze(value)
    except TypeError:
        return None
    return node if isinstance(node, TypedDictNode) else None


@functools.cache
def _module(name: str) -> object | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
