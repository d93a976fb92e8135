"""Per-call cost of ``@checked`` in each mode, side by side with plain beartype and validate().

    python benchmarks/checked.py

One function ``generate(request: Request) -> Response`` that returns a prebuilt response, so
the timings are the checking overhead. Best of several repeats, in ns per call.
"""

import timeit
from collections.abc import Callable
from typing import Any

from beartype import beartype

from sagellm_protocol.core import Request, Response
from sagellm_protocol.runtime import checked, override_checks
from sagellm_protocol.validation import validate

REQUEST: Request = {
    "request_id": "9b2f6c1e-0d7a-4c55-9a43-2f1e8b7c6d5a",
    "trace_id": "trace-1",
    "model": "qwen2-7b",
    "prompt": "Explain KV cache eviction in one paragraph.",
    "max_tokens": 256,
    "temperature": 0.7,
    "top_p": 0.9,
    "stream": False,
}
RESPONSE: Response = {
    "request_id": REQUEST["request_id"],
    "trace_id": "trace-1",
    "output_text": "The KV cache keeps keys and values of past tokens …",
    "output_tokens": list(range(64)),
    "prompt_tokens": 12,
    "finish_reason": "stop",
    "metrics": {
        "ttft_ms": 12.5,
        "tbt_ms": 8.1,
        "throughput_tps": 120.0,
        "peak_mem_mb": 2048,
        "error_rate": 0.0,
        "itl_list": [8.0, 8.2, 7.9, 8.3],
    },
}


def generate(request: Request) -> Response:
    return RESPONSE


def _decorated(mode: str) -> Callable[[Request], Response]:
    with override_checks(mode):
        return checked(generate)


def _ns_per_call(call: Callable[[], object], number: int = 200_000, repeat: int = 7) -> float:
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e9


def main() -> None:
    off, on, sampled = _decorated("off"), _decorated("on"), _decorated("sample:100")
    bear: Any = beartype(generate)
    assert off is generate
    on(REQUEST)  # the first call builds the beartype wrapper

    def validate_both() -> None:
        validate(Request, REQUEST)
        validate(Response, RESPONSE)

    rows = [
        ("undecorated call", lambda: generate(REQUEST)),
        ("@checked, off", lambda: off(REQUEST)),
        ("@checked, on", lambda: on(REQUEST)),
        ("@checked, sample:100", lambda: sampled(REQUEST)),
        ("plain @beartype", lambda: bear(REQUEST)),
        ("validate(Request) + validate(Response)", validate_both),
        ("validate(Request) alone", lambda: validate(Request, REQUEST)),
        ("validate(Response) alone", lambda: validate(Response, RESPONSE)),
    ]
    timings = {name: _ns_per_call(call) for name, call in rows}
    base = timings["undecorated call"]
    print(f"{'per call':40} {'ns':>9} {'over undecorated':>17}")
    for name, ns in timings.items():
        print(f"{name:40} {ns:9.0f} {ns - base:+17.0f}")
    print("(@checked under off returns generate itself, asserted above: any gap is timer noise)")
    on_overhead = timings["@checked, on"] - base
    budget = timings["validate(Request) + validate(Response)"] + 1500
    print(
        f"\n@checked on costs {on_overhead:.0f} ns over the undecorated call; the budget, "
        f"validate() of argument and return + 1.5 µs, is {budget:.0f} ns "
        f"({'within' if on_overhead <= budget else 'OVER'} budget)."
    )


if __name__ == "__main__":
    main()
