"""The analysed type tree: the one reader of annotations, and the nodes every consumer walks.

Validation (both passes), defaults, type names, hypothesis strategies and runtime checks read
type forms only through this package; nothing else in ``sagellm_protocol`` calls
``get_type_hints`` or looks inside ``Annotated``, ``Literal``, ``NotRequired`` or ``closed``.
"""
