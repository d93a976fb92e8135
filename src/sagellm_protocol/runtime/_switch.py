"""The switch of runtime checks: ``SAGELLM_PROTOCOL_CHECKS`` and a programmatic override."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["CHECKS_ENV", "checks_mode", "override_checks", "sampling_period", "set_checks_mode"]

CHECKS_ENV: Final = "SAGELLM_PROTOCOL_CHECKS"
"""Read by ``@checked`` when it decorates: ``off``, ``on`` or ``sample:N``."""

_ACCEPTED: Final = "'off', 'on' or 'sample:N' (check one call in N, N an integer >= 1)"

_lock = threading.Lock()
_override: str | None = None
"""The mode set by :func:`set_checks_mode`, as :func:`checks_mode` spells it; ``None``: unset."""


def _parse(text: str, source: str) -> int | None:
    """The sampling period of a switch value: ``None`` off, 1 every call, N one call in N."""
    value = text.strip().lower()
    if value == "off":
        return None
    if value == "on":
        return 1
    prefix, _, count = value.partition(":")
    if prefix == "sample" and count.isascii() and count.isdigit() and int(count) >= 1:
        return int(count)
    raise ValueError(f"{source}={text!r} is not a valid checks mode: use {_ACCEPTED}")


def _format(period: int | None) -> str:
    return "off" if period is None else "on" if period == 1 else f"sample:{period}"


def sampling_period(default_mode: str | None = None) -> int | None:
    """The sampling period in force: ``None`` when checks are off, 1 every call, N one in N.

    The programmatic override wins, then ``SAGELLM_PROTOCOL_CHECKS`` (unset or empty means
    not set), then ``default_mode``, then ``on``. Raises ``ValueError`` naming the source of
    an invalid value.
    """
    override = _override
    if override is not None:
        return _parse(override, "mode")
    env = os.environ.get(CHECKS_ENV, "")
    if env.strip():
        return _parse(env, CHECKS_ENV)
    if default_mode is not None:
        return _parse(default_mode, "default_mode")
    return 1


def checks_mode() -> str:
    """The checks mode ``@checked`` uses now: ``"off"``, ``"on"`` or ``"sample:N"``."""
    return _format(sampling_period())


def set_checks_mode(mode: str | None) -> str | None:
    """Override ``SAGELLM_PROTOCOL_CHECKS`` process-wide (``None`` removes the override).

    Affects functions decorated afterwards. Returns the previous override, for restoring it.
    Raises ``ValueError`` on anything but ``off``, ``on`` or ``sample:N``.
    """
    global _override
    spelled = None if mode is None else _format(_parse(mode, "mode"))
    with _lock:
        previous, _override = _override, spelled
    return previous


@contextmanager
def override_checks(mode: str) -> Iterator[None]:
    """Within the block, ``@checked`` decorates as if ``SAGELLM_PROTOCOL_CHECKS=mode`` (tests)."""
    previous = set_checks_mode(mode)
    try:
        yield
    finally:
        set_checks_mode(previous)
