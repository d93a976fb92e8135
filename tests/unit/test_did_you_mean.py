""" "Did you mean": unknown keys and near-miss values name what the caller most likely meant."""

import enum
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from typing_extensions import get_type_hints, is_typeddict

from sagellm_protocol import (
    CapabilityDescriptor,
    KernelKind,
    Metrics,
    OperatorConstraint,
    Response,
    StreamEvent,
    StreamEventStart,
    defaults,
    make,
    validate,
)
from sagellm_protocol._registry import SUGGESTIONS
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.runtime import CheckViolation, checked
from sagellm_protocol.validation import ValidationError, collect_issues
from sagellm_protocol.validation._precise import collect

ROOT = Path(__file__).parent.parent.parent

METRICS: Metrics = {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 0, "error_rate": 0.0}
RESPONSE: Any = {
    "request_id": "r",
    "trace_id": "t",
    "output_text": "",
    "output_tokens": [],
    "finish_reason": "stop",
    "metrics": METRICS,
}

# (type, value, every issue as printed): the compiled and the interpreted passes agree on each.
CASES: list[tuple[object, object, list[str]]] = [
    (
        OperatorConstraint,
        {"compute_capability": "8.0"},
        [
            "compute_capability: unknown key (OperatorConstraint is closed; "
            "did you mean 'min_compute_capability'?)"
        ],
    ),
    (  # the key that is there is not what was meant
        OperatorConstraint,
        {"compute_capability": "8.0", "min_compute_capability": "8.0"},
        ["compute_capability: unknown key (OperatorConstraint is closed)"],
    ),
    (Metrics, {**METRICS, "gpu_util": 0.5}, ["gpu_util: unknown key (Metrics is closed)"]),
    (
        Metrics,
        {"ttft_s": 0.1, "throughput_tps": 2.0, "peak_mem_mb": 0, "error_rate": 0.0},
        [
            "ttft_ms: required key is missing",
            "ttft_s: unknown key (Metrics is closed; did you mean 'ttft_ms'?)",
        ],
    ),
    (
        Response,
        {**RESPONSE, "timestamps": {}},
        ["timestamps: unknown key (Response is closed; did you mean 'metrics.timestamps'?)"],
    ),
    (
        OperatorConstraint,
        {"dtype": "FP16", "kernel_kind": "linear"},
        [
            "dtype: expected one of 'fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4' or None, "
            "got 'FP16' (did you mean 'fp16'?)",
            "kernel_kind: expected one of 'matmul', 'attention', 'fusion', 'layernorm', "
            "'softmax', 'embedding' or None, got 'linear' (did you mean 'matmul'?)",
        ],
    ),
    (
        CapabilityDescriptor,
        {"supported_kernels": ["linear", "attention", "norm", "embedding", "rope"]},
        [
            "supported_kernels[0]: expected one of 'matmul', 'attention', 'fusion', 'layernorm', "
            "'softmax', 'embedding', got 'linear' (did you mean 'matmul'?)",
            "supported_kernels[2]: expected one of 'matmul', 'attention', 'fusion', 'layernorm', "
            "'softmax', 'embedding', got 'norm' (did you mean 'layernorm'?)",
            "supported_kernels[4]: expected one of 'matmul', 'attention', 'fusion', 'layernorm', "
            "'softmax', 'embedding', got 'rope'",
        ],
    ),
    (
        Response,
        {**RESPONSE, "finish_reason": "errored"},
        [
            "finish_reason: expected one of 'stop', 'length', 'error', got 'errored' "
            "(did you mean 'error'?)"
        ],
    ),
    (
        StreamEvent,
        {"event": "strat", "request_id": "r"},
        ["event: expected one of 'start', 'delta', 'end', got 'strat' (did you mean 'start'?)"],
    ),
    (  # one allowed value: the message names it already
        StreamEventStart,
        {"event": "strat", "request_id": "r", "trace_id": "t", "engine_id": "e"},
        ["event: expected 'start', got 'strat'"],
    ),
    (  # not a string: nothing to spell
        Response,
        {**RESPONSE, "finish_reason": 3},
        ["finish_reason: expected one of 'stop', 'length', 'error', got 3"],
    ),
]


@pytest.mark.parametrize(("tp", "value", "printed"), CASES)
def test_issues_name_the_closest_declared_key_or_value(
    tp: Any, value: object, printed: list[str]
) -> None:
    with pytest.raises(ValidationError) as raised:
        validate(tp, value)
    assert str(raised.value) == "\n".join(printed)
    assert [str(issue) for issue in collect(analyze(tp), value, trust_compiled=False)] == printed
    assert collect_issues(tp, value) == raised.value.issues


def test_registered_suggestions_name_what_exists() -> None:
    for owner, meant in SUGGESTIONS.items():
        for sent, suggestion in meant.items():
            if is_typeddict(owner):
                assert sent not in get_type_hints(owner), (owner, sent)
                hints: Any = get_type_hints(owner)
                *parents, last = suggestion.split(".")
                for parent in parents:  # a path through nested protocol types
                    hints = get_type_hints(hints[parent])
                assert last in hints, (owner, suggestion)
            else:
                values = {member.value for member in cast(type[enum.Enum], owner)}
                assert sent not in values
                assert suggestion in values, (owner, suggestion)


def test_the_keys_and_values_real_callers_send_that_we_accept() -> None:
    metrics = make(Metrics, {**METRICS, "prefill_tokens": 120, "decode_tokens": 8})
    assert (metrics["prefill_tokens"], metrics["decode_tokens"]) == (120, 8)
    assert (defaults(Metrics)["prefill_tokens"], defaults(Metrics)["decode_tokens"]) == (0, 0)
    capability = make(
        CapabilityDescriptor, {"supported_kernels": ["matmul", "attention", "embedding"]}
    )
    assert capability["supported_kernels"] == ["matmul", "attention", "embedding"]
    assert KernelKind.EMBEDDING.value == "embedding"
    with pytest.raises(ValidationError) as raised:
        make(Metrics, {**METRICS, "prefill_tokens": -1})
    assert str(raised.value) == "prefill_tokens: expected an int >= 0, got -1"


def test_checked_messages_carry_the_suggestion() -> None:
    @checked
    def choose(constraint: OperatorConstraint) -> None:
        del constraint

    bad: Any = {"compute_capability": "8.0"}
    with pytest.raises(CheckViolation) as raised:
        choose(bad)
    assert str(raised.value) == (
        "test_checked_messages_carry_the_suggestion.<locals>.choose() parameter 'constraint' "
        "is invalid:\n"
        "  compute_capability: unknown key (OperatorConstraint is closed; "
        "did you mean 'min_compute_capability'?)"
    )


def test_the_command_prints_the_suggestion() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sagellm_protocol", "validate", "OperatorConstraint", "-"],
        input=json.dumps({"compute_capability": "8.0"}).encode(),
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    assert (done.returncode, done.stdout.decode(), done.stderr.decode()) == (
        1,
        "<stdin>:1: invalid OperatorConstraint, 1 issue:\n"
        "    compute_capability: unknown key (OperatorConstraint is closed; "
        "did you mean 'min_compute_capability'?)\n"
        "0 valid, 1 invalid\n",
        "",
    )
