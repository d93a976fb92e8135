"""make(): the constructor for migrating code — defaults, fixed tags, validation, fresh dicts."""

import copy
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

from sagellm_protocol import (
    Metrics,
    Response,
    StreamEventDelta,
    StreamEventEnd,
    StreamEventStart,
    ValidationError,
    defaults,
    make,
    with_defaults,
)
from sagellm_protocol.openai import ChatCompletionFunctionTool
from sagellm_protocol.pd import PDDispatchPlan

REQUIRED_METRICS: Metrics = {
    "ttft_ms": 12.0,
    "throughput_tps": 30.5,
    "peak_mem_mb": 512,
    "error_rate": 0.0,
}


def test_make_fills_every_original_default_in_declaration_order() -> None:
    made = make(
        Metrics, {"error_rate": 0.0, "ttft_ms": 12.0, "throughput_tps": 30.5, "peak_mem_mb": 512}
    )
    assert made == {**defaults(Metrics), **REQUIRED_METRICS}
    assert list(made) == list(Metrics.__annotations__)
    assert made["prefix_hit_rate"] == 0.0  # the read that raised KeyError on a bare dict


def test_make_keeps_given_optional_keys() -> None:
    made = make(Metrics, {**REQUIRED_METRICS, "prefill_ms": 3.5, "itl_list": [1.0, 2.0]})
    assert made["prefill_ms"] == 3.5
    assert made["itl_list"] == [1.0, 2.0]
    assert made["decode_ms"] == 0.0


def test_make_completes_nested_protocol_dicts() -> None:
    made = make(
        Response,
        {
            "request_id": "req-1",
            "trace_id": "trace-1",
            "output_text": "Hi",
            "output_tokens": [1],
            "finish_reason": "stop",
            "metrics": REQUIRED_METRICS,
        },
    )
    assert made["metrics"] == {**defaults(Metrics), **REQUIRED_METRICS}
    assert made["prompt_tokens"] is None
    assert made["error"] is None


def test_make_sets_the_event_tag_the_type_fixes() -> None:
    start = make(StreamEventStart, {"request_id": "r", "trace_id": "t", "engine_id": "e"})  # type: ignore[arg-type]
    assert start == {
        "event": "start",
        "request_id": "r",
        "trace_id": "t",
        "engine_id": "e",
        "prompt_tokens": None,
    }
    delta = make(
        StreamEventDelta,
        {
            "request_id": "r",
            "trace_id": "t",
            "engine_id": "e",
            "content": "a",
            "content_tokens": [7],
        },  # type: ignore[arg-type]
    )
    assert delta["event"] == "delta"
    assert next(iter(delta)) == "event"


def test_make_keeps_a_given_tag_and_reports_a_wrong_one() -> None:
    fields: Any = {"event": "delta", "request_id": "r", "trace_id": "t", "engine_id": "e"}
    with pytest.raises(ValidationError) as raised:
        make(StreamEventStart, fields)
    assert str(raised.value) == "event: expected 'start', got 'delta'"


def test_make_sets_other_single_value_tags_too() -> None:
    tool = make(ChatCompletionFunctionTool, {"function": {"name": "lookup"}})  # type: ignore[arg-type]
    assert tool["type"] == "function"


def test_with_defaults_sets_the_tag_too_and_leaves_validation_to_the_caller() -> None:
    value: Any = {"request_id": "r", "trace_id": "t"}
    completed = with_defaults(StreamEventStart, value)
    assert completed == {
        "event": "start",
        "request_id": "r",
        "trace_id": "t",
        "prompt_tokens": None,
    }


def test_make_reports_every_issue_with_its_path() -> None:
    fields: Any = {"ttft_ms": -1.0, "peak_mem_mb": "512", "gpu_util": 0.5}
    with pytest.raises(ValidationError) as raised:
        make(Metrics, fields)
    assert str(raised.value) == "\n".join(
        [
            "ttft_ms: expected a finite number >= 0, got -1.0",
            "throughput_tps: required key is missing",
            "peak_mem_mb: expected an int >= 0, got '512'",
            "error_rate: required key is missing",
            "gpu_util: unknown key (Metrics is closed)",
        ]
    )


def test_make_reports_issues_inside_nested_values_after_completing_them() -> None:
    fields: Any = {
        "event": "end",
        "request_id": "r",
        "trace_id": "t",
        "engine_id": "e",
        "content": "",
        "output_tokens": [],
        "finish_reason": "error",
        "metrics": {**REQUIRED_METRICS, "error_rate": 2},
    }
    with pytest.raises(ValidationError) as raised:
        make(StreamEventEnd, fields)
    assert [(issue.path, issue.code) for issue in raised.value.issues] == [
        (("metrics", "error_rate"), "range"),
        (("error",), "invariant"),
    ]
    assert str(raised.value) == "\n".join(
        [
            "metrics.error_rate: expected a finite number in [0, 1], got 2",
            "error: expected an error when finish_reason is 'error', got None",
        ]
    )


def test_make_never_modifies_the_callers_mapping() -> None:
    fields: Any = {
        "request_id": "r",
        "trace_id": "t",
        "output_text": "",
        "output_tokens": [],
        "finish_reason": "stop",
        "metrics": dict(REQUIRED_METRICS),
    }
    before = copy.deepcopy(fields)
    made = make(Response, fields)
    assert fields == before
    assert made is not fields
    assert made["metrics"] is not fields["metrics"]


def test_make_defaults_are_fresh_on_every_call() -> None:
    first = make(Metrics, REQUIRED_METRICS)
    second = make(Metrics, REQUIRED_METRICS)
    first["itl_list"].append(1.0)
    assert second["itl_list"] == []
    assert make(Metrics, REQUIRED_METRICS)["itl_list"] == []


def test_make_computes_factory_defaults_per_call() -> None:
    fields: Any = {
        "request_id": "r",
        "trace_id": "t",
        "prefill_engine_id": "p",
        "decode_engine_id": "d",
        "kv_channel_id": "kv",
        "prefill_rank": 0,
        "decode_rank": 1,
    }
    first, second = make(PDDispatchPlan, fields), make(PDDispatchPlan, fields)
    assert "plan_id" not in fields
    assert first["plan_id"] != second["plan_id"]


@pytest.mark.parametrize(
    "mapping", [OrderedDict(REQUIRED_METRICS), MappingProxyType(dict(REQUIRED_METRICS))]
)
def test_make_returns_a_plain_dict_for_any_mapping(mapping: Any) -> None:
    made = make(Metrics, mapping)
    assert type(made) is dict
    assert made == {**defaults(Metrics), **REQUIRED_METRICS}


def test_make_rejects_what_is_not_a_mapping_or_not_a_protocol_type() -> None:
    with pytest.raises(TypeError) as raised:
        make(Metrics, [("ttft_ms", 1.0)])  # type: ignore[arg-type]
    assert str(raised.value) == "make() takes a mapping, got list"
    with pytest.raises(TypeError) as raised:
        make(int, {})  # type: ignore[arg-type]
    assert str(raised.value) == "make() takes a protocol TypedDict, got <class 'int'>"


def test_make_refuses_a_callable_the_annotation_names_only_for_mypy() -> None:
    with pytest.raises(TypeError) as raised:
        make(Metrics, lambda: REQUIRED_METRICS)
    assert str(raised.value) == "make() takes a mapping, got function"
