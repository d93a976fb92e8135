"""Peak memory and time of checking hostile bodies (issue #22), each in a fresh process.

    python benchmarks/hostile_memory.py [--jsonl-mib 1024] [--no-cli]

For each body, through ``validate_json`` (the bytes) and ``validate`` (the decoded value): a
32 MiB body with a long tag (half the default ``max_bytes``), 8 MiB of short unknown keys, a
request with a prompt and 32 MiB of messages (its cross-field rule reads them all), and an
ambiguous union in a recursive TypedDict 18 levels deep. Then the CLI's ``validate --stream``
on a large JSON Lines file of many short streams (some invalid), written lazily to a temporary
file (1 GiB by default, less when the disk has not three times that free; the size used is
printed).

The figure is the growth of the peak RSS (``ru_maxrss``) of a fresh process: after its input
is built, the checkers are warm and the peak is reset to the current RSS, against after the
check. ``json.loads`` of the same bytes is shown for reference: ``validate_json`` returns the
decoded value, so its own cost is its growth beyond that. For the CLI: its peak against the
peak of the same command on a file of one stream. Limits, from the issue: growth under
100 MB, a few seconds per body (shown as ``ok``; ``OVER`` otherwise).
"""

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, NotRequired, TypedDict

RSS_LIMIT_MB = 100
SECONDS_LIMIT = 5.0
DEPTH = 18
IDS = {"request_id": "r", "trace_id": "t", "engine_id": "e"}
METRICS = {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 3, "error_rate": 0.0}


class Left(TypedDict):
    """One option of an ambiguous union nested in itself (see tests/unit/test_validation_bounds)."""

    child: NotRequired["Left | Right"]
    left: NotRequired[int]


class Right(TypedDict):
    child: NotRequired["Left | Right"]
    right: NotRequired[int]


def _long_tag() -> tuple[Any, bytes]:
    from sagellm_protocol.core import StreamEvent

    tag = "delta" * ((32 << 20) // 5)
    return StreamEvent, json.dumps({"event": tag, **IDS}).encode()


def _unknown_keys() -> tuple[Any, bytes]:
    from sagellm_protocol.core import Request

    head = b'{"request_id": "r", "trace_id": "t", "max_tokens": 1'
    entries, size, index = [head], len(head), 0
    while size < 8 << 20:
        entry = b', "promp%d": 1' % index
        entries.append(entry)
        size += len(entry)
        index += 1
    return Request, b"".join([*entries, b"}"])


def _messages() -> tuple[Any, bytes]:
    from sagellm_protocol.core import Request

    message = {"role": "user", "content": "hello " * 8}
    count = (32 << 20) // len(json.dumps(message))
    body = {"request_id": "r", "trace_id": "t", "max_tokens": 1, "prompt": "p"}
    return Request, json.dumps({**body, "messages": [message] * count}).encode()


def _deep_union() -> tuple[Any, bytes]:
    value: dict[str, Any] = {"left": "x", "right": "x"}  # invalid for both options
    for _ in range(DEPTH):
        value = {"child": value}
    return Left, json.dumps(value).encode()


BODIES: dict[str, Callable[[], tuple[Any, bytes]]] = {
    "32 MiB long tag (StreamEvent)": _long_tag,
    "8 MiB short unknown keys (Request)": _unknown_keys,
    "32 MiB messages + prompt (Request)": _messages,
    f"ambiguous recursive union, depth {DEPTH}": _deep_union,
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _reset_peak() -> None:
    """Lower the peak RSS to the current RSS (Linux 4.0+), so that building the input does not
    hide what the check itself takes; without it, the growth shown is a lower bound."""
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
    except OSError:
        print("peak RSS not reset: growth is a lower bound", file=sys.stderr)


def _measure_body(name: str, path: str) -> None:
    """In the child process: one body through one entry point; prints a JSON result."""
    import gc

    from sagellm_protocol import collect_issues, validate_json
    from sagellm_protocol.validation import ValidationError

    tp, data = BODIES[name]()
    value = json.loads(data) if path == "validate" else None
    small = json.dumps({"request_id": "r", "trace_id": "t", "max_tokens": 1, "x": 1})
    for warm in (small, '{"child": {"left": "x", "right": 1}}', '{"event": "delta"}'):
        with contextlib.suppress(ValidationError):
            validate_json(tp, warm)
        collect_issues(tp, json.loads(warm))
    gc.collect()
    _reset_peak()
    base = _peak_mb()
    start = time.perf_counter()
    issues: list[Any] = []
    if path == "json.loads":  # the reference: the decoded value alone
        value = json.loads(data)
    elif path == "validate":
        issues = collect_issues(tp, value)
    else:
        try:
            validate_json(tp, data)
        except ValidationError as error:
            issues = error.issues
    seconds = time.perf_counter() - start
    growth = _peak_mb() - base
    print(json.dumps({"growth": growth, "seconds": seconds, "issues": len(issues)}))


def _stream_lines(size: int) -> Iterator[bytes]:
    """JSON Lines of short StreamEvent streams until ``size`` bytes; every 1000th stream has
    an invalid delta (its content_tokens a str)."""
    written, stream = 0, 0
    while written < size:
        ids = {"request_id": f"req-{stream}", "trace_id": f"trace-{stream}", "engine_id": "e"}
        tokens: Any = "x" if stream % 1000 == 999 else [11]
        events = [{"event": "start", **ids, "prompt_tokens": 3}]
        events += [{"event": "delta", **ids, "content": "tok", "content_tokens": tokens}] * 8
        end = {"event": "end", **ids, "content": "tok" * 8, "output_tokens": [11] * 8}
        events.append({**end, "finish_reason": "stop", "metrics": METRICS})
        chunk = "".join(json.dumps(event) + "\n" for event in events).encode()
        written += len(chunk)
        stream += 1
        yield chunk


def _run_cli(path: str) -> tuple[float, float, int]:
    """Peak RSS (MB), seconds and exit status of ``validate --stream StreamEvent path``."""
    command = [sys.executable, "-m", "sagellm_protocol", "validate", "--stream", "StreamEvent"]
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen([*command, path], stdout=sink, stderr=sink)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    return usage.ru_maxrss / 1024, seconds, os.waitstatus_to_exitcode(status)


def _verdict(growth: float, seconds: float | None) -> str:
    over = growth >= RSS_LIMIT_MB or (seconds is not None and seconds > SECONDS_LIMIT)
    return "OVER" if over else "ok"


def _bodies() -> None:
    heading = f"{'body':36} {'entry point':14} {'RSS growth':>10} {'beyond decode':>13}"
    print(f"{heading} {'time':>7} issues")
    for name in BODIES:
        decoded = 0.0
        for path in ("json.loads", "validate_json", "validate"):
            child = [sys.executable, __file__, "--body", name, "--path", path]
            done = subprocess.run(child, capture_output=True, text=True, check=True)
            result = json.loads(done.stdout)
            growth, seconds = result["growth"], result["seconds"]
            if path == "json.loads":
                decoded = growth
                print(f"{name:36} {path:14} {growth:7.1f} MB {'(reference)':>13} {seconds:6.2f}s")
                continue
            # validate_json returns the decoded value: what it holds beyond it is its own cost
            own = growth - decoded if path == "validate_json" else growth
            print(
                f"{name:36} {path:14} {growth:7.1f} MB {own:10.1f} MB {seconds:6.2f}s"
                f" {result['issues']:6}  {_verdict(own, seconds)}"
            )


def _cli(mib: int) -> None:
    directory = tempfile.mkdtemp(prefix="hostile-memory-")
    try:
        free = shutil.disk_usage(directory).free
        size = min(mib << 20, free // 3)
        small, large = os.path.join(directory, "one.jsonl"), os.path.join(directory, "big.jsonl")
        with open(small, "wb") as out:
            out.write(next(_stream_lines(1)))
        with open(large, "wb") as out:
            for chunk in _stream_lines(size):
                out.write(chunk)
        written = os.path.getsize(large)
        base, _, _ = _run_cli(small)
        peak, seconds, status = _run_cli(large)
        note = "" if size == mib << 20 else f" (disk allowed only {size >> 20} MiB)"
        growth = peak - base
        print(
            f"\nCLI validate --stream on {written / (1 << 20):.0f} MiB of JSON Lines{note}:"
            f" peak RSS {peak:.1f} MB against {base:.1f} MB on one stream,"
            f" growth {growth:.1f} MB, {seconds:.1f}s, exit {status}  {_verdict(growth, None)}"
        )
    finally:
        shutil.rmtree(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsonl-mib", type=int, default=1024, help="size of the JSON Lines file")
    parser.add_argument("--no-cli", action="store_true", help="measure the bodies only")
    parser.add_argument("--body", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.body is not None:
        _measure_body(arguments.body, arguments.path)
        return
    _bodies()
    if not arguments.no_cli:
        _cli(arguments.jsonl_mib)


if __name__ == "__main__":
    main()
