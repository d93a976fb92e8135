"""Static checks of sagellm_protocol.compression (run under mypy, never executed)."""

from typing_extensions import assert_type

from sagellm_protocol.compression import (
    CompressionConfig,
    CompressionMetrics,
    QuantizationConfig,
    QuantizationScheme,
    SparseConfig,
)

quant: QuantizationConfig = {"scheme": "awq", "bits": 4, "group_size": 128}
quant_enum: QuantizationConfig = {"scheme": QuantizationScheme.FP8, "fp8_format": "e4m3"}
config: CompressionConfig = {"quantization": quant, "sparsity": {"n": 2, "m": 4}}
assert_type(config["quantization"], QuantizationConfig)  # pyright: ignore[reportAssertTypeFailure]
metrics: CompressionMetrics = {"spec_tokens_proposed": 8, "spec_tokens_accepted": 5}
empty: SparseConfig = {}

typo: QuantizationConfig = {"scheme": "fp61"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
unknown: SparseConfig = {"enabled": True, "sparsity": 0.5}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
wrong: SparseConfig = {"n": "2"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
nested_typo: CompressionConfig = {"fusion": {"level": "max"}}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
