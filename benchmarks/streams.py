"""Cost of checking a stream: ``feed()`` of one delta beside ``validate()`` of that delta alone,
and a whole stream's time per event as it grows (linear time means a flat per-event cost).

    python benchmarks/streams.py

Best of several repeats, in ns per event. pydantic's TypeAdapter of the delta type is shown
for scale: it checks one event and no rule between events.
"""

import time
import timeit
from typing import Any

from sagellm_protocol import (
    StreamEvent,
    StreamEventDelta,
    stream_checker,
    validate,
    validate_stream,
)

IDS = {"request_id": "9b2f6c1e-0d7a-4c55", "trace_id": "trace-1", "engine_id": "engine-0"}
START: Any = {"event": "start", **IDS, "prompt_tokens": 12}
DELTA: Any = {"event": "delta", **IDS, "content": " token", "content_tokens": [4211]}
METRICS = {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 3, "error_rate": 0.0}


def best_ns(call: Any, number: int = 20_000, repeat: int = 7) -> float:
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e9


def stream_of(deltas: int) -> list[Any]:
    end = {
        "event": "end",
        **IDS,
        "content": DELTA["content"] * deltas,
        "output_tokens": DELTA["content_tokens"] * deltas,
        "finish_reason": "stop",
        "metrics": METRICS,
    }
    return [START, *([DELTA] * deltas), end]


def main() -> None:
    live = stream_checker(StreamEvent)
    live.feed(START)
    feed = best_ns(lambda: live.feed(DELTA))
    alone = best_ns(lambda: validate(StreamEventDelta, DELTA))
    print(f"validate(StreamEventDelta, delta)   {alone:8.0f} ns  1.00x")
    print(f"stream_checker(StreamEvent).feed()  {feed:8.0f} ns  {feed / alone:.2f}x")
    try:
        from pydantic import TypeAdapter
    except ImportError:
        pass
    else:
        adapter = TypeAdapter(StreamEventDelta)
        peer = best_ns(lambda: adapter.validate_python(DELTA))
        print(f"pydantic TypeAdapter.validate_python {peer:7.0f} ns  {peer / alone:.2f}x")
    print()
    per_event: list[float] = []
    for deltas in (1_000, 10_000, 100_000):
        events = stream_of(deltas)
        took = min(_timed(events) for _ in range(5))
        per_event.append(took / len(events) * 1e9)
        print(f"validate_stream of {len(events):>7} events  {per_event[-1]:6.0f} ns/event")
    print(f"per-event cost at 100 000 / at 1 000: {per_event[-1] / per_event[0]:.2f}x")


def _timed(events: list[Any]) -> float:
    started = time.perf_counter()
    validate_stream(StreamEvent, events)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
