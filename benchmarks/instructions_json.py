"""Instructions per call (valgrind's callgrind) of bytes -> validated value: our
``validate_json`` against pydantic's, and against parsing the same bytes with no type at all.

    python benchmarks/instructions_json.py [--calls N] [--payload NAME ...] [--side SIDE ...]

The payloads of ``benchmarks/validate.py``, as ``json.dumps(value).encode()``. One callgrind
run per payload and side counts only the instructions inside ``operator.call(once)`` (its C
function ``_operator_call``), N times after a warm-up call, where ``once()`` makes one call and
drops its value: imports and set-up are not counted, freeing the value is. Sides:

- ``ours``: ``validate_json(T, b)`` with the ``fast`` extra installed;
- ``ours pure``: the same on the pure path (the standard library's ``json``, no extra);
- ``pydantic``: ``TypeAdapter(T).validate_json(b, strict=True)``;
- ``orjson``, ``msgspec``: ``orjson.loads(b)`` and ``msgspec.json.decode(b)``, the parse floors.

Ratios: ours / pydantic (below 1: we execute fewer instructions), and ours / the cheaper floor.
Needs valgrind on PATH, and msgspec, orjson and pydantic installed. Slow (several minutes).
"""

import argparse
import math
import sys
from pathlib import Path

from instructions import callgrind_total

HERE = Path(__file__).resolve().parent
SIDES = ("ours", "ours pure", "pydantic", "orjson", "msgspec")

CALLS = {
    "ours": "from sagellm_protocol import validate_json\ncall = lambda: validate_json(tp, data)",
    "ours pure": (
        "from sagellm_protocol import validate_json\n"
        "from sagellm_protocol.validation import _json\n"
        "_json._decode = _json._parse_pure\n"
        "call = lambda: validate_json(tp, data)"
    ),
    "pydantic": (
        "from pydantic import TypeAdapter\n"
        "adapter = TypeAdapter(tp)\n"
        "call = lambda: adapter.validate_json(data, strict=True)"
    ),
    "orjson": "import orjson\ncall = lambda: orjson.loads(data)",
    "msgspec": "import msgspec\ndecode = msgspec.json.decode\ncall = lambda: decode(data)",
}

WORKLOAD = """
import json, operator, sys
sys.path.insert(0, {here!r})
from validate import PAYLOADS
label, tp, value, _ = next(p for p in PAYLOADS if p[0].startswith({payload!r}))
data = json.dumps(value).encode()
{call}
def once():
    call()
once()
for _ in range({calls}):
    operator.call(once)
"""


def per_call(payload: str, side: str, calls: int) -> float:
    """Instructions one call of ``side`` on ``payload`` executes."""
    code = WORKLOAD.format(here=str(HERE), payload=payload, call=CALLS[side], calls=calls)
    return callgrind_total(code, inside="_operator_call") / calls


def main() -> None:
    sys.path.insert(0, str(HERE))
    from validate import PAYLOADS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--payload", action="append", help="a payload's label prefix")
    parser.add_argument("--side", action="append", choices=SIDES, help="(default: all)")
    args = parser.parse_args()
    names = args.payload or [label.split(" ")[0] for label, *_ in PAYLOADS]
    sides = args.side or SIDES
    header = "".join(f"{side:>11}" for side in sides)
    print(f"{'payload':<24}{header}  ours/pydantic  ours/floor   (instructions per call)")
    to_pydantic = []
    for name in names:
        calls = max(1, args.calls // 10) if name.startswith("KVCache") else args.calls
        cost = {side: per_call(name, side, calls) for side in sides}
        cells = "".join(f"{cost[side]:>11,.0f}" for side in sides)
        if cost.keys() >= {"ours", "pydantic", "orjson", "msgspec"}:
            to_pydantic.append(cost["ours"] / cost["pydantic"])
            floor = min(cost["orjson"], cost["msgspec"])
            cells += f"  {to_pydantic[-1]:>12.2f}  {cost['ours'] / floor:>10.2f}"
        print(f"{name:<24}{cells}", flush=True)
    if to_pydantic:
        geomean = math.exp(sum(map(math.log, to_pydantic)) / len(to_pydantic))
        print(f"geometric mean of ours / pydantic: {geomean:.2f}")


if __name__ == "__main__":
    main()
