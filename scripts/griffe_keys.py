"""A griffe extension for the docs site: the API reference without the generated key listings.

Each TypedDict's class docstring ends with a ``Keys:`` section written by
``scripts/generate_docstrings.py`` for ``help()``; the API reference already shows every key
with its own docstring, so the listing is cut from the rendered class docstring (with the
package's own splitter, the one the JSON Schema and the reference use). mkdocs.yml loads it
by path; it changes nothing in the source.
"""

from __future__ import annotations

from typing import Any

import griffe

from sagellm_protocol._tree.analyse import split_keys_section


class DropKeyListings(griffe.Extension):
    """Cut the generated ``Keys:`` section from every class docstring griffe reads."""

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if cls.docstring is not None:
            cls.docstring.value = split_keys_section(cls.docstring.value)[0]
