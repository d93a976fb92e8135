"""Per-call cost of ``@checked``'s wrapper around a cheap function, in each decorated mode.

    python benchmarks/switch.py

``add(a: int, b: int) -> int`` keeps beartype's own checks to a few type tests, so the
figures show what the wrapper adds: the call-time look at ``override_checks`` included. Best
of several repeats, in ns per call; run it at two commits to compare them.
"""

import timeit
from collections.abc import Callable

from sagellm_protocol.runtime import checked, override_checks


def add(a: int, b: int) -> int:
    return a + b


def _decorated(mode: str) -> Callable[[int, int], int]:
    with override_checks(mode):
        return checked(add)


def _ns_per_call(call: Callable[[], object], number: int = 500_000, repeat: int = 9) -> float:
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e9


def main() -> None:
    off, on, sampled = _decorated("off"), _decorated("on"), _decorated("sample:100")
    assert off is add
    on(1, 2)  # the first call builds the beartype wrapper
    rows = [
        ("undecorated call", lambda: add(1, 2)),
        ("@checked, off at decoration", lambda: off(1, 2)),
        ("@checked, on", lambda: on(1, 2)),
        ("@checked, sample:100", lambda: sampled(1, 2)),
    ]
    timings = {name: _ns_per_call(call) for name, call in rows}
    base = timings["undecorated call"]
    print(f"{'per call':40} {'ns':>6}  over undecorated")
    for name, ns in timings.items():
        print(f"{name:40} {ns:6.0f}  {ns - base:+6.0f}")


if __name__ == "__main__":
    main()
