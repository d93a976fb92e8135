"""Instructions per call (valgrind's callgrind), ours against pydantic, on the payloads of
``benchmarks/validate.py``: repeatable on a shared, noisy machine, where wall time is not.

    python benchmarks/instructions.py [--calls N] [--payload NAME ...]

For each payload and side, two runs of this interpreter under ``valgrind --tool=callgrind``:
one that makes N calls after a warm-up call, one that makes none; the difference divided by N
is the cost of one call. ``PYTHONHASHSEED=0`` keeps both runs' hashing alike. Sides:

- ``validate``: ``validate(T, value)`` on the parsed value (ours);
- ``pydantic``: ``TypeAdapter(T).validate_python(value, strict=True)``.

Needs valgrind on PATH. Slow (a few minutes): each run starts an interpreter under valgrind.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIDES = ("validate", "pydantic")

WORKLOAD = """
import sys
sys.path.insert(0, {here!r})
from validate import PAYLOADS
label, tp, value, _ = next(p for p in PAYLOADS if p[0].startswith({payload!r}))
if {side!r} == "pydantic":
    from pydantic import TypeAdapter
    adapter = TypeAdapter(tp)
    call = lambda: adapter.validate_python(value, strict=True)
else:
    from sagellm_protocol.validation import validate
    call = lambda: validate(tp, value)
call()
for _ in range({calls}):
    call()
"""


def instructions(payload: str, side: str, calls: int) -> int:
    """Instructions the whole interpreter run executes (callgrind's total)."""
    return callgrind_total(WORKLOAD.format(here=str(HERE), payload=payload, side=side, calls=calls))


def callgrind_total(code: str, inside: str | None = None) -> int:
    """Instructions this interpreter executes running ``code`` under callgrind (its total), or
    only those inside calls of the C function named ``inside`` when given."""
    counted = [] if inside is None else ["--collect-atstart=no", f"--toggle-collect={inside}"]
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            *counted,
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    found = re.search(r"refs:\s+([\d,]+)", done.stderr)
    assert found is not None, done.stderr
    return int(found.group(1).replace(",", ""))


def main() -> None:
    sys.path.insert(0, str(HERE))
    from validate import PAYLOADS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--payload", action="append", help="a payload's label prefix")
    args = parser.parse_args()
    names = args.payload or [label.split(" ")[0] for label, *_ in PAYLOADS]
    print(
        f"{'payload':<26} {'ours':>10} {'pydantic':>10}  pydantic / ours   (instructions per call)"
    )
    for name in names:
        calls = max(1, args.calls // 10) if name.startswith("KVCache") else args.calls
        per_call = {
            side: (instructions(name, side, calls) - instructions(name, side, 0)) / calls
            for side in SIDES
        }
        ours, theirs = per_call["validate"], per_call["pydantic"]
        print(f"{name:<26} {ours:>10,.0f} {theirs:>10,.0f}  {theirs / ours:>8.2f}x")


if __name__ == "__main__":
    main()
