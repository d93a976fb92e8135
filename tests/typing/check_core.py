"""Static checks of the core types (run under mypy --strict, never executed)."""

from typing_extensions import assert_never, assert_type

from sagellm_protocol.core import (
    DeltaEvent,
    EndEvent,
    Error,
    ErrorCode,
    FinishReason,
    Metrics,
    Request,
    Response,
    StartEvent,
    StreamEvent,
    StreamEventDelta,
    StreamEventEnd,
    StreamEventStart,
    Timestamps,
    metrics_from_timestamps,
)

# --- valid values of every core type -------------------------------------------------------

timestamps: Timestamps = {
    "queued_at": 1.0,
    "scheduled_at": 1.5,
    "executed_at": 2,  # an int is fine where a float is expected
    "completed_at": 3.0,
}
metrics = metrics_from_timestamps(timestamps, 4, peak_mem_mb=512, itl_list=[1.0, 2.0])
assert_type(metrics, Metrics)
minimal_metrics: Metrics = {
    "ttft_ms": 1.0,
    "throughput_tps": 2.0,
    "peak_mem_mb": 0,
    "error_rate": 0,
}
full_metrics: Metrics = {
    **minimal_metrics,
    "kv_used_tokens": 3,
    "timestamps": None,
    "component_trace": ["sagellm-gateway", "sagellm-core"],
    "itl_list": [0.5],
}
error: Error = {"code": "unavailable", "message": "backend down"}
error_with_enum: Error = {"code": ErrorCode.UNAVAILABLE, "message": "down", "retryable": None}
request: Request = {"request_id": "r", "trace_id": "t", "max_tokens": 16}
full_request: Request = {
    "request_id": "r",
    "trace_id": "t",
    "max_tokens": 16,
    "model": "qwen",
    "messages": [{"role": "user", "content": "hi"}],
    "temperature": None,
    "phase": "decode",
    "rank": 0,
    "world_size": 2,
    "metadata": {"tenant": "a"},
}
response: Response = {
    "request_id": "r",
    "trace_id": "t",
    "output_text": "ok",
    "output_tokens": [1],
    "finish_reason": "stop",
    "metrics": metrics,
}
failed: Response = {**response, "finish_reason": "error", "error": error_with_enum}
start = StreamEventStart(event="start", request_id="r", trace_id="t", engine_id="e")
delta: StreamEventDelta = {
    "event": "delta",
    "request_id": "r",
    "trace_id": "t",
    "engine_id": "e",
    "content": "o",
    "content_tokens": [1],
}
end: StreamEventEnd = {
    "event": "end",
    "request_id": "r",
    "trace_id": "t",
    "engine_id": "e",
    "prompt_tokens": None,
    "content": "ok",
    "output_tokens": [1],
    "finish_reason": "length",
    "metrics": metrics,
}
assert_type(start, StreamEventStart)

# The aliases are the same types.
start_alias: StartEvent = start
delta_alias: DeltaEvent = delta
end_alias: EndEvent = end
assert_type(start_alias, StreamEventStart)
events: list[StreamEvent] = [start, delta, end]

# Enum constants pass where the wire literal is expected.
reason: FinishReason = "error"
code_field: Error = {"code": ErrorCode.COMM_TIMEOUT, "message": "timed out"}

# --- expected failures ---------------------------------------------------------------------

no_max_tokens: Request = {"request_id": "r", "trace_id": "t"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
no_event: StreamEventStart = {  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    "request_id": "r",
    "trace_id": "t",
    "engine_id": "e",
}
max_tokens_str: Request = {
    "request_id": "r",
    "trace_id": "t",
    "max_tokens": "16",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
tokens_of_str: Response = {
    **response,
    "output_tokens": ["1"],  # type: ignore[list-item]  # pyright: ignore[reportAssignmentType]
}
unknown_metric: Metrics = {
    **minimal_metrics,
    "gpu_util": 3,  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
}
phase_token_metrics: Metrics = {**minimal_metrics, "prefill_tokens": 120, "decode_tokens": 8}
unknown_request_key: Request = {
    "request_id": "r",
    "trace_id": "t",
    "max_tokens": 1,
    "top_k": 5,  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
}
typo_finish_reason: Response = {
    **response,
    "finish_reason": "stopped",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
typo_phase: Request = {
    "request_id": "r",
    "trace_id": "t",
    "max_tokens": 1,
    "phase": "prefil",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
typo_code: Error = {"code": "unavailble", "message": "x"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
wrong_event_tag: StreamEventDelta = {
    **delta,
    "event": "start",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
null_not_allowed: Metrics = {
    **minimal_metrics,
    "tbt_ms": None,  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
missing_enum_member = ErrorCode.UNAVAILIBLE  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
metrics_from_timestamps(timestamps, 4, 512)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
metrics_from_timestamps(timestamps, 4.0)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# --- narrowing the stream event union on its tag -------------------------------------------


def describe(event: StreamEvent) -> str:
    if event["event"] == "start":
        assert_type(event, StreamEventStart)
        return event["engine_id"]
    if event["event"] == "delta":
        assert_type(event, StreamEventDelta)
        return event["content"]
    if event["event"] == "end":
        assert_type(event, StreamEventEnd)
        return event["finish_reason"]
    assert_never(event)


def content_of(event: StreamEvent) -> str:
    return event["content"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues, reportUnknownVariableType]
