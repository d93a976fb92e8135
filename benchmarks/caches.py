"""Per-call cost of validating against a form with unhashable ``Annotated`` metadata, against the
same form with hashable metadata (the ratio should stay well under 20x).

Not a test. Run: ``python benchmarks/caches.py [--rounds N]``. Two ways to pass the form:
the same object every call, and an equal form built anew on every call (building included:
subtracting it, timed apart, left a difference of two near-equal minima, negative under load).
Best of the rounds, in microseconds.
"""

import argparse
import time
from collections.abc import Callable
from typing import Annotated, Any

from annotated_types import Ge

from sagellm_protocol.validation import validate


def hashable() -> Any:
    return Annotated[int, "tokens", Ge(0)]


def unhashable() -> Any:
    return Annotated[int, {"unit": "tokens"}, Ge(0)]


def per_call(run: Callable[[], object], calls: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds (best kept)")
    args = parser.parse_args()
    calls = 20_000
    same_hashable, same_unhashable = hashable(), unhashable()
    rows = {
        "same object": (
            per_call(lambda: validate(same_hashable, 5), calls, args.rounds),
            per_call(lambda: validate(same_unhashable, 5), calls, args.rounds),
        ),
        "built anew each call": (
            per_call(lambda: validate(hashable(), 5), calls, args.rounds),
            per_call(lambda: validate(unhashable(), 5), calls, args.rounds),
        ),
    }
    print(f"{'form passed':24} {'hashable µs':>12} {'unhashable µs':>14} {'ratio':>8}")
    for label, (cheap, costly) in rows.items():
        print(f"{label:24} {cheap:12.2f} {costly:14.2f} {costly / cheap:7.1f}x")


if __name__ == "__main__":
    main()
