from sagellm_protocol import Metrics


def ttft(m: Metrics) -> float:
    return m["ttft_ms"]
