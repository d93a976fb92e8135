"""Whole-process start-up cost of importing the protocol: ours vs the original pydantic package.

Not a test. Run: ``python benchmarks/import_time.py [--runs N] [--original-python PATH]``
(Unix only: it reads the children's CPU time). Times a fresh interpreter running
``from sagellm_protocol import Request, Response, validate`` with this package, and
``from sagellm_protocol import Request, Response`` with the original ``isagellm-protocol``
(same import name), which lives in its own virtual environment: the one ``--original-python``
belongs to, or ``benchmarks/.venv-original``, made and filled from PyPI on first use. Runs
alternate between the two (the order flips every round) so machine noise hits both alike;
each side runs once untimed first. Each side's site-packages and package are compiled
beforehand: where ``PYTHONDONTWRITEBYTECODE`` is set, each start would otherwise compile those
sources again and measure that instead.
"""

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ORIGINAL = "isagellm-protocol"
ORIGINAL_VERSION = "0.5.4.16"
OURS_CODE = "from sagellm_protocol import Request, Response, validate"
ORIGINAL_CODE = "from sagellm_protocol import Request, Response"
"""The original has no ``validate``: its models validate on construction."""
CACHE = Path(__file__).parent / ".venv-original"

PROBE = (
    "import importlib.metadata, os, sys, sysconfig, sagellm_protocol\n"
    "print(sysconfig.get_path('purelib'))\n"
    "print(os.path.dirname(sagellm_protocol.__file__))\n"
    "print(importlib.metadata.version(sys.argv[1]))\n"
)
"""Prints where an interpreter's modules live and the version of distribution ``argv[1]``."""


def probe(python: str, dist: str) -> list[str]:
    result = subprocess.run([python, "-c", PROBE, dist], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def compile_sources(python: str, dist: str) -> str:
    """Compile the site-packages and the imported package of ``python``; ``dist``'s version.

    The standard library is left as installed: interpreters ship it compiled.
    """
    purelib, package, version = probe(python, dist)
    for directory in dict.fromkeys((purelib, package)):
        subprocess.run([python, "-m", "compileall", "-q", "-j", "0", directory], check=True)
    return version


def original_python(given: str | None) -> str:
    if given is not None:
        return given
    python = CACHE / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CACHE)], check=True)
    try:
        installed = probe(str(python), ORIGINAL)[2]
    except subprocess.CalledProcessError:
        installed = None
    if installed != ORIGINAL_VERSION:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"{ORIGINAL}=={ORIGINAL_VERSION}"],
            check=True,
        )
    return str(python)


def run_ms(python: str, code: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one interpreter running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per side (default 30)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter with this package installed"
    )
    parser.add_argument(
        "--original-python",
        help=f"interpreter with {ORIGINAL}=={ORIGINAL_VERSION} installed "
        "(default: benchmarks/.venv-original, made on first use)",
    )
    args = parser.parse_args()

    theirs = original_python(args.original_python)
    our_version = compile_sources(args.python, ORIGINAL)  # the same name: ours is 1.x
    their_version = compile_sources(theirs, ORIGINAL)
    sides = {
        "ours": (args.python, OURS_CODE, f"{ORIGINAL} {our_version}"),
        "original": (theirs, ORIGINAL_CODE, f"{ORIGINAL} {their_version}"),
    }
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for python, code, _ in sides.values():
        run_ms(python, code)
    order = list(sides)
    for _ in range(args.runs):
        for name in order:
            python, code, _ = sides[name]
            wall_ms, cpu_ms = run_ms(python, code)
            wall[name].append(wall_ms)
            cpu[name].append(cpu_ms)
        order.reverse()

    version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"Python {version}, {os.cpu_count()} cores, {platform.machine()}; "
        f"{args.runs} interleaved runs per side, whole-process wall time\n"
    )
    print(f"{'side':<9} {'median ms':>9} {'min ms':>7} {'CPU ms':>7}  {'package':<28} command")
    for name, (_, code, package) in sides.items():
        median, least, work = (
            statistics.median(wall[name]),
            min(wall[name]),
            statistics.median(cpu[name]),
        )
        print(
            f"{name:<9} {median:>9.1f} {least:>7.1f} {work:>7.1f}  {package:<28} python -c {code!r}"
        )
    ratios = (
        statistics.median(wall["ours"]) / statistics.median(wall["original"]),
        min(wall["ours"]) / min(wall["original"]),
        statistics.median(cpu["ours"]) / statistics.median(cpu["original"]),
    )
    print(
        "\nours / original: {:.3f} (wall medians), {:.3f} (wall minima), "
        "{:.3f} (CPU medians)".format(*ratios)
    )
    print("CPU ms: median user + system time; on a busy machine it varies less than wall time.")


if __name__ == "__main__":
    main()
