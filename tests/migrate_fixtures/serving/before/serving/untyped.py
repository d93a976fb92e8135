"""Unannotated code: mypy still infers the local values it builds."""

from sagellm_protocol.types import Metrics


def zero_metrics():
    metrics = Metrics(ttft_ms=0.0, throughput_tps=0.0, peak_mem_mb=0, error_rate=0.0)
    metrics.evict_count = 0
    return metrics.ttft_ms + metrics.tbt_ms


def ttft_of(response):
    # the parameter's type is unknown: not rewritten (annotate it, then run migrate again)
    return response.metrics.ttft_ms
