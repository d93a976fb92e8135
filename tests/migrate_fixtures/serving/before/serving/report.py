"""Typed code: builds and reads protocol values, as downstream services do."""

from dataclasses import dataclass

from sagellm_protocol.types import Metrics, Response, StreamEventStart


@dataclass
class Run:
    """A finished run: the response and how long the caller waited."""

    response: Response
    waited_ms: float


def measured(ttft_ms: float, throughput: float) -> Metrics:
    # relies on the defaults of every other counter
    return Metrics(ttft_ms=ttft_ms, throughput_tps=throughput, peak_mem_mb=512, error_rate=0.0)


def answer(request_id: str, text: str, metrics: Metrics) -> Response:
    return Response(
        request_id=request_id,
        trace_id="trace-" + request_id,
        output_text=text,
        output_tokens=[1, 2, 3],
        finish_reason="stop",
        metrics=metrics,
    )


def started(request_id: str) -> StreamEventStart:
    return StreamEventStart(request_id=request_id, trace_id="t", engine_id="engine-0")


def summary(run: Run) -> str:
    metrics = run.response.metrics
    return f"{run.response.request_id}: ttft {metrics.ttft_ms} ms, {metrics.prefix_hit_rate}"


def slowest(runs: list[Run]) -> float:
    return max(run.response.metrics.ttft_ms for run in runs)


def penalise(response: Response) -> None:
    response.metrics.error_rate = 1.0


def to_wire(response: Response) -> str:
    return response.model_dump_json()


def as_record(metrics: Metrics) -> dict[str, object]:
    record = metrics.model_dump()
    return record


def from_wire(payload: object) -> Response:
    return Response.model_validate(payload)


def retried(response: Response) -> Response:
    return response.model_copy(update={"finish_reason": "length"})


def is_response(value: object) -> bool:
    return isinstance(value, Response)


def legacy_ttft(obj: object) -> float:
    # duck typing: the codemod reports this, a dict has no attributes
    if hasattr(obj, "metrics"):
        return float(getattr(obj, "ttft_ms", 0.0))
    return 0.0
