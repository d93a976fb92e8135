"""Static contract of sagellm_protocol.sampling (run by mypy only)."""

from collections.abc import Mapping

from typing_extensions import assert_type

from sagellm_protocol.sampling import (
    DEFAULT_SAMPLING_PARAMS,
    DecodingStrategy,
    SamplingParams,
    SamplingPreset,
    default_sampling_params,
    sampling_preset_params,
)

# Wire strings and enum constants pass; typos, unknown keys and wrong types fail.
greedy: SamplingParams = {"strategy": "greedy"}
sampled: SamplingParams = {"strategy": DecodingStrategy.SAMPLING, "temperature": 0.7}
everything: SamplingParams = {
    "strategy": "beam_search",
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": -1,
    "beam_size": 4,
    "length_penalty": 1.2,
    "early_stopping": True,
    "alpha": 0.6,
    "penalty_alpha": 0.6,
    "repetition_penalty": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "max_tokens": None,
    "stop_sequences": ["</s>"],
    "n_speculative_tokens": 5,
    "seed": 42,
    "skip_special_tokens": True,
}
empty: SamplingParams = {}
typo_value: SamplingParams = {"strategy": "gready"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
typo_key: SamplingParams = {"temprature": 0.7}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
wrong_type: SamplingParams = {"stop_sequences": "</s>"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]

# Helpers return full SamplingParams; presets take names or constants.
assert_type(default_sampling_params(), SamplingParams)
assert_type(sampling_preset_params("balanced"), SamplingParams)
assert_type(sampling_preset_params(SamplingPreset.PRECISE), SamplingParams)
sampling_preset_params("fast")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# The default constant is read-only.
assert_type(DEFAULT_SAMPLING_PARAMS, Mapping[str, object])
DEFAULT_SAMPLING_PARAMS["temperature"] = 0.0  # type: ignore[index]  # pyright: ignore[reportIndexIssue]
not_a_dict: SamplingParams = DEFAULT_SAMPLING_PARAMS  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
