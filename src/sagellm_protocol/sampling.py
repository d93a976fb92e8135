"""Sampling parameters, decoding strategies and presets."""

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._registry import register_defaults
from .constraints import PositiveInt, Temperature

__all__ = ["DecodingStrategy", "DecodingStrategyName", "SamplingParams"]

DecodingStrategyName: TypeAlias = Literal[
    "greedy", "sampling", "beam_search", "contrastive", "speculative"
]
"""Wire values of :class:`DecodingStrategy`."""


class DecodingStrategy(StrEnum):
    """How tokens are chosen."""

    GREEDY = "greedy"
    SAMPLING = "sampling"
    BEAM_SEARCH = "beam_search"
    CONTRASTIVE = "contrastive"
    SPECULATIVE = "speculative"


class SamplingParams(TypedDict, closed=True):
    """Decoding parameters. (Stub: completed by the sampling module work.)"""

    strategy: NotRequired[DecodingStrategyName | DecodingStrategy]
    """Decoding strategy."""
    temperature: NotRequired[Temperature]
    """Sampling temperature in [0, 2]."""
    max_tokens: NotRequired[PositiveInt | None]
    """Maximum tokens to generate."""


register_defaults(SamplingParams, {"strategy": "greedy", "temperature": 1.0, "max_tokens": None})
