"""Static checks of make() (run under mypy --strict, never executed)."""

from typing import Any

from typing_extensions import assert_type

from sagellm_protocol import (
    CapabilityDescriptor,
    Metrics,
    OperatorConstraint,
    Response,
    StreamEventEnd,
    StreamEventStart,
    make,
)

# --- what type-checks: T comes from the first argument, keys with defaults may be left out ----

metrics = make(
    Metrics, {"ttft_ms": 12.0, "throughput_tps": 30.5, "peak_mem_mb": 512, "error_rate": 0}
)
assert_type(metrics, Metrics)

timed = make(
    Metrics,
    {
        "ttft_ms": 12.0,
        "throughput_tps": 30.5,
        "peak_mem_mb": 512,
        "error_rate": 0.0,
        "itl_list": [1, 2.5],
        "timestamps": {"queued_at": 1, "scheduled_at": 2, "executed_at": 3, "completed_at": 4},
    },
)
assert_type(timed, Metrics)

response = make(
    Response,
    {
        "request_id": "req-1",
        "trace_id": "trace-1",
        "output_text": "Hi",
        "output_tokens": [1],
        "finish_reason": "stop",
        "metrics": metrics,
    },
)
assert_type(response, Response)

start = make(
    StreamEventStart, {"event": "start", "request_id": "r", "trace_id": "t", "engine_id": "e"}
)
assert_type(start, StreamEventStart)

capability = make(CapabilityDescriptor, {"device_type": "cuda"})
assert_type(capability, CapabilityDescriptor)

untyped: Any = {"min_compute_capability": "8.0"}
assert_type(make(OperatorConstraint, untyped), OperatorConstraint)

# --- what must fail -------------------------------------------------------------------------
# mypy rejects the fields at the call. basedpyright solves T to the union of the type and the
# fields' own type (``Metrics | dict[str, float]``), so it rejects the result where it is used
# as the type: each result is bound to a declared one, for both checkers to see the mistake.

unknown_key: OperatorConstraint = make(OperatorConstraint, {"compute_capability": "8.0"})  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
wrong_value: Metrics = make(  # pyright: ignore[reportAssignmentType]
    Metrics,
    {"ttft_ms": "12", "throughput_tps": 1.0, "peak_mem_mb": 1, "error_rate": 0},  # type: ignore[arg-type]
)
missing_keys: Metrics = make(Metrics, {"ttft_ms": 12.0})  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
typo: Metrics = make(  # pyright: ignore[reportAssignmentType]
    Metrics,
    {  # type: ignore[arg-type]
        "ttft_ms": 12.0,
        "throughput_tps": 1.0,
        "peak_mem_mb": 1,
        "error_rate": 0,
        "prefill_token": 4,  # a typo of prefill_tokens
    },
)
wrong_tag: StreamEventEnd = make(StreamEventEnd, {"event": "start", "request_id": "r"})  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
wrong_literal: Response = make(  # pyright: ignore[reportAssignmentType]
    Response,
    {  # type: ignore[arg-type]
        "request_id": "req-1",
        "trace_id": "trace-1",
        "output_text": "Hi",
        "output_tokens": [1],
        "finish_reason": "stpo",
        "metrics": metrics,
    },
)
fields: dict[str, object] = {"ttft_ms": 12.0}
not_typed: Metrics = make(Metrics, fields)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
wrong: Metrics = make(Response, response)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
