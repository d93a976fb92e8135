"""One function mypy cannot see through (the engine is untyped), one it can."""

from typing import Any

from sagellm_protocol import Metrics


def fallback(engine: Any) -> float:
    response = engine.generate()
    if response.metrics:
        metrics = response.metrics
    else:
        metrics = Metrics(ttft_ms=0.0, throughput_tps=0.0, peak_mem_mb=0, error_rate=0.0)
    return metrics.ttft_ms


def typed(ttft_ms: float) -> float:
    metrics = Metrics(ttft_ms=ttft_ms, throughput_tps=0.0, peak_mem_mb=0, error_rate=0.0)
    return metrics.ttft_ms


def loose(result) -> float:  # untyped, and no protocol value in sight: not reported
    return typed(result.ttft_ms)
