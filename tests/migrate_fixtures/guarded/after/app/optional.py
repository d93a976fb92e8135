"""Works without the protocol package: it is imported under try/except ImportError."""

try:
    from sagellm_protocol import Metrics, make
except ImportError:  # the package is optional here
    Metrics = None


def measured(ttft_ms: float) -> object:
    if Metrics is None:
        return {"ttft_ms": ttft_ms}
    return make(Metrics, {"ttft_ms": ttft_ms, "throughput_tps": 1.0, "peak_mem_mb": 0, "error_rate": 0.0})
