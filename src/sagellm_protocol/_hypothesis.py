"""Hypothesis' entry-point hook: ``st.from_type(T)`` draws valid values of every protocol type.

The package declares :func:`_hypothesis_setup_hook` under hypothesis' ``hypothesis`` entry
point, and hypothesis calls it *while hypothesis itself is being imported*. So nothing here
imports hypothesis or ``testing.strategies`` (which imports hypothesis) at the top: the hook
registers a function per type, and hypothesis calls that function, which loads the strategies
module, only when a test first asks for the type. Set ``HYPOTHESIS_NO_PLUGINS=1`` to skip it.
"""

from typing import Any


def _hypothesis_setup_hook() -> None:
    """Register :func:`sagellm_protocol.testing.strategies.from_type` for every protocol type.

    Union aliases (``StreamEvent``) need no registration: hypothesis draws a union from its
    members, which are registered.
    """
    from hypothesis.strategies import register_type_strategy

    from .validation import type_by_name, type_names

    for name in type_names():
        tp = type_by_name(name)
        if isinstance(tp, type):
            register_type_strategy(tp, _strategy_for)


def _strategy_for(tp: type) -> Any:
    from .testing.strategies import from_type

    return from_type(tp)
