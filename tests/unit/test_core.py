"""Core types: event tags, error codes, the stream union; metrics_from_timestamps; invariants."""

import json
import math
import re
from collections.abc import Mapping
from typing import Any, get_args

import pytest
from typing_extensions import get_type_hints

from sagellm_protocol import defaults
from sagellm_protocol._registry import INVARIANTS, InvariantViolation
from sagellm_protocol.core import (
    DeltaEvent,
    EndEvent,
    Error,
    ErrorCode,
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

EVENT_TAGS = {StreamEventStart: "start", StreamEventDelta: "delta", StreamEventEnd: "end"}
"""The ``event`` key is required in ours (it discriminates the union; the original always
emits it) although the spec gives it a default."""


def violations(tp: type, value: Mapping[str, Any]) -> list[InvariantViolation]:
    """Every violation the invariants registered for ``tp`` report, in registration order."""
    return [violation for check in INVARIANTS.get(tp, []) for violation in check(value)]


# --- event tags, enum members, the stream union (shapes: test_spec_conformance) ---------


@pytest.mark.parametrize(("tp", "tag"), EVENT_TAGS.items(), ids=["start", "delta", "end"])
def test_event_tag_is_a_required_literal(tp: Any, tag: str) -> None:
    assert get_args(get_type_hints(tp)["event"]) == (tag,)
    assert "event" in tp.__required_keys__
    assert "event" not in defaults(tp)


def test_error_code_members_are_their_wire_strings() -> None:
    wire: str = "unavailable"
    assert wire == ErrorCode.UNAVAILABLE
    assert json.dumps({"code": ErrorCode.UNAVAILABLE}) == '{"code": "unavailable"}'
    assert str(ErrorCode.UNAVAILABLE) == "unavailable"
    assert f"{ErrorCode.COMM_TIMEOUT}" == "comm_timeout"
    assert ErrorCode("kv_transfer_failed") is ErrorCode.KV_TRANSFER_FAILED


def test_stream_event_union_and_aliases() -> None:
    assert get_args(StreamEvent) == (StreamEventStart, StreamEventDelta, StreamEventEnd)
    assert StartEvent is StreamEventStart
    assert DeltaEvent is StreamEventDelta
    assert EndEvent is StreamEventEnd


# --- metrics_from_timestamps ---------------------------------------------------------------

# Binary-exact values, so the derived numbers compare exactly.
STAMPS: Timestamps = {
    "queued_at": 100.0,
    "scheduled_at": 100.25,
    "executed_at": 100.5,
    "completed_at": 102.5,
}


def test_metrics_from_timestamps_numbers() -> None:
    assert metrics_from_timestamps(STAMPS, 5) == {
        "ttft_ms": 500.0,
        "tbt_ms": 500.0,
        "tpot_ms": 500.0,
        "throughput_tps": 2.0,
        "peak_mem_mb": 0,
        "error_rate": 0.0,
        "itl_list": [],
        "timestamps": STAMPS,
    }


def test_metrics_from_timestamps_copies_timestamps_and_itl_list() -> None:
    itl = [100.0, 200.0]
    metrics = metrics_from_timestamps(STAMPS, 3, itl_list=itl)
    assert metrics["timestamps"] == STAMPS
    assert metrics["timestamps"] is not STAMPS
    assert metrics["itl_list"] == itl
    assert metrics["itl_list"] is not itl


def test_metrics_from_timestamps_tbt_is_itl_mean_when_given() -> None:
    metrics = metrics_from_timestamps(STAMPS, 5, itl_list=[100.0, 200.0, 300.0, 400.0])
    assert metrics["tbt_ms"] == 250.0
    assert metrics["tpot_ms"] == 500.0
    assert metrics["itl_list"] == [100.0, 200.0, 300.0, 400.0]


def test_metrics_from_timestamps_passes_memory_and_error_rate_through() -> None:
    metrics = metrics_from_timestamps(STAMPS, 5, peak_mem_mb=2048, error_rate=0.25)
    assert (metrics["peak_mem_mb"], metrics["error_rate"]) == (2048, 0.25)


@pytest.mark.parametrize(
    ("output_tokens", "tpot_ms", "throughput_tps"),
    [(0, 0.0, 0.0), (1, 0.0, 0.4), (2, 2000.0, 0.8), (5, 500.0, 2.0)],
)
def test_metrics_from_timestamps_token_counts(
    output_tokens: int, tpot_ms: float, throughput_tps: float
) -> None:
    metrics = metrics_from_timestamps(STAMPS, output_tokens)
    assert metrics["tpot_ms"] == tpot_ms
    assert metrics["tbt_ms"] == tpot_ms
    assert metrics["throughput_tps"] == throughput_tps
    assert metrics["ttft_ms"] == 500.0


def test_metrics_from_timestamps_zero_duration() -> None:
    same: Timestamps = {
        "queued_at": 7.0,
        "scheduled_at": 7.0,
        "executed_at": 7.0,
        "completed_at": 7.0,
    }
    metrics = metrics_from_timestamps(same, 3)
    assert (metrics["ttft_ms"], metrics["tpot_ms"], metrics["throughput_tps"]) == (0.0, 0.0, 0.0)


def test_metrics_from_timestamps_result_satisfies_timestamp_invariant() -> None:
    timestamps = metrics_from_timestamps(STAMPS, 5)["timestamps"]
    assert timestamps is not None
    assert violations(Timestamps, timestamps) == []


def test_metrics_from_timestamps_rejects_negative_output_tokens() -> None:
    with pytest.raises(ValueError, match=r"^expected output_tokens >= 0, got -1$"):
        metrics_from_timestamps(STAMPS, -1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"scheduled_at": 99.5},
            "expected timestamps.scheduled_at >= timestamps.queued_at (100.0), got 99.5",
        ),
        (
            {"executed_at": 100.125},
            "expected timestamps.executed_at >= timestamps.scheduled_at (100.25), got 100.125",
        ),
        (
            {"completed_at": 100.375},
            "expected timestamps.completed_at >= timestamps.executed_at (100.5), got 100.375",
        ),
        # Two stamps out of order: the first is reported.
        (
            {"scheduled_at": 99.5, "completed_at": 99.0},
            "expected timestamps.scheduled_at >= timestamps.queued_at (100.0), got 99.5",
        ),
    ],
)
def test_metrics_from_timestamps_rejects_unordered_timestamps(
    changes: dict[str, float], message: str
) -> None:
    timestamps: Any = {**STAMPS, **changes}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics_from_timestamps(timestamps, 5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_metrics_from_timestamps_rejects_non_finite_timestamps(bad: float) -> None:
    timestamps: Timestamps = {**STAMPS, "executed_at": bad}
    message = f"expected timestamps.executed_at to be finite, got {bad!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics_from_timestamps(timestamps, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"peak_mem_mb": -1}, "expected peak_mem_mb >= 0, got -1"),
        ({"error_rate": 1.5}, "expected 0 <= error_rate <= 1, got 1.5"),
        ({"error_rate": -0.5}, "expected 0 <= error_rate <= 1, got -0.5"),
        ({"error_rate": math.nan}, "expected 0 <= error_rate <= 1, got nan"),
        ({"itl_list": [1.0, -2.0]}, "expected itl_list[1] to be finite and >= 0, got -2.0"),
        ({"itl_list": [math.nan]}, "expected itl_list[0] to be finite and >= 0, got nan"),
        ({"itl_list": [math.inf]}, "expected itl_list[0] to be finite and >= 0, got inf"),
    ],
)
def test_metrics_from_timestamps_rejects_out_of_range_arguments(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics_from_timestamps(STAMPS, 5, **kwargs)


# --- invariants ----------------------------------------------------------------------------

BASE_REQUEST: Request = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 16}
USER_MESSAGE: Any = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"prompt": "hello"},
        {"messages": [USER_MESSAGE]},
        {"prompt": "", "messages": [USER_MESSAGE]},
        {"prompt": "hello", "messages": None},
        {"prompt": "hello", "messages": []},
        {"phase": "decode"},
        {"phase": "prefill"},
        {"rank": 1, "world_size": 2, "tp_rank": 0, "tp_size": 1, "pp_rank": 3, "pp_size": 4},
        {"rank": 5},
        {"world_size": 1, "tp_size": 2, "pp_rank": 9},
    ],
)
def test_request_invariants_accept(extra: dict[str, Any]) -> None:
    # A request with neither prompt nor messages passes in any phase (documented choice).
    assert violations(Request, {**BASE_REQUEST, **extra}) == []


def test_request_prompt_and_messages_together() -> None:
    value = {**BASE_REQUEST, "prompt": "hello", "messages": [USER_MESSAGE, USER_MESSAGE]}
    assert violations(Request, value) == [
        (
            ("messages",),
            "expected prompt or messages, not both, got a prompt (5 characters) and messages (2)",
        )
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"rank": 2, "world_size": 2}, (("rank",), "expected rank < world_size (2), got 2")),
        ({"tp_rank": 4, "tp_size": 2}, (("tp_rank",), "expected tp_rank < tp_size (2), got 4")),
        ({"pp_rank": 1, "pp_size": 1}, (("pp_rank",), "expected pp_rank < pp_size (1), got 1")),
    ],
)
def test_request_rank_below_size(extra: dict[str, int], expected: InvariantViolation) -> None:
    assert violations(Request, {**BASE_REQUEST, **extra}) == [expected]


def test_request_reports_every_broken_rule() -> None:
    value = {
        **BASE_REQUEST,
        "prompt": "x",
        "messages": [USER_MESSAGE],
        "rank": 3,
        "world_size": 3,
        "tp_rank": 2,
        "tp_size": 1,
        "pp_rank": 7,
        "pp_size": 2,
    }
    assert violations(Request, value) == [
        (
            ("messages",),
            "expected prompt or messages, not both, got a prompt (1 characters) and messages (1)",
        ),
        (("rank",), "expected rank < world_size (3), got 3"),
        (("tp_rank",), "expected tp_rank < tp_size (1), got 2"),
        (("pp_rank",), "expected pp_rank < pp_size (2), got 7"),
    ]


@pytest.mark.parametrize(
    "stamps",
    [
        STAMPS,
        {"queued_at": 1.0, "scheduled_at": 1.0, "executed_at": 1.0, "completed_at": 1.0},
    ],
)
def test_timestamps_ordered_accepts(stamps: Timestamps) -> None:
    assert violations(Timestamps, stamps) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"scheduled_at": 99.0},
            (("scheduled_at",), "expected scheduled_at >= queued_at (100.0), got 99.0"),
        ),
        (
            {"executed_at": 100.0},
            (("executed_at",), "expected executed_at >= scheduled_at (100.25), got 100.0"),
        ),
        (
            {"completed_at": 100.25},
            (("completed_at",), "expected completed_at >= executed_at (100.5), got 100.25"),
        ),
        (
            {"executed_at": 100.0, "completed_at": 99.0},
            (("executed_at",), "expected executed_at >= scheduled_at (100.25), got 100.0"),
        ),
    ],
)
def test_timestamps_ordered_reports_first_out_of_order_stamp(
    changes: dict[str, float], expected: InvariantViolation
) -> None:
    assert violations(Timestamps, {**STAMPS, **changes}) == [expected]


ERROR: Error = {"code": ErrorCode.UNAVAILABLE, "message": "backend down", "retryable": True}
METRICS = metrics_from_timestamps(STAMPS, 1)


def _finished(tp: type, finish_reason: str, **error: Any) -> dict[str, Any]:
    """A Response or StreamEventEnd with ``finish_reason`` and the given ``error`` key."""
    value: dict[str, Any] = {"request_id": "r-1", "trace_id": "t-1", "output_tokens": [1]}
    if tp is Response:
        value |= {"output_text": "ok"}
    else:
        value |= {"event": "end", "engine_id": "e-1", "content": "ok"}
    return {**value, "finish_reason": finish_reason, "metrics": METRICS, **error}


@pytest.mark.parametrize("tp", [Response, StreamEventEnd], ids=["Response", "StreamEventEnd"])
@pytest.mark.parametrize(
    ("finish_reason", "error"),
    [("stop", {}), ("length", {"error": None}), ("error", {"error": ERROR})],
)
def test_finish_reason_error_consistent(tp: type, finish_reason: str, error: Any) -> None:
    assert violations(tp, _finished(tp, finish_reason, **error)) == []


@pytest.mark.parametrize("tp", [Response, StreamEventEnd], ids=["Response", "StreamEventEnd"])
@pytest.mark.parametrize(
    ("finish_reason", "error", "expected"),
    [
        ("error", {}, (("error",), "expected an error when finish_reason is 'error', got None")),
        (
            "error",
            {"error": None},
            (("error",), "expected an error when finish_reason is 'error', got None"),
        ),
        (
            "stop",
            {"error": ERROR},
            (("finish_reason",), "expected 'error' when error is set, got 'stop'"),
        ),
        (
            "length",
            {"error": ERROR},
            (("finish_reason",), "expected 'error' when error is set, got 'length'"),
        ),
    ],
)
def test_finish_reason_error_inconsistent(
    tp: type, finish_reason: str, error: Any, expected: InvariantViolation
) -> None:
    assert violations(tp, _finished(tp, finish_reason, **error)) == [expected]


def test_invariants_registered_once_per_type() -> None:
    core_types = (
        Error,
        Timestamps,
        Metrics,
        Request,
        Response,
        StreamEventStart,
        StreamEventDelta,
        StreamEventEnd,
    )
    counts = {tp.__name__: len(INVARIANTS.get(tp, [])) for tp in core_types}
    assert counts == {
        "Error": 0,
        "Timestamps": 1,
        "Metrics": 0,
        "Request": 2,
        "Response": 1,
        "StreamEventStart": 0,
        "StreamEventDelta": 0,
        "StreamEventEnd": 1,
    }
