"""What the gateway's conversions share: the conversion error, ``created`` stamps, usage."""

import time
from collections.abc import Mapping
from typing import Final, Literal

from ..core import Error, FinishReason
from ..openai import ChatCompletionUsage

__all__ = ["ConversionError", "finish_reason", "now", "usage"]


class ConversionError(ValueError):
    """Valid input that Protocol v0.1 cannot carry; :attr:`error` is the answer to give."""

    error: Error
    """The protocol error: ``invalid_argument`` or ``not_implemented`` (a request field),
    or the engine's own error (a failed response or stream)."""

    def __init__(self, error: Error) -> None:
        super().__init__(error["message"])
        self.error = error


_FINISH: Final[Mapping[str, Literal["stop", "length"]]] = {"stop": "stop", "length": "length"}


def now() -> int:
    """The current time in whole Unix seconds, as OpenAI's ``created`` carries it."""
    return int(time.time())


def usage(prompt_tokens: int | None, completion_tokens: int) -> ChatCompletionUsage | None:
    """OpenAI's usage, or ``None`` when the engine did not report ``prompt_tokens``."""
    if prompt_tokens is None:
        return None
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def finish_reason(reason: FinishReason, error: Error | None) -> Literal["stop", "length"]:
    """OpenAI's ``finish_reason``; raise :class:`ConversionError` with ``error`` if it is set."""
    if error is not None:
        raise ConversionError(dict(error))  # type: ignore[arg-type]  # a copy of an Error
    return _FINISH[reason]
