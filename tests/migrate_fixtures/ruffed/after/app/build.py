"""Formatted and sorted by ruff before the migration."""

import logging

from sagellm_protocol import Metrics, Response, make

logger = logging.getLogger(__name__)


def build(request_id: str, text: str, ttft_ms: float) -> Response:
    metrics = make(
        Metrics,
        {
            "ttft_ms": ttft_ms,
            "throughput_tps": 1.0,
            "peak_mem_mb": 0,
            "error_rate": 0.0,
            "kv_used_tokens": 0,
            "prefix_hit_rate": 0.0,
        },
    )
    logger.info("ttft %s", metrics["ttft_ms"])
    return make(
        Response,
        {
            "request_id": request_id,
            "trace_id": request_id,
            "output_text": text,
            "output_tokens": [],
            "finish_reason": "stop",
            "metrics": metrics,
        },
    )
