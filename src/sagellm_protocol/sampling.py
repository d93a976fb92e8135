"""Sampling parameters, decoding strategies and presets."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final, Literal, TypeAlias, cast

from annotated_types import Ge
from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import register_defaults
from .constraints import NonNegativeFloat, Penalty, PositiveInt, Temperature, TopP, UnitInterval

__all__ = [
    "DEFAULT_SAMPLING_PARAMS",
    "DecodingStrategy",
    "DecodingStrategyName",
    "SamplingParams",
    "SamplingPreset",
    "SamplingPresetName",
    "default_sampling_params",
    "sampling_preset_params",
]

DecodingStrategyName: TypeAlias = Literal[
    "greedy", "sampling", "beam_search", "contrastive", "speculative"
]
"""Wire values of :class:`DecodingStrategy`."""


class DecodingStrategy(StrEnum):
    """How the next token is chosen."""

    GREEDY = "greedy"
    SAMPLING = "sampling"
    BEAM_SEARCH = "beam_search"
    CONTRASTIVE = "contrastive"
    SPECULATIVE = "speculative"


class SamplingParams(TypedDict, closed=True):
    """Decoding parameters of one request; absent keys take their defaults."""

    strategy: NotRequired[DecodingStrategyName | DecodingStrategy]
    """Decoding strategy. Usually implied by ``temperature`` (0 is greedy, > 0 is sampling);
    beam search, contrastive and speculative decoding must be asked for explicitly."""
    temperature: NotRequired[Temperature]
    """Sampling temperature in [0, 2]; below 1e-5 decoding is greedy."""
    top_p: NotRequired[TopP]
    """Nucleus-sampling threshold in (0, 1]; 1 keeps every token."""
    top_k: NotRequired[Annotated[int, Ge(-1)]]
    """Sample only from the ``top_k`` most likely tokens; 0 disables, -1 means no limit."""
    beam_size: NotRequired[PositiveInt]
    """Beam-search width: candidate sequences kept (> 0)."""
    length_penalty: NotRequired[float]
    """Beam-search length penalty: > 1 favours longer sequences, < 1 shorter ones."""
    early_stopping: NotRequired[bool]
    """Beam search stops once ``beam_size`` sequences are complete."""
    alpha: NotRequired[UnitInterval]
    """Contrastive search: coherence weight in [0, 1]."""
    penalty_alpha: NotRequired[NonNegativeFloat]
    """Contrastive search: degeneration penalty strength (>= 0)."""
    repetition_penalty: NotRequired[Annotated[float, Ge(1)]]
    """Repetition penalty (>= 1); larger values suppress repeated tokens more."""
    presence_penalty: NotRequired[Penalty]
    """OpenAI presence penalty in [-2, 2]: penalises tokens that already appeared."""
    frequency_penalty: NotRequired[Penalty]
    """OpenAI frequency penalty in [-2, 2]: penalises tokens by how often they appeared."""
    max_tokens: NotRequired[PositiveInt | None]
    """Maximum tokens to generate (> 0); ``Request.max_tokens`` overrides it."""
    stop_sequences: NotRequired[list[str] | None]
    """Generation stops as soon as any of these strings is produced."""
    n_speculative_tokens: NotRequired[Annotated[int, Ge(1)]]
    """Speculative decoding: tokens the draft model proposes per step (>= 1)."""
    seed: NotRequired[int | None]
    """Random seed for reproducible sampling."""
    skip_special_tokens: NotRequired[bool]
    """Leave special tokens (``<pad>``, ``<eos>`` …) out of the output text."""


DEFAULT_SAMPLING_PARAMS: Final[Mapping[str, object]] = MappingProxyType(
    {
        "strategy": "greedy",
        "temperature": 1.0,
        "top_p": 1.0,
        "top_k": 0,
        "beam_size": 4,
        "length_penalty": 1.0,
        "early_stopping": True,
        "alpha": 0.6,
        "penalty_alpha": 0.6,
        "repetition_penalty": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "max_tokens": None,
        "stop_sequences": None,
        "n_speculative_tokens": 5,
        "seed": None,
        "skip_special_tokens": True,
    }
)
"""Every :class:`SamplingParams` key at its default (the spec's), in declaration order, as a
read-only view; the registered defaults are these.

A shared module-level dict could be changed by any caller for every other caller; the
view raises ``TypeError`` on assignment instead. It is a ``Mapping``, not a ``dict``:
call :func:`default_sampling_params` for a ``SamplingParams`` value to change or send.
"""

register_defaults(SamplingParams, DEFAULT_SAMPLING_PARAMS)

SamplingPresetName: TypeAlias = Literal["deterministic", "balanced", "creative", "precise"]
"""Wire values of :class:`SamplingPreset`."""


class SamplingPreset(StrEnum):
    """Named sampling configurations; :func:`sampling_preset_params` expands one."""

    DETERMINISTIC = "deterministic"
    BALANCED = "balanced"
    CREATIVE = "creative"
    PRECISE = "precise"


def default_sampling_params() -> SamplingParams:
    """A new dict holding every :class:`SamplingParams` key at its default; yours to modify."""
    # Every default is an immutable scalar or None: a shallow copy is a new, independent dict.
    return cast(SamplingParams, dict(DEFAULT_SAMPLING_PARAMS))


_PRESET_OVERRIDES: Final[Mapping[SamplingPreset, SamplingParams]] = MappingProxyType(
    {
        SamplingPreset.DETERMINISTIC: {"strategy": "greedy"},
        SamplingPreset.BALANCED: {"strategy": "sampling", "temperature": 0.7, "top_p": 0.9},
        SamplingPreset.CREATIVE: {"strategy": "sampling", "temperature": 1.2, "top_p": 0.95},
        SamplingPreset.PRECISE: {"strategy": "beam_search", "length_penalty": 1.2},
    }
)


def sampling_preset_params(preset: SamplingPresetName | SamplingPreset) -> SamplingParams:
    """A new dict of every :class:`SamplingParams` key for ``preset``.

    ``deterministic`` is greedy; ``balanced`` samples at temperature 0.7, top_p 0.9;
    ``creative`` samples at temperature 1.2, top_p 0.95; ``precise`` is beam search with
    length_penalty 1.2. Every other key is at its default.

    Raises ``ValueError`` when ``preset`` is not a preset name.
    """
    params = default_sampling_params()
    params.update(_PRESET_OVERRIDES[SamplingPreset(preset)])
    return params


list_keys_in_help(globals())
