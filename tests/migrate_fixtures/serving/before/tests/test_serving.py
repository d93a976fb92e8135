import asyncio
import json

from sagellm_protocol.types import Metrics, Response
from serving.client import Client, ask
from serving.report import (
    Run,
    answer,
    as_record,
    from_wire,
    is_response,
    measured,
    penalise,
    retried,
    slowest,
    started,
    summary,
    to_wire,
)
from serving.untyped import zero_metrics


def test_defaults_are_filled() -> None:
    metrics = measured(12.0, 30.0)
    assert metrics.prefix_hit_rate == 0.0
    assert metrics.evict_count == 0
    assert metrics.ttft_ms == 12.0


def test_summary_and_slowest() -> None:
    runs = [
        Run(answer("a", "x", measured(5.0, 1.0)), 1.0),
        Run(answer("b", "y", measured(9.0, 1.0)), 2.0),
    ]
    assert summary(runs[0]) == "a: ttft 5.0 ms, 0.0"
    assert slowest(runs) == 9.0


def test_write_through_nested_value() -> None:
    response = answer("a", "x", measured(5.0, 1.0))
    penalise(response)
    assert response.metrics.error_rate == 1.0


def test_wire_round_trip() -> None:
    response = answer("a", "x", measured(5.0, 1.0))
    back = from_wire(json.loads(to_wire(response)))
    assert back.output_text == "x"
    assert back.metrics.ttft_ms == 5.0
    assert is_response(back)


def test_record_and_copy() -> None:
    metrics = measured(7.0, 2.0)
    assert as_record(metrics)["ttft_ms"] == 7.0
    response = retried(answer("a", "x", metrics))
    assert response.finish_reason == "length"
    assert response.request_id == "a"


def test_stream_event_tag() -> None:
    event = started("r-9")
    assert event.event == "start"
    assert event.engine_id == "engine-0"


def test_async_client() -> None:
    response = asyncio.run(Client("e").generate(ask("hi")))
    assert response.output_text == "HI"
    assert response.metrics.throughput_tps == 8.0


def test_untyped_module() -> None:
    assert zero_metrics() == 0.0


def test_constructed_in_test() -> None:
    metrics = Metrics(ttft_ms=1.0, throughput_tps=1.0, peak_mem_mb=1, error_rate=0.0)
    response = Response(
        request_id="z",
        trace_id="z",
        output_text="",
        output_tokens=[],
        finish_reason="stop",
        metrics=metrics,
    )
    assert response.metrics.ttft_ms == 1.0


def test_capabilities() -> None:
    from sagellm_protocol.backend_types import DType
    from serving.backend import cpu, runs

    assert runs(cpu(), DType.FP32)
    assert not runs(cpu(), DType.FP16)
    assert cpu().device_type == "cpu"
