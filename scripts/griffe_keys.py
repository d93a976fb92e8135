"""A griffe extension for the docs site: docstrings as the API reference should render them.

Each TypedDict's class docstring ends with a ``Keys:`` section written by
``scripts/generate_docstrings.py`` for ``help()``; the API reference already shows every key
with its own docstring, so the listing is cut from the rendered class docstring (with the
package's own splitter, the one the JSON Schema and the reference use). The docstrings' Sphinx
roles (``:class:`~sagellm_protocol.Request```) become inline code (``Request``). mkdocs.yml
loads it by path; it changes nothing in the source.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

from sagellm_protocol._tree.analyse import split_keys_section

SPHINX_ROLE = re.compile(
    r":(?:class|func|meth|attr|data|exc|mod|obj):`(?P<tilde>~?)(?P<target>[^`]+)`"
)


def _as_code(role: re.Match[str]) -> str:
    """``:class:`~a.B``` as ```B```, ``:func:`a.f``` as ```a.f```, as Sphinx would show them."""
    target = role["target"].rsplit(".", 1)[-1] if role["tilde"] else role["target"]
    return f"`{target}`"


class DropKeyListings(griffe.Extension):
    """Cut the generated ``Keys:`` section from class docstrings; Sphinx roles become code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        text = SPHINX_ROLE.sub(_as_code, obj.docstring.value)
        obj.docstring.value = split_keys_section(text)[0] if obj.is_class else text
