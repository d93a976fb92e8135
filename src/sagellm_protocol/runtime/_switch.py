"""The switch of runtime checks: ``SAGELLM_PROTOCOL_CHECKS`` and programmatic overrides.

Two overrides exist. :func:`override_checks` holds for the block in the running thread or
asyncio task only (a ``ContextVar``), :func:`set_checks_mode` for the whole process. Wrappers
that ``@checked`` made with checks on consult both at every call, through
:data:`overrides_in_force`, a counter they read first, so the common case (no override
anywhere) costs one list read.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

__all__ = [
    "CHECKS_ENV",
    "call_period",
    "checks_mode",
    "override_checks",
    "overrides_in_force",
    "sampling_period",
    "set_checks_mode",
]

CHECKS_ENV: Final = "SAGELLM_PROTOCOL_CHECKS"
"""Read by ``@checked`` when it decorates: ``off``, ``on`` or ``sample:N``."""

_ACCEPTED: Final = "'off', 'on' or 'sample:N' (check one call in N, N an integer >= 1)"

Period = int | None
"""A sampling period: ``None`` off, 1 every call, N one call in N."""

_lock = threading.Lock()
_process: tuple[Period] | None = None
"""The period set by :func:`set_checks_mode`, boxed; ``None``: no process-wide override."""
_block: ContextVar[tuple[Period] | None] = ContextVar("sagellm_protocol_checks", default=None)
"""The period of the innermost :func:`override_checks` block of this thread or task."""

overrides_in_force: Final[list[int]] = [0]
"""How many overrides hold anywhere (open blocks in any thread, plus the process-wide one):
while 0, a checked wrapper skips :func:`call_period`."""


def _parse(text: str, source: str) -> Period:
    """The sampling period of a switch value."""
    value = text.strip().lower()
    if value == "off":
        return None
    if value == "on":
        return 1
    prefix, _, count = value.partition(":")
    if prefix == "sample" and count.isascii() and count.isdigit() and int(count) >= 1:
        return int(count)
    raise ValueError(f"{source}={text!r} is not a valid checks mode: use {_ACCEPTED}")


def _format(period: Period) -> str:
    return "off" if period is None else "on" if period == 1 else f"sample:{period}"


def _overridden() -> tuple[Period] | None:
    return _block.get() or _process


def call_period(decorated: int) -> Period:
    """The period of one call of a wrapper decorated with period ``decorated``: the override
    in force in this thread or task, else the process-wide one, else ``decorated``."""
    override = _overridden()
    return decorated if override is None else override[0]


def sampling_period(default_mode: str | None = None) -> Period:
    """The sampling period in force: ``None`` when checks are off, 1 every call, N one in N.

    The override of this thread or task (:func:`override_checks`) wins, then the process-wide
    one (:func:`set_checks_mode`), then ``SAGELLM_PROTOCOL_CHECKS`` (unset or empty means not
    set), then ``default_mode``, then ``on``. Raises ``ValueError`` naming the source of an
    invalid value.
    """
    override = _overridden()
    if override is not None:
        return override[0]
    env = os.environ.get(CHECKS_ENV, "")
    if env.strip():
        return _parse(env, CHECKS_ENV)
    if default_mode is not None:
        return _parse(default_mode, "default_mode")
    return 1


def checks_mode() -> str:
    """The checks mode in force here and now: ``"off"``, ``"on"`` or ``"sample:N"``."""
    return _format(sampling_period())


def set_checks_mode(mode: str | None) -> str | None:
    """Override ``SAGELLM_PROTOCOL_CHECKS`` process-wide (``None`` removes the override).

    Applies to functions decorated afterwards and, from their next call, to those decorated
    with checks on (one decorated while off is the bare function: nothing can turn it on).
    An :func:`override_checks` block wins over it in its thread or task. Returns the previous
    override, for restoring it. Raises ``ValueError`` on anything but ``off``, ``on`` or
    ``sample:N``.
    """
    global _process
    boxed = None if mode is None else (_parse(mode, "mode"),)
    with _lock:
        previous, _process = _process, boxed
        overrides_in_force[0] += (boxed is not None) - (previous is not None)
    return None if previous is None else _format(previous[0])


@contextmanager
def override_checks(mode: str) -> Iterator[None]:
    """Within the block, in this thread or asyncio task only, checks run as if
    ``SAGELLM_PROTOCOL_CHECKS=mode``: ``@checked`` decorates so, and functions decorated with
    checks on check calls so (``"off"`` silences them). Blocks in other threads and tasks
    neither see nor undo it. Raises ``ValueError`` on an invalid mode."""
    token = _block.set((_parse(mode, "mode"),))
    with _lock:
        overrides_in_force[0] += 1
    try:
        yield
    finally:
        with _lock:
            overrides_in_force[0] -= 1
        _block.reset(token)
