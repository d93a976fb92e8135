"""Sampling parameters: keys, bounds, defaults, presets and the read-only default value."""

import json
from types import MappingProxyType
from typing import Any, get_args

import annotated_types
import pytest
from typeguard import suppress_type_checks
from typing_extensions import get_type_hints

from sagellm_protocol import defaults
from sagellm_protocol.sampling import (
    DEFAULT_SAMPLING_PARAMS,
    DecodingStrategy,
    DecodingStrategyName,
    SamplingParams,
    SamplingPreset,
    SamplingPresetName,
    default_sampling_params,
    sampling_preset_params,
)
from sagellm_protocol.validation import is_valid, validate

DEFAULTS: dict[str, Any] = {
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
"""The original DEFAULT_SAMPLING_PARAMS, key for key, in declaration order."""


def test_enums_match_their_literals() -> None:
    assert [m.value for m in DecodingStrategy] == list(get_args(DecodingStrategyName))
    assert [m.value for m in DecodingStrategy] == [
        "greedy",
        "sampling",
        "beam_search",
        "contrastive",
        "speculative",
    ]
    assert [m.value for m in SamplingPreset] == list(get_args(SamplingPresetName))
    assert [m.value for m in SamplingPreset] == ["deterministic", "balanced", "creative", "precise"]


def test_sampling_params_shape() -> None:
    assert list(get_type_hints(SamplingParams)) == list(DEFAULTS)
    assert SamplingParams.__required_keys__ == frozenset()
    assert SamplingParams.__closed__ is True


@pytest.mark.parametrize(
    ("key", "bounds"),
    [
        ("temperature", [annotated_types.Ge(0), annotated_types.Le(2)]),
        ("top_p", [annotated_types.Gt(0), annotated_types.Le(1)]),
        ("top_k", [annotated_types.Ge(-1)]),
        ("beam_size", [annotated_types.Gt(0)]),
        ("alpha", [annotated_types.Ge(0), annotated_types.Le(1)]),
        ("penalty_alpha", [annotated_types.Ge(0)]),
        ("repetition_penalty", [annotated_types.Ge(1)]),
        ("presence_penalty", [annotated_types.Ge(-2), annotated_types.Le(2)]),
        ("frequency_penalty", [annotated_types.Ge(-2), annotated_types.Le(2)]),
        ("n_speculative_tokens", [annotated_types.Ge(1)]),
    ],
)
def test_bounds(key: str, bounds: list[object]) -> None:
    hint = get_type_hints(SamplingParams, include_extras=True)[key]
    (annotated,) = get_args(hint)  # NotRequired[Annotated[...]]
    assert list(annotated.__metadata__) == bounds


def test_registered_defaults_are_the_originals() -> None:
    assert defaults(SamplingParams) == DEFAULTS


def test_default_sampling_params_is_a_new_full_dict_each_call() -> None:
    first = default_sampling_params()
    assert first == DEFAULTS
    assert list(first) == list(DEFAULTS)
    first["temperature"] = 0.0
    first["stop_sequences"] = ["</s>"]
    assert default_sampling_params() == DEFAULTS
    assert default_sampling_params() is not default_sampling_params()


def test_default_constant_is_what_defaults_gives() -> None:
    """The constant is built from the registered values, without analysing the type."""
    assert list(DEFAULT_SAMPLING_PARAMS.items()) == list(default_sampling_params().items())


def test_default_constant_is_read_only() -> None:
    assert type(DEFAULT_SAMPLING_PARAMS) is MappingProxyType
    assert dict(DEFAULT_SAMPLING_PARAMS) == DEFAULTS
    with pytest.raises(TypeError) as info:
        DEFAULT_SAMPLING_PARAMS["temperature"] = 0.0  # type: ignore[index]
    assert str(info.value) == "'mappingproxy' object does not support item assignment"
    assert dict(DEFAULT_SAMPLING_PARAMS) == DEFAULTS
    assert json.loads(json.dumps(dict(DEFAULT_SAMPLING_PARAMS))) == DEFAULTS


@pytest.mark.parametrize(
    ("preset", "changed"),
    [
        ("deterministic", {"strategy": "greedy"}),
        ("balanced", {"strategy": "sampling", "temperature": 0.7, "top_p": 0.9}),
        ("creative", {"strategy": "sampling", "temperature": 1.2, "top_p": 0.95}),
        ("precise", {"strategy": "beam_search", "length_penalty": 1.2}),
    ],
)
def test_preset_params(preset: SamplingPresetName, changed: dict[str, Any]) -> None:
    expected = {**DEFAULTS, **changed}
    assert sampling_preset_params(preset) == expected
    assert sampling_preset_params(SamplingPreset(preset)) == expected
    assert list(sampling_preset_params(preset)) == list(DEFAULTS)


def test_preset_params_are_new_dicts() -> None:
    first = sampling_preset_params(SamplingPreset.BALANCED)
    first["temperature"] = 2.0
    assert sampling_preset_params(SamplingPreset.BALANCED)["temperature"] == 0.7
    assert DEFAULT_SAMPLING_PARAMS["temperature"] == 1.0
    assert sampling_preset_params("balanced") is not sampling_preset_params("balanced")


def test_preset_strategies_are_wire_values() -> None:
    params = sampling_preset_params("precise")
    assert params["strategy"] == DecodingStrategy.BEAM_SEARCH
    assert type(params["strategy"]) is str
    assert json.loads(json.dumps(params)) == params


def test_unknown_preset() -> None:
    # An ill-typed call on purpose: what a caller without mypy gets.
    with (
        suppress_type_checks(),
        pytest.raises(ValueError, match=r"^'fast' is not a valid SamplingPreset\Z"),
    ):
        sampling_preset_params("fast")  # type: ignore[arg-type]


@pytest.mark.parametrize("preset", list(SamplingPreset))
def test_preset_params_validate(preset: SamplingPreset) -> None:
    params = sampling_preset_params(preset)
    assert validate(SamplingParams, params) is params
    assert is_valid(SamplingParams, default_sampling_params())
