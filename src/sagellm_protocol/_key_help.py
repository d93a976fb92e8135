"""``Request.__doc__`` lists the type's keys, built on first access; the source holds none of it.

A docstring shows the class only, not the docstring under each key, so each type module ends
with :func:`list_keys_in_help`. The listing is rendered by ``_tree.listing`` from the key
docstrings the package records (``_source_notes``), so a ``.pyc``-only install shows the same.
Nothing of it is built at import time.
"""

import inspect
import threading
from collections.abc import Mapping

from typing_extensions import is_typeddict

__all__ = ["list_keys_in_help"]

_PACKAGE = "sagellm_protocol."


class _DocWithKeys(str):
    """A TypedDict's ``__doc__``: its docstring as written, which ``__get__`` extends with the
    listing of its keys.

    ``Request.__doc__`` (and so ``inspect.getdoc``, IPython's ``Request?``) goes through
    ``type.__doc__``, which calls the ``__get__`` of what the class body stored: the listing is
    built on the first read and kept. ``pydoc`` reads the stored value itself, so ``help()``
    shows the docstring as written (this ``str``). The analysis behind the listing reads
    ``__doc__`` too: in the thread building the listing, the docstring as written is the answer.
    """

    _shown: str | None = None
    _builder: int | None = None

    def __get__(self, instance: object, owner: type | None = None) -> str:
        if self._shown is not None:
            return self._shown
        if owner is None or self._builder == threading.get_ident():
            return str(self)
        from ._tree.nodes import LOCK  # the tree's lock: analysis runs under it too

        with LOCK:
            if self._shown is None:
                self._builder = threading.get_ident()
                try:
                    self._shown = _with_listing(owner, str(self))
                finally:
                    self._builder = None
        return self._shown


def _with_listing(cls: type, written: str) -> str:
    from ._tree.analyse import analyze
    from ._tree.listing import key_listing
    from ._tree.nodes import TypedDictNode

    node = analyze(cls)
    assert isinstance(node, TypedDictNode)  # only TypedDicts get a _DocWithKeys
    listing = "\n".join(key_listing(node))
    description = inspect.cleandoc(written)
    return f"{description}\n\n{listing}" if description else listing


def list_keys_in_help(namespace: Mapping[str, object]) -> None:
    """Give every TypedDict of the package in ``namespace`` (a module's ``globals()``) a
    ``__doc__`` that lists its keys: those defined there, and those imported from modules below
    the types' layer, which may not import this one (``_error.Error``, through ``core``)."""
    for value in namespace.values():
        if (
            is_typeddict(value)
            and value.__module__.startswith(_PACKAGE)
            and not isinstance(value.__dict__.get("__doc__"), _DocWithKeys)
        ):
            assert isinstance(value, type)  # is_typeddict does not narrow
            written = _DocWithKeys(value.__dict__.get("__doc__") or "")
            type.__setattr__(value, "__doc__", written)
