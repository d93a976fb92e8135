"""compression: nested defaults, cross-field invariants (enum values: test_spec_conformance)."""

import typing

import pytest

from sagellm_protocol import compression as c
from sagellm_protocol import defaults, with_defaults
from sagellm_protocol._registry import INVARIANTS


def test_compression_config_defaults_are_nested_defaults() -> None:
    assert defaults(c.CompressionConfig) == {
        "quantization": defaults(c.QuantizationConfig),
        "sparsity": defaults(c.SparseConfig),
        "speculative_decoding": defaults(c.SpeculativeDecodingConfig),
        "fusion": defaults(c.FusionConfig),
    }
    first, second = defaults(c.CompressionConfig), defaults(c.CompressionConfig)
    first["quantization"]["metadata"]["k"] = 1
    assert second["quantization"]["metadata"] == {}


def test_with_defaults_completes_nested_configs() -> None:
    config: c.CompressionConfig = {"quantization": {"scheme": "fp8", "fp8_format": "e4m3"}}
    completed = with_defaults(c.CompressionConfig, config)
    assert completed["quantization"] == {
        "scheme": "fp8",
        "weight_granularity": "per_channel",
        "activation_granularity": "per_tensor",
        "group_size": None,
        "bits": None,
        "fp8_format": "e4m3",
        "calibration_dataset": None,
        "calibration_samples": None,
        "metadata": {},
    }
    assert completed["fusion"] == defaults(c.FusionConfig)
    assert config == {"quantization": {"scheme": "fp8", "fp8_format": "e4m3"}}


def violations(tp: type, value: dict[str, typing.Any]) -> list[typing.Any]:
    return [v for check in INVARIANTS[tp] for v in check(value)]


@pytest.mark.parametrize(
    "value",
    [{}, {"n": 2}, {"m": 4}, {"n": 2, "m": 4}, {"n": 4, "m": 4}, {"n": None, "m": 1}],
)
def test_sparse_n_le_m_holds(value: dict[str, typing.Any]) -> None:
    assert violations(c.SparseConfig, value) == []


def test_sparse_n_gt_m() -> None:
    assert violations(c.SparseConfig, {"n": 5, "m": 4}) == [(("n",), "expected n <= m (4), got 5")]


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"spec_tokens_proposed": 10},
        {"spec_tokens_proposed": 10, "spec_tokens_accepted": 10},
        {"spec_tokens_accepted": 0},
    ],
)
def test_spec_tokens_accepted_le_proposed_holds(value: dict[str, typing.Any]) -> None:
    assert violations(c.CompressionMetrics, value) == []


def test_spec_tokens_accepted_gt_proposed() -> None:
    assert violations(
        c.CompressionMetrics, {"spec_tokens_proposed": 3, "spec_tokens_accepted": 4}
    ) == [
        (
            ("spec_tokens_accepted",),
            "expected spec_tokens_accepted <= spec_tokens_proposed (3), got 4",
        )
    ]
    # An absent count is its default 0.
    assert violations(c.CompressionMetrics, {"spec_tokens_accepted": 1}) == [
        (
            ("spec_tokens_accepted",),
            "expected spec_tokens_accepted <= spec_tokens_proposed (0), got 1",
        )
    ]
