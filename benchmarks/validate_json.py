"""Side-by-side cost of bytes -> validated value: our validate_json() vs pydantic's validate_json.

Not a test. Run: ``python benchmarks/validate_json.py [--rounds N]``. In one process the
contenders take turns on each payload (round-robin, best of the rounds): ``validate_json(T, b)``
(msgspec's parser, the ``fast`` extra), the same on the pure path (``json.loads``), and pydantic's
``TypeAdapter(T).validate_json(b, strict=True)``. Then a JSON Lines stream of 1000 events (1
start, 998 deltas, 1 end) validated line by line as ``StreamEvent``, against pydantic's adapter
of the union discriminated on ``event`` (its plain union tries every member). Ratios are
pydantic's time divided by ours: above 1 we are faster.
"""

import argparse
import json
import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from validate import PAYLOADS, _per_call, delta, response

from sagellm_protocol import Response, StreamEvent, validate_json
from sagellm_protocol.core import StreamEventDelta, StreamEventEnd, StreamEventStart
from sagellm_protocol.validation import _json, validate


def _long_response() -> dict[str, Any]:
    value = response()
    value["output_tokens"] = [1_000 + i * 37 % 30_000 for i in range(1024)]
    value["metrics"]["itl_list"] = [12.0 + (i % 7) * 0.125 for i in range(1024)]
    return value


def _stream() -> list[bytes]:
    start = {
        "event": "start",
        "request_id": "req-3f2a",
        "trace_id": "trace-91c0",
        "engine_id": "engine-0",
        "prompt_tokens": 57,
    }
    end = {
        **start,
        "event": "end",
        "content": " the" * 998,
        "output_tokens": [279] * 998,
        "finish_reason": "length",
        "metrics": response()["metrics"],
    }
    del end["prompt_tokens"]
    events = [start, *(delta() for _ in range(998)), end]
    return [json.dumps(event).encode() for event in events]


def _pure(tp: Any, data: bytes) -> object:
    return validate(tp, _json._parse(data, _json.MAX_BYTES, _json._parse_pure))


def _contenders(tp: Any, data: bytes) -> dict[str, Callable[[], object]]:
    adapter = TypeAdapter(tp)
    return {
        "ours": lambda: validate_json(tp, data),
        "ours, json.loads": lambda: _pure(tp, data),
        "pydantic": lambda: adapter.validate_json(data, strict=True),
    }


def _best(runners: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, run in runners.items():
            best[name] = min(best.get(name, math.inf), _per_call(run))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="round-robin rounds (best kept)")
    args = parser.parse_args()
    validate_json(list[int], b"[]")  # picks the parser
    assert _json._decode is not _json._parse_pure, "install msgspec (the fast extra) to benchmark"

    cases = [(label, tp, value) for label, tp, value, _ in PAYLOADS]
    cases.insert(3, ("Response (1024 tokens, full Metrics)", Response, _long_response()))
    names = ["ours", "ours, json.loads", "pydantic"]
    print(f"{'payload (bytes -> value)':40s}{'bytes':>8s}" + "".join(f"{n:>18s}" for n in names))
    ratios = []
    for label, tp, value in cases:
        data = json.dumps(value).encode()
        best = _best(_contenders(tp, data), args.rounds)
        ratio = best["pydantic"] / best["ours"]
        ratios.append(ratio)
        cells = "".join(f"{best[name] * 1e6:15.2f} µs" for name in names)
        print(f"{label:40s}{len(data):8d}{cells}   pydantic / ours {ratio:5.2f}x")
    geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(f"\ngeometric mean of pydantic / ours over {len(ratios)} payloads: {geomean:.2f}x")

    lines = _stream()
    union = Annotated[
        StreamEventStart | StreamEventDelta | StreamEventEnd, Field(discriminator="event")
    ]
    adapter = TypeAdapter(union)
    for line in lines:
        validate_json(StreamEvent, line)
        adapter.validate_json(line, strict=True)
    best = _best(
        {
            "ours": lambda: [validate_json(StreamEvent, line) for line in lines],
            "pydantic, discriminated": lambda: [
                adapter.validate_json(line, strict=True) for line in lines
            ],
        },
        args.rounds,
    )
    print(f"\nJSON Lines, {len(lines)} StreamEvent lines (µs per line):")
    for name, seconds in best.items():
        print(f"  {name:26s}{seconds / len(lines) * 1e6:8.2f}")
    print(f"  pydantic / ours: {best['pydantic, discriminated'] / best['ours']:.2f}x")


if __name__ == "__main__":
    main()
