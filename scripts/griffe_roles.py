"""A griffe extension for the docs site: docstrings as the API reference should render them.

The docstrings' Sphinx roles (``:class:`~sagellm_protocol.Request```) become inline code
(``Request``). mkdocs.yml loads it by path; it changes nothing in the source.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

SPHINX_ROLE = re.compile(
    r":(?:class|func|meth|attr|data|exc|mod|obj):`(?P<tilde>~?)(?P<target>[^`]+)`"
)


def _as_code(role: re.Match[str]) -> str:
    """``:class:`~a.B``` as ```B```, ``:func:`a.f``` as ```a.f```, as Sphinx would show them."""
    target = role["target"].rsplit(".", 1)[-1] if role["tilde"] else role["target"]
    return f"`{target}`"


class SphinxRolesAsCode(griffe.Extension):
    """Sphinx roles in docstrings become inline code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = SPHINX_ROLE.sub(_as_code, obj.docstring.value)
