"""A toy backend whose entrypoints use ``@checked``: run it to see a caught contract violation.

    python examples/checked_backend.py
    SAGELLM_PROTOCOL_CHECKS=off python examples/checked_backend.py   # no checks, no cost
    SAGELLM_PROTOCOL_CHECKS=sample:100 python examples/checked_backend.py

Under ``off`` the bad request goes through and the buggy stream is not caught.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from sagellm_protocol.core import Metrics, Request, Response, StreamEvent
from sagellm_protocol.runtime import CheckViolation, checked, checks_mode


def _metrics(started: float, tokens: int) -> Metrics:
    elapsed_ms = (time.perf_counter() - started) * 1000
    return {
        "ttft_ms": elapsed_ms,
        "throughput_tps": tokens / max(elapsed_ms / 1000, 1e-9),
        "peak_mem_mb": 0,
        "error_rate": 0.0,
    }


@checked
class ToyBackend:
    """Upper-cases the prompt, one word per token."""

    engine_id = "toy-0"

    def generate(self, request: Request) -> Response:
        started = time.perf_counter()
        words = request.get("prompt", "").upper().split()[: request["max_tokens"]]
        return {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "output_text": " ".join(words),
            "output_tokens": list(range(len(words))),
            "finish_reason": "stop",
            "metrics": _metrics(started, len(words)),
        }

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        rid, tid = request["request_id"], request["trace_id"]
        yield {"event": "start", "request_id": rid, "trace_id": tid, "engine_id": self.engine_id}
        for index, word in enumerate(request.get("prompt", "").split()):
            # A bug mypy cannot see (the ids come untyped): the third token id is a float.
            token: Any = float(index) if index == 2 else index
            yield {
                "event": "delta",
                "request_id": rid,
                "trace_id": tid,
                "engine_id": self.engine_id,
                "content": word.upper(),
                "content_tokens": [token],
            }


async def _consume(backend: ToyBackend, request: Request) -> None:
    async for event in backend.stream(request):
        print(f"  event {event['event']}: {event.get('content', '')!r}")


def main() -> None:
    print(f"checks mode: {checks_mode()}")
    backend = ToyBackend()
    request: Request = {
        "request_id": "r-1",
        "trace_id": "t-1",
        "prompt": "hi there",
        "max_tokens": 8,
    }
    print("generate ->", backend.generate(request)["output_text"])

    bad: Request = {"request_id": "r-2", "trace_id": "t-2", "prompt": "hi", "max_tokens": 0}
    try:
        print("generate (max_tokens=0) ->", repr(backend.generate(bad)["output_text"]))
    except CheckViolation as error:
        print(f"caught {type(error).__name__}:\n{error}")

    print("stream:")
    try:
        asyncio.run(_consume(backend, {**request, "prompt": "one two three"}))
    except CheckViolation as error:
        print(f"caught {type(error).__name__}:\n{error}")


if __name__ == "__main__":
    main()
