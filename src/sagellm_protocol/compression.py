"""Model compression: quantization, sparsity, speculative decoding, operator fusion."""

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Annotated, Any, Literal, TypeAlias

from annotated_types import Ge, Le
from typing_extensions import NotRequired, TypedDict

from ._defaults import defaults
from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import (
    Factory,
    InvariantViolation,
    register_defaults,
    register_invariant,
    register_wire_side,
)
from .constraints import JSONObject, NonNegativeFloat, NonNegativeInt, PositiveInt, UnitInterval

__all__ = [
    "CompressionConfig",
    "CompressionMetrics",
    "FusionConfig",
    "FusionLevel",
    "FusionLevelName",
    "QuantizationConfig",
    "QuantizationGranularity",
    "QuantizationGranularityName",
    "QuantizationScheme",
    "QuantizationSchemeName",
    "SparseConfig",
    "SparseFormat",
    "SparseFormatName",
    "SparsityPattern",
    "SparsityPatternName",
    "SpeculativeDecodingConfig",
    "SpeculativeStrategy",
    "SpeculativeStrategyName",
]

QuantizationSchemeName: TypeAlias = Literal[
    "none", "int8", "fp8", "int4", "nf4", "awq", "gptq", "smooth_quant", "bitsandbytes", "gguf"
]
"""Wire values of :class:`QuantizationScheme`."""


class QuantizationScheme(StrEnum):
    """How weights (and possibly activations) are quantized."""

    NONE = "none"
    INT8 = "int8"
    FP8 = "fp8"
    INT4 = "int4"
    NF4 = "nf4"
    AWQ = "awq"
    GPTQ = "gptq"
    SMOOTH_QUANT = "smooth_quant"
    BITSANDBYTES = "bitsandbytes"
    GGUF = "gguf"


QuantizationGranularityName: TypeAlias = Literal[
    "per_tensor", "per_channel", "per_token", "per_group"
]
"""Wire values of :class:`QuantizationGranularity`."""


class QuantizationGranularity(StrEnum):
    """Which elements share one quantization scale."""

    PER_TENSOR = "per_tensor"
    PER_CHANNEL = "per_channel"
    PER_TOKEN = "per_token"
    PER_GROUP = "per_group"


SparseFormatName: TypeAlias = Literal["dense", "csr", "csc", "bsr", "coo", "n_m"]
"""Wire values of :class:`SparseFormat`."""


class SparseFormat(StrEnum):
    """Storage format of sparse weights."""

    DENSE = "dense"
    CSR = "csr"
    CSC = "csc"
    BSR = "bsr"
    COO = "coo"
    N_M = "n_m"


SparsityPatternName: TypeAlias = Literal["unstructured", "structured", "semi_structured", "block"]
"""Wire values of :class:`SparsityPattern`."""


class SparsityPattern(StrEnum):
    """Where zeros may fall in a sparse weight."""

    UNSTRUCTURED = "unstructured"
    STRUCTURED = "structured"
    SEMI_STRUCTURED = "semi_structured"
    BLOCK = "block"


SpeculativeStrategyName: TypeAlias = Literal["draft_model", "lookahead", "medusa", "eagle"]
"""Wire values of :class:`SpeculativeStrategy`."""


class SpeculativeStrategy(StrEnum):
    """How draft tokens are proposed in speculative decoding."""

    DRAFT_MODEL = "draft_model"
    LOOKAHEAD = "lookahead"
    MEDUSA = "medusa"
    EAGLE = "eagle"


FusionLevelName: TypeAlias = Literal["none", "pointwise", "attention", "layer", "full"]
"""Wire values of :class:`FusionLevel`."""


class FusionLevel(StrEnum):
    """How aggressively operators are fused into larger kernels."""

    NONE = "none"
    POINTWISE = "pointwise"
    ATTENTION = "attention"
    LAYER = "layer"
    FULL = "full"


class QuantizationConfig(TypedDict, closed=True):
    """Quantization settings of a model."""

    scheme: NotRequired[QuantizationSchemeName | QuantizationScheme]
    """Quantization scheme; ``"none"`` keeps full precision."""
    weight_granularity: NotRequired[QuantizationGranularityName | QuantizationGranularity]
    """Granularity of weight scales."""
    activation_granularity: NotRequired[QuantizationGranularityName | QuantizationGranularity]
    """Granularity of activation scales."""
    group_size: NotRequired[PositiveInt | None]
    """Elements per group for group quantization (> 0)."""
    bits: NotRequired[Annotated[int, Ge(2), Le(32)] | None]
    """Quantized bit width in [2, 32]."""
    fp8_format: NotRequired[str | None]
    """FP8 encoding, ``"e4m3"`` or ``"e5m2"`` (the original accepts any string)."""
    calibration_dataset: NotRequired[str | None]
    """Calibration dataset name (post-training quantization)."""
    calibration_samples: NotRequired[PositiveInt | None]
    """Number of calibration samples (> 0, post-training quantization)."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    QuantizationConfig,
    {
        "scheme": "none",
        "weight_granularity": "per_channel",
        "activation_granularity": "per_tensor",
        "group_size": None,
        "bits": None,
        "fp8_format": None,
        "calibration_dataset": None,
        "calibration_samples": None,
        "metadata": {},
    },
)


class SparseConfig(TypedDict, closed=True):
    """Weight sparsity settings. For N:M sparsity, ``n <= m``."""

    enabled: NotRequired[bool]
    """Whether sparsity is applied."""
    pattern: NotRequired[SparsityPatternName | SparsityPattern]
    """Sparsity pattern."""
    sparse_format: NotRequired[SparseFormatName | SparseFormat]
    """Storage format of the sparse weights."""
    sparsity_ratio: NotRequired[UnitInterval]
    """Target fraction of zeros in [0, 1]."""
    n: NotRequired[Annotated[int, Ge(1)] | None]
    """N of N:M sparsity: non-zeros kept per block (>= 1, <= ``m``)."""
    m: NotRequired[Annotated[int, Ge(1)] | None]
    """M of N:M sparsity: the block size (>= 1)."""
    block_size: NotRequired[PositiveInt | None]
    """Block size of block sparsity (> 0)."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    SparseConfig,
    {
        "enabled": False,
        "pattern": "unstructured",
        "sparse_format": "dense",
        "sparsity_ratio": 0.0,
        "n": None,
        "m": None,
        "block_size": None,
        "metadata": {},
    },
)


@register_invariant(SparseConfig)
def _sparse_n_le_m(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``n <= m`` when both are set (an N:M pattern keeps at most M of M elements)."""
    n, m = value.get("n"), value.get("m")
    if n is not None and m is not None and n > m:
        yield ("n",), f"expected n <= m ({m}), got {n}"


class SpeculativeDecodingConfig(TypedDict, closed=True):
    """Speculative decoding settings."""

    enabled: NotRequired[bool]
    """Whether speculative decoding is used."""
    strategy: NotRequired[SpeculativeStrategyName | SpeculativeStrategy]
    """How draft tokens are proposed."""
    draft_model: NotRequired[str | None]
    """Draft model name (``draft_model`` strategy)."""
    num_speculative_tokens: NotRequired[Annotated[int, Ge(1), Le(64)]]
    """Draft tokens proposed per step, in [1, 64]."""
    num_heads: NotRequired[Annotated[int, Ge(1)] | None]
    """Number of Medusa/EAGLE decoding heads (>= 1)."""
    acceptance_threshold: NotRequired[UnitInterval]
    """Minimum acceptance rate in [0, 1] below which speculation is switched off; 0 = never."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    SpeculativeDecodingConfig,
    {
        "enabled": False,
        "strategy": "draft_model",
        "draft_model": None,
        "num_speculative_tokens": 4,
        "num_heads": None,
        "acceptance_threshold": 0.0,
        "metadata": {},
    },
)


class FusionConfig(TypedDict, closed=True):
    """Operator fusion settings."""

    level: NotRequired[FusionLevelName | FusionLevel]
    """Fusion level."""
    use_flash_attention: NotRequired[bool]
    """Whether to use Flash Attention (fused SDPA)."""
    use_fused_rope: NotRequired[bool]
    """Whether to use a fused RoPE kernel."""
    use_fused_layernorm: NotRequired[bool]
    """Whether to use a fused LayerNorm kernel."""
    use_fused_swiglu: NotRequired[bool]
    """Whether to use a fused SwiGLU activation kernel."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    FusionConfig,
    {
        "level": "none",
        "use_flash_attention": False,
        "use_fused_rope": False,
        "use_fused_layernorm": False,
        "use_fused_swiglu": False,
        "metadata": {},
    },
)


class CompressionConfig(TypedDict, closed=True):
    """All compression settings of a model; each part defaults to its own defaults."""

    quantization: NotRequired[QuantizationConfig]
    """Quantization settings."""
    sparsity: NotRequired[SparseConfig]
    """Sparsity settings."""
    speculative_decoding: NotRequired[SpeculativeDecodingConfig]
    """Speculative decoding settings."""
    fusion: NotRequired[FusionConfig]
    """Operator fusion settings."""


register_defaults(
    CompressionConfig,
    {
        "quantization": Factory(partial(defaults, QuantizationConfig)),
        "sparsity": Factory(partial(defaults, SparseConfig)),
        "speculative_decoding": Factory(partial(defaults, SpeculativeDecodingConfig)),
        "fusion": Factory(partial(defaults, FusionConfig)),
    },
)


class CompressionMetrics(TypedDict, closed=True):
    """What compression actually achieved at run time."""

    quant_scheme: NotRequired[QuantizationSchemeName | QuantizationScheme]
    """Quantization scheme in effect."""
    compress_ratio: NotRequired[Annotated[float, Ge(1)]]
    """Memory compression ratio (original / compressed, >= 1); 1.0 means uncompressed."""
    quant_error_pct: NotRequired[NonNegativeFloat]
    """Quantization error relative to an FP32 baseline (percent, >= 0)."""
    actual_sparsity_ratio: NotRequired[UnitInterval]
    """Achieved fraction of zeros in [0, 1]."""
    spec_tokens_proposed: NotRequired[NonNegativeInt]
    """Draft tokens proposed so far (tokens)."""
    spec_tokens_accepted: NotRequired[NonNegativeInt]
    """Draft tokens accepted so far (tokens), <= ``spec_tokens_proposed``."""
    fusion_level: NotRequired[FusionLevelName | FusionLevel]
    """Fusion level in effect."""


register_defaults(
    CompressionMetrics,
    {
        "quant_scheme": "none",
        "compress_ratio": 1.0,
        "quant_error_pct": 0.0,
        "actual_sparsity_ratio": 0.0,
        "spec_tokens_proposed": 0,
        "spec_tokens_accepted": 0,
        "fusion_level": "none",
    },
)


@register_invariant(CompressionMetrics)
def _spec_accepted_le_proposed(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``spec_tokens_accepted <= spec_tokens_proposed``; an absent count means its default 0."""
    proposed = value.get("spec_tokens_proposed", 0)
    accepted = value.get("spec_tokens_accepted", 0)
    if accepted > proposed:
        yield (
            ("spec_tokens_accepted",),
            f"expected spec_tokens_accepted <= spec_tokens_proposed ({proposed}), got {accepted}",
        )


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side("request", CompressionConfig)
register_wire_side("response", CompressionMetrics)

list_keys_in_help(globals())
