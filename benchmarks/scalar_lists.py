"""Per-item cost of the C list checks (``validation/_scalar_lists.c``) against the pure-Python
expressions they replace, in one process.

    python benchmarks/scalar_lists.py [--items N] [--rounds R]

Prints nanoseconds per item (the best of R rounds, each timing enough calls for about 0.1 s)
for lists of ints, floats and strings, and the ratio pure / C. The module measured is whichever
``native_lists()`` loads: the installed build (the abi3 one, for a wheel or ``pip install -e .``).
To compare two builds, put one first on ``PYTHONPATH`` in a second run.
"""

import argparse
import math
import timeit
from operator import countOf

from sagellm_protocol.validation._compile import native_lists


def pure_all_of_type(items: list[object], cls: type) -> bool:
    return countOf(map(type, items), cls) == len(items)


def pure_all_finite(items: list[float]) -> bool:
    return countOf(map(type, items), float) == len(items) and math.isfinite(sum(items))


def per_item_ns(call: object, items: int, rounds: int) -> float:
    timer = timeit.Timer(call)  # type: ignore[arg-type]
    number, _ = timer.autorange()
    return min(timer.repeat(rounds, number)) / number / items * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    native = native_lists()
    if native is None:
        raise SystemExit("the C list checks are not loaded (not built, or turned off)")
    print(f"module: {native.__file__}")
    n = args.items
    ints: list[object] = list(range(n))
    floats = [i + 0.5 for i in range(n)]
    strings: list[object] = [str(i) for i in range(n)]
    cases = [
        ("list[int]", lambda: native.all_of_type(ints, int), lambda: pure_all_of_type(ints, int)),
        (
            "list[str]",
            lambda: native.all_of_type(strings, str),
            lambda: pure_all_of_type(strings, str),
        ),
        ("list[float]", lambda: native.all_finite_numbers(floats), lambda: pure_all_finite(floats)),
        ("list[float] of ints", lambda: native.all_finite_numbers(ints), None),
    ]
    print(f"{'items':<20} {'C ns/item':>10} {'pure ns/item':>13} {'pure / C':>9}   ({n} items)")
    for name, c_call, pure_call in cases:
        c_ns = per_item_ns(c_call, n, args.rounds)
        if pure_call is None:
            print(f"{name:<20} {c_ns:>10.2f} {'':>13} {'':>9}")
            continue
        pure_ns = per_item_ns(pure_call, n, args.rounds)
        print(f"{name:<20} {c_ns:>10.2f} {pure_ns:>13.2f} {pure_ns / c_ns:>9.1f}")


if __name__ == "__main__":
    main()
