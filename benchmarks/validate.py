"""Side-by-side cost of validating protocol payloads: ours vs pydantic, msgspec and typeguard.

Not a test. Run: ``python benchmarks/validate.py [--rounds N]``. In one process, the libraries
take turns on each payload (round-robin, best of the rounds), so machine noise hits all alike.
Prints microseconds per call and each peer's time divided by ours (> 1: we are faster), then the
cost of rejecting an invalid payload (3 issues, every one collected) against accepting a valid one.
``SAGELLM_PROTOCOL_PURE_PYTHON=1`` times the pure-Python list checks instead of the C extension.
"""

import argparse
import copy
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from sagellm_protocol.core import Request, Response, StreamEventDelta
from sagellm_protocol.kv.operations import KVCacheMigrateResponse
from sagellm_protocol.openai import ChatCompletionRequest
from sagellm_protocol.validation import ValidationError, validate
from sagellm_protocol.validation._compile import native_lists

Payload = tuple[str, Any, dict[str, Any], Callable[[dict[str, Any]], None]]


def _uuid(i: int) -> str:
    return str(uuid.UUID(int=i * 7919 + 1))


def delta() -> dict[str, Any]:
    return {
        "event": "delta",
        "request_id": "req-3f2a",
        "trace_id": "trace-91c0",
        "engine_id": "engine-0",
        "content": " the",
        "content_tokens": [279],
    }


def request() -> dict[str, Any]:
    return {
        "request_id": "req-3f2a",
        "trace_id": "trace-91c0",
        "model": "qwen2.5-7b-instruct",
        "prompt": "Explain KV-cache migration between a prefill and a decode engine. " * 4,
        "max_tokens": 256,
        "stream": True,
        "temperature": 0.7,
        "top_p": 0.9,
        "kv_budget_tokens": 4096,
        "metadata": {"tenant": "acme", "priority": 2},
        "phase": "prefill",
        "rank": 0,
        "world_size": 2,
    }


def response() -> dict[str, Any]:
    t0 = 1_767_225_600.0
    metrics = {
        "ttft_ms": 41.5,
        "tbt_ms": 12.25,
        "tpot_ms": 12.5,
        "throughput_tps": 80.0,
        "peak_mem_mb": 15_360,
        "error_rate": 0.0,
        "kv_used_tokens": 2_048,
        "kv_used_bytes": 268_435_456,
        "prefix_hit_rate": 0.25,
        "evict_count": 0,
        "evict_ms": 0.0,
        "spec_accept_rate": 0.0,
        "prefill_ms": 40.0,
        "decode_ms": 1_600.0,
        "kv_transfer_count": 1,
        "kv_transfer_bytes": 1_048_576,
        "kv_transfer_ms": 3.5,
        "comm_overhead_ms": 0.75,
        "allreduce_count": 64,
        "allgather_count": 0,
        "itl_list": [12.0 + (i % 7) * 0.125 for i in range(128)],
        "timestamps": {
            "queued_at": t0,
            "scheduled_at": t0 + 0.002,
            "executed_at": t0 + 0.0415,
            "completed_at": t0 + 1.64,
        },
        "component_trace": ["sagellm-gateway", "sagellm-core", "sagellm-backend"],
    }
    return {
        "request_id": "req-3f2a",
        "trace_id": "trace-91c0",
        "output_text": "KV-cache migration moves attention state between engines. " * 8,
        "output_tokens": [1_000 + i * 37 % 30_000 for i in range(128)],
        "prompt_tokens": 57,
        "finish_reason": "length",
        "metrics": metrics,
        "error": None,
    }


def chat() -> dict[str, Any]:
    roles = ["system", "user", "assistant", "user", "assistant", "user", "assistant", "user"]
    return {
        "model": "qwen2.5-7b-instruct",
        "messages": [
            {"role": role, "content": f"Message {i}: how do prefill and decode share a cache?"}
            for i, role in enumerate(roles)
        ],
        "temperature": 0.7,
        "max_tokens": 512,
        "stream": False,
        "top_p": 0.95,
        "n": 1,
        "stop": ["</s>"],
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "user": "user-42",
    }


def migrate() -> dict[str, Any]:
    metadata = [
        {
            "transfer_id": _uuid(i),
            "request_id": "req-3f2a",
            "trace_id": "trace-91c0",
            "layer_start": i,
            "layer_end": i + 1,
            "token_start": 0,
            "token_end": 2_048,
            "num_heads": 32,
            "head_dim": 128,
            "dtype": "fp16",
            "layout": "paged",
            "shard_id": 0,
            "shard_count": 1,
            "offset": i * 16_777_216,
            "length": 16_777_216,
            "is_compressed": False,
            "compression_type": "none",
            "original_size": 16_777_216,
            "checksum": None,
            "total_bytes": 16_777_216,
            "direction": "send",
            "source_device": "cuda:0",
            "target_device": "cuda:1",
            "status": "completed",
            "created_at": 1_767_225_600.0,
            "started_at": 1_767_225_600.5,
            "completed_at": 1_767_225_601.0,
        }
        for i in range(32)
    ]
    return {
        "request_id": "req-3f2a",
        "trace_id": "trace-91c0",
        "success": True,
        "migrated_handles": [_uuid(100 + i) for i in range(4)],
        "failed_handles": [],
        "handle_mapping": {_uuid(100 + i): _uuid(200 + i) for i in range(4)},
        "transferred_tokens": 8_192,
        "transferred_bytes": 536_870_912,
        "compressed_bytes": 0,
        "transfer_metadata": metadata,
        "transfer_latency_ms": 500.0,
        "transfer_bandwidth_mbps": 1_024.0,
        "transfer_status": "completed",
        "errors": {},
        "timestamp": 1_767_225_601.0,
    }


def _break_delta(v: dict[str, Any]) -> None:
    v["content_tokens"] = [279, True]
    del v["engine_id"]
    v["extra"] = 1


def _break_request(v: dict[str, Any]) -> None:
    v["max_tokens"] = 0
    v["temperature"] = 2.5
    v["rank"] = -1


def _break_response(v: dict[str, Any]) -> None:
    v["metrics"]["itl_list"][3] = math.nan
    v["output_tokens"][100] = "x"
    v["finish_reason"] = "errored"


def _break_chat(v: dict[str, Any]) -> None:
    v["messages"][5]["role"] = "robot"
    v["messages"][7]["content"] = None  # a user message needs content (assistant ones may lack it)
    v["top_p"] = 1.5


def _break_migrate(v: dict[str, Any]) -> None:
    v["transfer_metadata"][30]["target_device"] = "CUDA:1"
    v["transfer_metadata"][7]["layer_end"] = -1
    v["transferred_bytes"] = -5


PAYLOADS: list[Payload] = [
    ("StreamEventDelta", StreamEventDelta, delta(), _break_delta),
    ("Request", Request, request(), _break_request),
    ("Response (128 tokens, full Metrics)", Response, response(), _break_response),
    ("ChatCompletionRequest (8 messages)", ChatCompletionRequest, chat(), _break_chat),
    ("KVCacheMigrateResponse (32 transfers)", KVCacheMigrateResponse, migrate(), _break_migrate),
]


def _per_call(fn: Callable[[], object], budget: float = 0.02) -> float:
    """Seconds per call of ``fn``: calls in a batch sized to take about ``budget`` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= budget / 4:
            break
        number *= 4
    number = max(1, int(number * budget / elapsed))
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _runners(tp: Any, value: dict[str, Any]) -> dict[str, Callable[[], object] | str]:
    # Imported here, not with the payloads: the callgrind scripts import PAYLOADS alone.
    import msgspec
    import typeguard
    from pydantic import TypeAdapter

    adapter = TypeAdapter(tp)
    runners: dict[str, Callable[[], object] | str] = {
        "ours": lambda: validate(tp, value),
        "pydantic": lambda: adapter.validate_python(value, strict=True),
    }
    try:
        msgspec.convert(value, tp)
        runners["msgspec"] = lambda: msgspec.convert(value, tp)
    except (TypeError, msgspec.ValidationError) as error:
        runners["msgspec"] = f"n/a ({type(error).__name__}: {str(error)[:40]})"
    check = typeguard.CollectionCheckStrategy.ALL_ITEMS
    runners["typeguard"] = lambda: typeguard.check_type(value, tp, collection_check_strategy=check)
    return runners


def _invalid_runner(tp: Any, value: dict[str, Any]) -> Callable[[], object]:
    def run() -> None:
        try:
            validate(tp, value)
        except ValidationError:
            return
        raise AssertionError("the broken payload passed")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="round-robin rounds (best kept)")
    args = parser.parse_args()

    rows = []
    for label, tp, value, breaker in PAYLOADS:
        validate(tp, value)
        runners = _runners(tp, value)
        broken = copy.deepcopy(value)
        breaker(broken)
        try:
            validate(tp, broken)
        except ValidationError as error:
            issues = len(error.issues)
        runners["ours, invalid"] = _invalid_runner(tp, broken)
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for name, run in runners.items():
                if callable(run):
                    best[name] = min(best.get(name, math.inf), _per_call(run))
        rows.append((label, runners, best, issues))

    names = ["ours", "pydantic", "msgspec", "typeguard"]
    print(f"list checks: {'C extension' if native_lists() else 'pure Python'}")
    print(
        f"{'payload':40s}" + "".join(f"{n + ' µs':>13s}" for n in names) + "   ratios (peer / ours)"
    )
    ratios: dict[str, list[float]] = {n: [] for n in names[1:]}
    for label, _, best, _ in rows:
        cells = []
        for name in names:
            cells.append(f"{best[name] * 1e6:13.2f}" if name in best else f"{'n/a':>13s}")
        text = []
        for name in names[1:]:
            if name in best:
                ratio = best[name] / best["ours"]
                ratios[name].append(ratio)
                text.append(f"{name} {ratio:6.2f}x")
        print(f"{label:40s}" + "".join(cells) + "   " + "  ".join(text))
    print()
    for name, values in ratios.items():
        if values:
            geomean = math.exp(sum(map(math.log, values)) / len(values))
            print(f"geometric mean of {name} / ours over {len(values)} payloads: {geomean:.2f}x")
    for label, runners, _, _ in rows:
        for name, run in runners.items():
            if isinstance(run, str):
                print(f"{name} on {label}: {run}")
    print()
    print(f"{'invalid payload':40s}{'issues':>8s}{'valid µs':>12s}{'invalid µs':>12s}{'ratio':>9s}")
    for label, _, best, issues in rows:
        ratio = best["ours, invalid"] / best["ours"]
        print(
            f"{label:40s}{issues:8d}{best['ours'] * 1e6:12.2f}"
            f"{best['ours, invalid'] * 1e6:12.2f}{ratio:8.2f}x"
        )


if __name__ == "__main__":
    main()
