"""Hypothesis' entry-point hook: ``st.from_type(T)`` draws valid values of every protocol type.

The package declares :func:`_hypothesis_setup_hook` under hypothesis' ``hypothesis`` entry
point, and hypothesis calls it *while hypothesis itself is being imported*, in every program
where this package is installed. So the hook loads nothing of the package: it registers the
TypedDicts of the package modules already imported, and from then on those of each package
module as its import completes (either order of import works). Hypothesis calls the
registered function, which loads the strategies module, only when a test first asks for the
type. Set ``HYPOTHESIS_NO_PLUGINS=1`` to skip it.
"""

import sys
from types import ModuleType
from typing import Any

_PACKAGE = __name__.split(".", 1)[0]


def _hypothesis_setup_hook() -> None:
    """Register :func:`sagellm_protocol.testing.strategies.from_type` for every TypedDict a
    package module exports, now for the modules loaded and later for each module loaded.

    Union aliases (``StreamEvent``) need no registration: hypothesis draws a union from its
    members, which are registered.
    """
    if not any(isinstance(finder, _RegisterOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterOnImport())
    for name, module in list(sys.modules.items()):
        if name.startswith(f"{_PACKAGE}.") and module is not None:
            _register_module(module)


def _register_module(module: ModuleType) -> None:
    from hypothesis.strategies import register_type_strategy
    from typing_extensions import is_typeddict

    for name in getattr(module, "__all__", ()):
        tp = vars(module).get(name)
        # A TypedDict is registered where it is defined; the modules re-exporting it skip it.
        if isinstance(tp, type) and is_typeddict(tp) and tp.__module__ == module.__name__:
            register_type_strategy(tp, _strategy_for)


def _strategy_for(tp: type) -> Any:
    from .testing.strategies import from_type

    return from_type(tp)


class _RegisterOnImport:
    """A meta path finder that changes nothing about how the package's modules are found or
    loaded, but registers each one's TypedDicts once the module has run."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if not name.startswith(f"{_PACKAGE}."):
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Registering(spec.loader)
                return spec
        return None


class _Registering:
    """The module's own loader, which then registers the module's TypedDicts."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # everything else is the wrapped loader's
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _register_module(module)
