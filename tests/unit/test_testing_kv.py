"""InMemoryKVCache and the reference eviction, lifetime and scheduling implementations."""

import json
import re
from typing import Any, cast

import pytest
from pydantic import TypeAdapter

from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.core import ErrorCode
from sagellm_protocol.kv.enums import EvictionPolicy
from sagellm_protocol.kv.errors import KVErrorCode
from sagellm_protocol.kv.hooks import KVAllocateParams, KVHookPayload
from sagellm_protocol.kv.hooks import KVHandle as KVHookHandle
from sagellm_protocol.kv.operations import (
    KVCacheAllocateRequest,
    KVCacheAllocateResponse,
    KVCacheEvictRequest,
    KVCacheEvictResponse,
    KVCacheFreeResponse,
    KVCacheMigrateRequest,
    KVCacheMigrateResponse,
)
from sagellm_protocol.kv.protocols import (
    EvictionStrategy,
    KVCacheError,
    KVCacheManager,
    KVCacheService,
    KVHook,
    LifetimePredictor,
    SchedulerPolicy,
)
from sagellm_protocol.kv.types import (
    EvictionCandidate,
    KVHandle,
    KVPoolStats,
    LifetimePrediction,
    SchedulerPlan,
    SchedulerRequest,
)
from sagellm_protocol.testing.kv import (
    ConstantLifetimePredictor,
    FCFSSchedulerPolicy,
    FIFOEvictionStrategy,
    InMemoryKVCache,
    LFUEvictionStrategy,
    LRUEvictionStrategy,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
BPT = 4  # bytes per token in every test pool


class Clock:
    """A settable clock (Unix seconds)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def assert_valid(tp: Any, value: Any) -> None:
    """``value`` is a complete payload of ``tp``: every key, typed, in range, JSON-safe."""
    assert set(value) == tp.__required_keys__ | tp.__optional_keys__
    TypeAdapter(tp).validate_python(value, strict=True)
    assert [issue for check in INVARIANTS.get(tp, []) for issue in check(value)] == []
    assert json.loads(json.dumps(value)) == value


def assert_consistent(stats: KVPoolStats, block_size: int = 16) -> None:
    """The pool's numbers add up."""
    assert_valid(KVPoolStats, stats)
    assert stats["allocated_tokens"] + stats["available_tokens"] == stats["total_tokens"]
    assert stats["allocated_bytes"] == stats["allocated_tokens"] * BPT
    assert stats["available_bytes"] == stats["available_tokens"] * BPT
    assert stats["total_bytes"] == stats["total_tokens"] * BPT
    assert stats["allocated_blocks"] + stats["free_blocks"] == stats["total_blocks"]
    assert stats["allocated_blocks"] * block_size == stats["allocated_tokens"]
    assert stats["pinned_blocks"] <= stats["allocated_blocks"]


def make(total_tokens: int = 64, **options: Any) -> tuple[InMemoryKVCache, Clock]:
    clock = Clock()
    return InMemoryKVCache(total_tokens, bytes_per_token=BPT, clock=clock, **options), clock


def alloc(request_id: str, num_tokens: int, **extra: Any) -> KVCacheAllocateRequest:
    return cast(
        KVCacheAllocateRequest,
        {
            "request_id": request_id,
            "trace_id": "t-" + request_id,
            "num_tokens": num_tokens,
            **extra,
        },
    )


def params(request_id: str, num_tokens: int, block_size: int = 16) -> KVAllocateParams:
    return {
        "request_id": request_id,
        "num_tokens": num_tokens,
        "kv_dtype": "bf16",
        "layout": "bshd",
        "block_size": block_size,
    }


def allocated(cache: InMemoryKVCache, request: KVCacheAllocateRequest) -> KVHandle:
    response = cache.allocate(request)
    assert response["success"], response
    handle = response["handle"]
    assert handle is not None
    return handle


def free_request(*handle_ids: str, **extra: Any) -> Any:
    return {"request_id": "f", "trace_id": "t-f", "handle_ids": list(handle_ids), **extra}


def evict_request(**extra: Any) -> KVCacheEvictRequest:
    return cast(KVCacheEvictRequest, {"request_id": "e", "trace_id": "t-e", **extra})


def migrate_request(*handle_ids: str, **extra: Any) -> KVCacheMigrateRequest:
    return cast(
        KVCacheMigrateRequest,
        {
            "request_id": "m",
            "trace_id": "t-m",
            "handle_ids": list(handle_ids),
            "source_device": "cpu",
            "target_device": "cuda:1",
            **extra,
        },
    )


def error(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "retryable": False}


# -- protocols -------------------------------------------------------------------------------


def test_reference_implementations_pass_runtime_protocol_checks() -> None:
    cache, _ = make()
    assert isinstance(cache, KVCacheManager)
    assert isinstance(cache, KVCacheService)
    for strategy in (LRUEvictionStrategy(), LFUEvictionStrategy(), FIFOEvictionStrategy()):
        assert isinstance(strategy, EvictionStrategy)
    assert isinstance(ConstantLifetimePredictor(), LifetimePredictor)
    assert isinstance(FCFSSchedulerPolicy(), SchedulerPolicy)
    payloads: list[KVHookPayload] = []
    assert isinstance(payloads.append, KVHook)
    assert not isinstance(object(), KVCacheService)


def test_kv_cache_error_carries_code_and_maps_to_protocol_error() -> None:
    failure = KVCacheError("KV_POOL_FULL", "no room")
    assert failure.code is KVErrorCode.POOL_FULL
    assert failure.detail == "no room"
    assert str(failure) == "KV_POOL_FULL: no room"
    assert failure.retryable is False
    assert failure.to_error() == error(ErrorCode.RESOURCE_EXHAUSTED, "KV_POOL_FULL: no room")
    timeout = KVCacheError(KVErrorCode.TRANSFER_TIMEOUT, "slow link").to_error()
    assert timeout == {
        "code": ErrorCode.DEADLINE_EXCEEDED,
        "message": "KV_TRANSFER_TIMEOUT: slow link",
        "retryable": True,
    }


@pytest.mark.parametrize("code", list(KVErrorCode))
def test_every_kv_error_code_maps_to_a_protocol_error(code: KVErrorCode) -> None:
    converted = KVCacheError(code, "detail").to_error()
    assert converted["code"] in set(ErrorCode)
    assert converted["message"] == f"{code.value}: detail"


# -- construction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ((64,), {"block_size": 0}, "block_size must be > 0, got 0"),
        ((0,), {}, "total_tokens must be a positive multiple of block_size 16, got 0"),
        ((40,), {}, "total_tokens must be a positive multiple of block_size 16, got 40"),
        ((64,), {"bytes_per_token": 0}, "bytes_per_token must be > 0, got 0"),
        (
            (64,),
            {"default_device": "CUDA:0"},
            "default_device must be a device string like 'cuda:0', got 'CUDA:0'",
        ),
    ],
)
def test_impossible_pools_are_rejected(
    args: tuple[int], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        InMemoryKVCache(*args, **options)


def test_new_pool_stats() -> None:
    cache, clock = make(64)
    clock.now = 1234.5
    assert cache.stats() == {
        "total_tokens": 64,
        "allocated_tokens": 0,
        "available_tokens": 64,
        "total_bytes": 256,
        "allocated_bytes": 0,
        "available_bytes": 256,
        "total_blocks": 4,
        "allocated_blocks": 0,
        "free_blocks": 4,
        "pinned_blocks": 0,
        "alloc_count": 0,
        "free_count": 0,
        "alloc_fail_count": 0,
        "pin_count": 0,
        "unpin_count": 0,
        "timestamp": 1234.5,
    }


# -- allocate --------------------------------------------------------------------------------


def test_service_allocate_rounds_up_to_blocks_and_fills_the_handle() -> None:
    cache, _ = make(64)
    response = cache.allocate(
        alloc("r1", 10, session_id="s1", device="cuda:0", memory_tier="gpu", rank=2)
    )
    assert_valid(KVCacheAllocateResponse, response)
    handle = response["handle"]
    assert handle is not None
    assert_valid(KVHandle, handle)
    assert UUID.fullmatch(handle["handle_id"])
    assert {k: v for k, v in handle.items() if k != "handle_id"} == {
        "request_id": "r1",
        "session_id": "s1",
        "num_tokens": 16,
        "token_start": 0,
        "token_end": 10,
        "dtype": "fp16",
        "layout": "contiguous",
        "device": "cuda:0",
        "memory_tier": "gpu",
        "state": "allocated",
        "pin_count": 0,
        "ref_count": 1,
        "last_access": 1000.0,
        "access_count": 0,
        "created_at": 1000.0,
        "metadata": {},
        "is_compressed": False,
        "compression_type": "none",
        "prefix_hash": None,
        "rank": 2,
        "placement": None,
        "source_rank": None,
        "transfer_id": None,
        "is_transferring": False,
    }
    assert {k: v for k, v in response.items() if k != "handle"} == {
        "request_id": "r1",
        "trace_id": "t-r1",
        "success": True,
        "allocated_tokens": 16,
        "allocated_bytes": 64,
        "actual_device": "cuda:0",
        "actual_memory_tier": "gpu",
        "prefix_hit": False,
        "prefix_hit_len": 0,
        "reused_bytes": 0,
        "error": None,
        "timestamp": 1000.0,
    }
    # The response is a copy: changing it does not change the pool.
    handle["num_tokens"] = 0
    assert cache.stats()["allocated_tokens"] == 16


def test_allocate_until_full_fails_with_resource_exhausted() -> None:
    cache, _ = make(64)
    for index, expected in enumerate([16, 32, 48, 64]):
        allocated(cache, alloc(f"r{index}", 16))
        stats = cache.stats()
        assert_consistent(stats)
        assert stats["allocated_tokens"] == expected
    response = cache.allocate(alloc("late", 1))
    assert_valid(KVCacheAllocateResponse, response)
    assert response == {
        "request_id": "late",
        "trace_id": "t-late",
        "success": False,
        "handle": None,
        "allocated_tokens": 0,
        "allocated_bytes": 0,
        "actual_device": None,
        "actual_memory_tier": None,
        "prefix_hit": False,
        "prefix_hit_len": 0,
        "reused_bytes": 0,
        "error": error(
            ErrorCode.RESOURCE_EXHAUSTED, "KV_POOL_FULL: 1 tokens need 1 blocks of 16, 0 free"
        ),
        "timestamp": 1000.0,
    }
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["alloc_count"], stats["alloc_fail_count"], stats["free_blocks"]) == (4, 1, 0)
    cache.allocate(alloc("later", 1))
    assert cache.stats()["alloc_fail_count"] == 2


def test_allocate_beyond_capacity_is_budget_exceeded() -> None:
    cache, _ = make(64)
    response = cache.allocate(alloc("huge", 65))
    assert response["error"] == error(
        ErrorCode.RESOURCE_EXHAUSTED,
        "KV_BUDGET_EXCEEDED: 65 tokens need 5 blocks of 16, more than the pool's 4",
    )
    assert cache.stats()["alloc_fail_count"] == 1


def test_manager_allocate_returns_a_small_handle_and_raises_when_full() -> None:
    cache, _ = make(64, default_device="cuda:0")
    small = cache.allocate(params("r1", 40))
    assert_valid(KVHookHandle, small)
    assert UUID.fullmatch(small["handle_id"])
    assert {k: v for k, v in small.items() if k != "handle_id"} == {
        "request_id": "r1",
        "num_tokens": 48,
        "device": "cuda:0",
    }
    full = cache.handle(small["handle_id"])
    assert (full["dtype"], full["layout"], full["memory_tier"]) == ("bf16", "bshd", "gpu")
    with pytest.raises(KVCacheError) as raised:
        cache.allocate(params("r2", 17))
    assert str(raised.value) == "KV_POOL_FULL: 17 tokens need 2 blocks of 16, 1 free"
    assert raised.value.code is KVErrorCode.POOL_FULL
    with pytest.raises(KVCacheError) as raised:
        cache.allocate(params("r3", 8, block_size=32))
    assert str(raised.value) == (
        "KV_CONFIG_INVALID: block_size 32 differs from the pool's block size 16"
    )
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["alloc_count"], stats["alloc_fail_count"]) == (1, 2)


def test_pin_on_allocate_pins_and_counts() -> None:
    cache, _ = make(64)
    handle = allocated(cache, alloc("r1", 20, pin_on_allocate=True))
    assert (handle["pin_count"], handle["state"]) == (1, "pinned")
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["pinned_blocks"], stats["pin_count"]) == (2, 1)


# -- free ------------------------------------------------------------------------------------


def test_service_free_releases_and_reports_double_and_unknown_frees() -> None:
    cache, _ = make(64)
    first = allocated(cache, alloc("r1", 20))["handle_id"]
    second = allocated(cache, alloc("r2", 5))["handle_id"]
    unknown = "00000000-0000-4000-8000-000000000000"
    response = cache.free(free_request(first))
    assert_valid(KVCacheFreeResponse, response)
    assert response == {
        "request_id": "f",
        "trace_id": "t-f",
        "success": True,
        "freed_handles": [first],
        "failed_handles": [],
        "freed_tokens": 32,
        "freed_bytes": 128,
        "errors": {},
        "timestamp": 1000.0,
    }
    response = cache.free(free_request(first, second, unknown))
    assert_valid(KVCacheFreeResponse, response)
    assert response["success"] is False
    assert response["freed_handles"] == [second]
    assert response["failed_handles"] == [first, unknown]
    assert (response["freed_tokens"], response["freed_bytes"]) == (16, 64)
    assert response["errors"] == {
        first: error(
            ErrorCode.INVALID_ARGUMENT, f"KV_DOUBLE_FREE: handle {first} was already freed"
        ),
        unknown: error(
            ErrorCode.INVALID_ARGUMENT, f"KV_HANDLE_NOT_FOUND: no live handle {unknown}"
        ),
    }
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["allocated_tokens"], stats["free_count"]) == (0, 2)


def test_pinned_handle_needs_force_to_be_freed() -> None:
    cache, _ = make(64)
    handle_id = allocated(cache, alloc("r1", 16))["handle_id"]
    cache.pin(handle_id)
    response = cache.free(free_request(handle_id))
    assert response["errors"] == {
        handle_id: error(
            ErrorCode.INVALID_ARGUMENT,
            f"KV_HANDLE_PINNED: handle {handle_id} is pinned (pin_count 1)",
        )
    }
    assert cache.stats()["allocated_tokens"] == 16
    assert cache.free(free_request(handle_id, force=True))["freed_handles"] == [handle_id]
    assert cache.stats()["allocated_tokens"] == 0


def test_keep_in_cache_is_not_implemented() -> None:
    cache, _ = make(64)
    handle_id = allocated(cache, alloc("r1", 16))["handle_id"]
    response = cache.free(free_request(handle_id, keep_in_cache=True))
    assert response["errors"] == {
        handle_id: {
            "code": ErrorCode.NOT_IMPLEMENTED,
            "message": "KV_NOT_IMPLEMENTED: keep_in_cache needs a prefix cache,"
            " which InMemoryKVCache does not have",
            "retryable": False,
        }
    }
    assert cache.stats()["allocated_tokens"] == 16


def test_manager_free_raises_on_pinned_double_and_unknown_handles() -> None:
    cache, _ = make(64)
    small = cache.allocate(params("r1", 16))
    handle_id = small["handle_id"]
    cache.pin(handle_id)
    with pytest.raises(KVCacheError, match=f"^KV_HANDLE_PINNED: handle {handle_id} is pinned"):
        cache.free({"kv_handle": small})
    cache.free({"kv_handle": small, "force": True})
    with pytest.raises(KVCacheError) as raised:
        cache.free({"kv_handle": small})
    assert raised.value.code is KVErrorCode.DOUBLE_FREE
    stranger: KVHookHandle = {**small, "handle_id": "not-ours"}
    with pytest.raises(KVCacheError) as raised:
        cache.free({"kv_handle": stranger})
    assert str(raised.value) == "KV_HANDLE_NOT_FOUND: no live handle not-ours"
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["free_count"], stats["pin_count"], stats["unpin_count"]) == (1, 1, 0)


def test_pin_and_unpin() -> None:
    cache, _ = make(64)
    handle_id = allocated(cache, alloc("r1", 16))["handle_id"]
    cache.pin(handle_id)
    cache.pin(handle_id)
    assert cache.handle(handle_id)["pin_count"] == 2
    cache.unpin(handle_id)
    cache.unpin(handle_id)
    assert (cache.handle(handle_id)["pin_count"], cache.handle(handle_id)["state"]) == (
        0,
        "allocated",
    )
    with pytest.raises(KVCacheError, match=f"^KV_REF_COUNT_UNDERFLOW: handle {handle_id} is not"):
        cache.unpin(handle_id)
    stats = cache.stats()
    assert (stats["pin_count"], stats["unpin_count"]) == (2, 2)


# -- evict -----------------------------------------------------------------------------------


def three_handles(cache: InMemoryKVCache, clock: Clock) -> list[str]:
    """a, b, c created at 1, 2, 3; accessed so LRU = b, c, a; LFU = c, a, b; FIFO = a, b, c."""
    ids = []
    for name, created in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
        clock.now = created
        ids.append(allocated(cache, alloc(name, 16))["handle_id"])
    a, b, c = ids
    for handle_id, at in ((b, 4.0), (a, 5.0), (b, 6.0), (c, 7.0), (a, 8.0), (b, 9.0)):
        clock.now = at
        cache.access(handle_id)
    # last access: a 8, b 9, c 7 -> LRU c, a, b.  counts: a 2, b 3, c 1 -> LFU c, a, b.
    clock.now = 10.0
    return ids


@pytest.mark.parametrize(
    ("policy", "order"),
    [("lru", "cab"), ("lfu", "cab"), ("fifo", "abc")],
)
def test_eviction_order_follows_the_policy(policy: str, order: str) -> None:
    cache, clock = make(64)
    ids = dict(zip("abc", three_handles(cache, clock), strict=True))
    evicted: list[str] = []
    for _ in range(3):
        response = cache.evict(evict_request(target_tokens=1, eviction_policy=policy))
        assert_valid(KVCacheEvictResponse, response)
        evicted += response["evicted_handles"]
    assert evicted == [ids[name] for name in order]


def test_lru_and_lfu_disagree_when_recency_and_frequency_differ() -> None:
    cache, clock = make(64)
    clock.now = 1.0
    often = allocated(cache, alloc("often", 16))["handle_id"]
    recent = allocated(cache, alloc("recent", 16))["handle_id"]
    for at in (2.0, 3.0, 4.0):
        clock.now = at
        cache.access(often)
    clock.now = 5.0
    cache.access(recent)
    assert cache.evict(evict_request(target_tokens=1))["evicted_handles"] == [often]
    cache2, clock2 = make(64)
    clock2.now = 1.0
    often2 = allocated(cache2, alloc("often", 16))["handle_id"]
    recent2 = allocated(cache2, alloc("recent", 16))["handle_id"]
    for at in (2.0, 3.0):
        clock2.now = at
        cache2.access(often2)
    clock2.now = 5.0
    cache2.access(recent2)
    lfu = cache2.evict(evict_request(target_tokens=1, eviction_policy="lfu"))
    assert lfu["evicted_handles"] == [recent2]


def test_evict_takes_the_fewest_victims_for_the_target() -> None:
    cache, clock = make(128)
    ids = three_handles(cache, clock)
    response = cache.evict(evict_request(target_bytes=65, eviction_policy="fifo"))
    assert_valid(KVCacheEvictResponse, response)
    assert {k: v for k, v in response.items() if k != "eviction_latency_ms"} == {
        "request_id": "e",
        "trace_id": "t-e",
        "success": True,
        "evicted_handles": ids[:2],
        "evicted_tokens": 32,
        "evicted_bytes": 128,
        "eviction_count": 2,
        "error": None,
        "timestamp": 10.0,
    }
    assert response["eviction_latency_ms"] >= 0
    assert_consistent(cache.stats())
    assert [h["handle_id"] for h in cache.handles()] == ids[2:]


def test_pinned_handles_are_not_evicted_unless_overridden() -> None:
    cache, clock = make(64)
    a, b, c = three_handles(cache, clock)
    cache.pin(c)  # the LRU victim
    assert cache.evict(evict_request(target_tokens=16))["evicted_handles"] == [a]
    assert cache.stats()["pinned_blocks"] == 1
    cache.pin(b)
    response = cache.evict(evict_request(target_tokens=16))
    assert_valid(KVCacheEvictResponse, response)
    assert response["success"] is False
    assert response["evicted_handles"] == []
    assert response["error"] == error(
        ErrorCode.RESOURCE_EXHAUSTED, "KV_ALL_PINNED: every handle in scope is pinned"
    )
    overridden = cache.evict(evict_request(target_tokens=16, allow_pin_override=True))
    assert overridden["evicted_handles"] == [c]
    assert_consistent(cache.stats())


def test_eviction_that_cannot_meet_its_target_evicts_nothing() -> None:
    cache, clock = make(64)
    a, _, _ = three_handles(cache, clock)
    response = cache.evict(
        evict_request(target_tokens=40, target_bytes=100, exclude_handle_ids=[a])
    )
    assert response["error"] == error(
        ErrorCode.RESOURCE_EXHAUSTED,
        "KV_EVICTION_FAILED: evictable handles hold 32 tokens and 128 bytes,"
        " short of the target of 40 tokens and 100 bytes",
    )
    assert len(cache.handles()) == 3


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {},
            error(
                ErrorCode.INVALID_ARGUMENT,
                "KV_CONFIG_INVALID: an eviction needs target_tokens or target_bytes",
            ),
        ),
        (
            {"target_tokens": 1, "eviction_policy": "ttl"},
            error(
                ErrorCode.NOT_IMPLEMENTED,
                "KV_NOT_IMPLEMENTED: no eviction strategy for policy 'ttl' (have: fifo, lfu, lru)",
            ),
        ),
        (
            {"target_tokens": 1, "device": "cuda:0"},
            error(ErrorCode.RESOURCE_EXHAUSTED, "KV_NO_VICTIM: no handle in scope to evict"),
        ),
        (
            {"target_tokens": 1, "memory_tier": "gpu"},
            error(ErrorCode.RESOURCE_EXHAUSTED, "KV_NO_VICTIM: no handle in scope to evict"),
        ),
        (
            {"target_tokens": 1, "exclude_session_ids": ["s"]},
            error(ErrorCode.RESOURCE_EXHAUSTED, "KV_NO_VICTIM: no handle in scope to evict"),
        ),
    ],
)
def test_evict_failures(extra: dict[str, Any], expected: dict[str, Any]) -> None:
    cache, _ = make(64)
    allocated(cache, alloc("r1", 16, session_id="s"))
    response = cache.evict(evict_request(**extra))
    assert_valid(KVCacheEvictResponse, response)
    assert (response["success"], response["error"]) == (False, expected)
    assert len(cache.handles()) == 1


def test_evict_scope_by_device() -> None:
    cache, _ = make(64)
    allocated(cache, alloc("host", 16))
    gpu = allocated(cache, alloc("gpu", 16, device="cuda:0", memory_tier="gpu"))["handle_id"]
    response = cache.evict(evict_request(target_tokens=1, device="cuda:0"))
    assert response["evicted_handles"] == [gpu]


def test_pool_with_custom_strategies_only_serves_their_policies() -> None:
    cache, _ = make(64, strategies=[FIFOEvictionStrategy()])
    allocated(cache, alloc("r1", 16))
    response = cache.evict(evict_request(target_tokens=1))
    assert response["error"] == error(
        ErrorCode.NOT_IMPLEMENTED,
        "KV_NOT_IMPLEMENTED: no eviction strategy for policy 'lru' (have: fifo)",
    )


def test_manager_evict_drops_or_offloads() -> None:
    cache, _ = make(64)
    dropped = cache.allocate(params("r1", 16))
    offloaded = cache.allocate(params("r2", 16))
    cache.evict({"kv_handle": dropped, "reason": "explicit_free"})
    with pytest.raises(KVCacheError, match=r"^KV_HANDLE_NOT_FOUND: "):
        cache.handle(dropped["handle_id"])
    cache.evict({"kv_handle": offloaded, "reason": "memory_pressure", "target_device": "cpu"})
    cache.evict({"kv_handle": offloaded, "reason": "ttl_expired", "target_device": "npu:0"})
    kept = cache.handle(offloaded["handle_id"])
    assert (kept["device"], kept["memory_tier"]) == ("npu:0", "gpu")
    cache.pin(offloaded["handle_id"])
    with pytest.raises(KVCacheError, match=r"^KV_HANDLE_PINNED: "):
        cache.evict({"kv_handle": offloaded, "reason": "memory_pressure"})
    with pytest.raises(KVCacheError, match=r"^KV_HANDLE_NOT_FOUND: "):
        cache.evict({"kv_handle": dropped, "reason": "memory_pressure"})
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["allocated_tokens"], stats["free_count"]) == (16, 0)


# -- migrate and prefetch --------------------------------------------------------------------


def test_service_migrate_moves_under_new_ids() -> None:
    cache, clock = make(64)
    first = allocated(cache, alloc("r1", 16, rank=0))
    second = allocated(cache, alloc("r2", 20))
    clock.now = 50.0
    response = cache.migrate(
        migrate_request(first["handle_id"], second["handle_id"], target_rank=3)
    )
    assert_valid(KVCacheMigrateResponse, response)
    mapping = response["handle_mapping"]
    assert list(mapping) == [first["handle_id"], second["handle_id"]]
    assert all(UUID.fullmatch(new) for new in mapping.values())
    assert set(mapping.values()).isdisjoint(mapping)
    assert {
        k: v for k, v in response.items() if k not in ("handle_mapping", "transfer_latency_ms")
    } == {
        "request_id": "m",
        "trace_id": "t-m",
        "success": True,
        "migrated_handles": [first["handle_id"], second["handle_id"]],
        "failed_handles": [],
        "transferred_tokens": 48,
        "transferred_bytes": 192,
        "compressed_bytes": 0,
        "transfer_metadata": [],
        "transfer_bandwidth_mbps": 0.0,
        "transfer_status": "completed",
        "errors": {},
        "timestamp": 50.0,
    }
    moved = cache.handle(mapping[first["handle_id"]])
    assert_valid(KVHandle, moved)
    assert moved == {
        **first,
        "handle_id": mapping[first["handle_id"]],
        "device": "cuda:1",
        "memory_tier": "gpu",
        "rank": 3,
        "source_rank": 0,
        "placement": "migrated",
    }
    with pytest.raises(KVCacheError, match=r"^KV_HANDLE_NOT_FOUND: "):
        cache.handle(first["handle_id"])
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["allocated_tokens"], stats["alloc_count"], stats["free_count"]) == (48, 2, 0)


def test_migrate_keep_source_copies_when_there_is_room() -> None:
    cache, _ = make(64)
    source = allocated(cache, alloc("r1", 16, pin_on_allocate=True))["handle_id"]
    response = cache.migrate(
        migrate_request(source, keep_source=True, pin_on_arrival=True, target_memory_tier="cxl")
    )
    copy_id = response["handle_mapping"][source]
    assert cache.handle(source)["pin_count"] == 1
    copied = cache.handle(copy_id)
    assert (copied["pin_count"], copied["state"], copied["memory_tier"]) == (1, "pinned", "cxl")
    stats = cache.stats()
    assert_consistent(stats)
    assert (stats["allocated_tokens"], stats["pinned_blocks"], stats["pin_count"]) == (32, 2, 2)
    big = allocated(cache, alloc("r2", 32))["handle_id"]
    full = cache.migrate(migrate_request(big, keep_source=True))
    assert_valid(KVCacheMigrateResponse, full)
    assert (full["success"], full["transfer_status"], full["failed_handles"]) == (
        False,
        "failed",
        [big],
    )
    assert full["errors"] == {
        big: error(
            ErrorCode.RESOURCE_EXHAUSTED,
            f"KV_POOL_FULL: a copy of handle {big} needs 2 blocks, 0 free",
        )
    }


def test_migrate_reports_unknown_and_misplaced_handles() -> None:
    cache, _ = make(64)
    on_host = allocated(cache, alloc("r1", 16))["handle_id"]
    on_gpu = allocated(cache, alloc("r2", 16, device="cuda:0"))["handle_id"]
    unknown = "00000000-0000-4000-8000-000000000001"
    response = cache.migrate(migrate_request(on_gpu, unknown, on_host))
    assert_valid(KVCacheMigrateResponse, response)
    assert response["migrated_handles"] == [on_host]
    assert response["failed_handles"] == [on_gpu, unknown]
    assert response["transferred_tokens"] == 16
    assert response["errors"] == {
        on_gpu: error(
            ErrorCode.INVALID_ARGUMENT,
            f"KV_METADATA_MISMATCH: handle {on_gpu} is on cuda:0, not on source_device cpu",
        ),
        unknown: error(
            ErrorCode.INVALID_ARGUMENT, f"KV_HANDLE_NOT_FOUND: no live handle {unknown}"
        ),
    }


def test_manager_migrate_and_prefetch() -> None:
    cache, clock = make(64)
    small = cache.allocate(params("r1", 16))
    moved = cache.migrate({"kv_handle": small, "target_device": "cuda:2"})
    assert moved["handle_id"] != small["handle_id"]
    assert {k: v for k, v in moved.items() if k != "handle_id"} == {
        "request_id": "r1",
        "num_tokens": 16,
        "device": "cuda:2",
    }
    with pytest.raises(KVCacheError, match=r"^KV_HANDLE_NOT_FOUND: "):
        cache.migrate({"kv_handle": small, "target_device": "cuda:2"})
    clock.now = 77.0
    cache.prefetch({"request_id": "r1", "kv_handle": moved, "target_device": "cpu"})
    fetched = cache.handle(moved["handle_id"])
    assert (fetched["device"], fetched["memory_tier"]) == ("cpu", "cpu")
    assert (fetched["last_access"], fetched["access_count"]) == (77.0, 1)
    with pytest.raises(KVCacheError, match=r"^KV_HANDLE_NOT_FOUND: "):
        cache.prefetch({"request_id": "r1", "kv_handle": small, "target_device": "cpu"})


# -- hooks -----------------------------------------------------------------------------------


def events(payloads: list[KVHookPayload]) -> list[tuple[str, str, bool]]:
    return [(p["event"], p["request_id"], p.get("success", True)) for p in payloads]


def test_hooks_see_before_and_after_each_operation_in_order() -> None:
    cache, _ = make(32)
    payloads: list[KVHookPayload] = []
    cache.register_hook(payloads.append)
    small = cache.allocate(params("r1", 16))
    handle_id = allocated(cache, alloc("r2", 16))["handle_id"]
    cache.allocate(alloc("r3", 16))
    cache.migrate({"kv_handle": small, "target_device": "cuda:0", "trace_id": "tm"})
    cache.free(free_request(handle_id, handle_id))
    cache.evict(evict_request(target_tokens=1))
    assert events(payloads) == [
        ("allocate_before", "r1", True),
        ("allocate_after", "r1", True),
        ("allocate_before", "r2", True),
        ("allocate_after", "r2", True),
        ("allocate_before", "r3", True),
        ("allocate_after", "r3", False),
        ("migrate_before", "r1", True),
        ("migrate_after", "r1", True),
        ("free_before", "r2", True),
        ("free_after", "r2", True),
        ("free_before", "f", True),
        ("free_after", "f", False),
        ("evict_before", "r1", True),
        ("evict_after", "r1", True),
    ]
    for payload in payloads:
        assert_valid(KVHookPayload, payload)
    assert payloads[0]["kv_handle"] is None
    assert payloads[1]["kv_handle"] == small
    assert payloads[5]["error_message"] == "KV_POOL_FULL: 16 tokens need 1 blocks of 16, 0 free"
    assert payloads[6]["kv_handle"] == small
    migrated = payloads[7]["kv_handle"]
    assert migrated is not None
    assert migrated["device"] == "cuda:0"
    assert (payloads[7]["trace_id"], payloads[7]["device"]) == ("tm", "cuda:0")
    assert payloads[11]["error_message"] == f"KV_DOUBLE_FREE: handle {handle_id} was already freed"
    assert payloads[12]["evict_reason"] == "memory_pressure"
    assert payloads[13]["kv_handle"] == migrated


def test_each_hook_gets_its_own_payload_and_hooks_can_be_removed() -> None:
    cache, _ = make(32)
    seen: list[str] = []

    def vandal(payload: KVHookPayload) -> None:
        payload["request_id"] = "changed"

    def recorder(payload: KVHookPayload) -> None:
        seen.append(payload["request_id"])

    cache.register_hook(vandal)
    cache.register_hook(recorder)
    with pytest.raises(ValueError, match=r"is already registered$"):
        cache.register_hook(recorder)
    cache.allocate(params("r1", 1))
    cache.unregister_hook(recorder)
    with pytest.raises(ValueError, match=r"is not registered$"):
        cache.unregister_hook(recorder)
    cache.allocate(params("r2", 1))
    assert seen == ["r1", "r1"]


def test_a_failing_before_hook_aborts_the_operation() -> None:
    cache, _ = make(32)

    def veto(payload: KVHookPayload) -> None:
        if payload["event"] == "allocate_before":
            raise RuntimeError("vetoed")

    cache.register_hook(veto)
    with pytest.raises(RuntimeError, match=r"^vetoed$"):
        cache.allocate(alloc("r1", 1))
    assert cache.stats()["alloc_count"] == 0


# -- strategies, predictor, scheduler --------------------------------------------------------


def candidate(name: str, score: float, tokens: int) -> EvictionCandidate:
    handle: KVHandle = {"handle_id": name, "num_tokens": tokens}
    return {
        "handle": handle,
        "score": score,
        "eviction_policy": "lru",
        "last_access": 0.0,
        "size_bytes": tokens * BPT,
    }


def test_select_victims_ranks_by_score_and_stops_at_the_target() -> None:
    strategy = LRUEvictionStrategy()
    pool = [candidate("a", 1.0, 16), candidate("b", 3.0, 16), candidate("c", 3.0, 32)]
    names = [v["handle"]["handle_id"] for v in strategy.select_victims(pool, target_tokens=17)]
    assert names == ["b", "c"]  # equal scores keep input order
    by_bytes = strategy.select_victims(pool, target_bytes=64)
    assert [v["handle"]["handle_id"] for v in by_bytes] == ["b"]
    both = strategy.select_victims(pool, target_tokens=1, target_bytes=129)
    assert [v["handle"]["handle_id"] for v in both] == ["b", "c"]
    short = strategy.select_victims(pool, target_tokens=1000)
    assert [v["handle"]["handle_id"] for v in short] == ["b", "c", "a"]
    with pytest.raises(
        ValueError, match=r"^select_victims\(\) needs target_tokens or target_bytes$"
    ):
        strategy.select_victims(pool)


def test_strategy_scores() -> None:
    handle: KVHandle = {
        "handle_id": "h",
        "num_tokens": 16,
        "last_access": 90.0,
        "created_at": 40.0,
        "access_count": 7,
    }
    assert LRUEvictionStrategy().score(handle, 100.0) == 10.0
    assert LFUEvictionStrategy().score(handle, 100.0) == -7.0
    assert FIFOEvictionStrategy().score(handle, 100.0) == 60.0
    policies = [
        s.policy for s in (LRUEvictionStrategy(), LFUEvictionStrategy(), FIFOEvictionStrategy())
    ]
    assert policies == [EvictionPolicy.LRU, EvictionPolicy.LFU, EvictionPolicy.FIFO]


def test_constant_lifetime_predictor() -> None:
    predictor = ConstantLifetimePredictor(reuse_prob=0.25, remaining_lifetime=12.0, confidence=0.5)
    handle: KVHandle = {
        "handle_id": "00000000-0000-4000-8000-000000000002",
        "num_tokens": 16,
        "request_id": "r1",
    }
    prediction = predictor.predict(handle, 5.0)
    assert_valid(LifetimePrediction, prediction)
    assert prediction == {
        "handle_id": "00000000-0000-4000-8000-000000000002",
        "request_id": "r1",
        "reuse_prob": 0.25,
        "remaining_lifetime": 12.0,
        "evict_score": 0.75,
        "confidence": 0.5,
        "features_summary": {},
        "predicted_at": 5.0,
    }
    assert predictor.predict_batch([handle, handle], 5.0) == [prediction, prediction]
    orphan: KVHandle = {"handle_id": "h", "num_tokens": 1}
    with pytest.raises(KVCacheError, match=r"^KV_FEATURE_MISSING: handle h has no request_id$"):
        predictor.predict_batch([handle, orphan], 5.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reuse_prob": 1.5}, "reuse_prob must be in [0, 1], got 1.5"),
        ({"remaining_lifetime": -1.0}, "remaining_lifetime must be >= 0, got -1.0"),
        ({"confidence": float("nan")}, "confidence must be in [0, 1], got nan"),
    ],
)
def test_constant_lifetime_predictor_rejects_out_of_range_values(
    options: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ConstantLifetimePredictor(**options)


def sched(request_id: str, queued_at: float, **extra: Any) -> SchedulerRequest:
    return cast(
        SchedulerRequest,
        {
            "request_id": request_id,
            "trace_id": "t-" + request_id,
            "request_type": "prefill",
            "prompt_len": 10,
            "max_new_tokens": 6,
            "queued_at": queued_at,
            **extra,
        },
    )


def test_fcfs_schedules_in_arrival_order_within_the_budget() -> None:
    cache, _ = make(64)
    allocated(cache, alloc("busy", 16))  # 48 tokens available
    requests = [
        sched("late", 3.0, kv_tokens_required=8),
        sched("first", 1.0, device_affinity="cuda:1", memory_required_mb=1.5),  # needs 16
        sched("second", 2.0, kv_tokens_required=30, device_affinity="rack-7"),
        sched("running", 0.5, state="executing"),
        sched("big", 2.5, kv_tokens_required=100),
    ]
    before = json.dumps(requests)
    plan = FCFSSchedulerPolicy(device="cuda:0").schedule(requests, cache.stats(), 9.0)
    assert_valid(SchedulerPlan, plan)
    assert json.dumps(requests) == before  # inputs untouched
    assert UUID.fullmatch(plan["plan_id"])
    assert [r["request_id"] for r in plan["requests"]] == ["first", "second"]  # "big" blocks "late"
    assert all((r["state"], r["scheduled_at"]) == ("scheduled", 9.0) for r in plan["requests"])
    assert {k: v for k, v in plan.items() if k not in ("plan_id", "requests")} == {
        "batch_size": 2,
        "total_kv_tokens": 46,
        "total_memory_mb": 1.5,
        "placement": {"first": "cuda:1", "second": "cuda:0"},
        "created_at": 9.0,
    }


def test_fcfs_batch_cap_and_empty_plans() -> None:
    cache, _ = make(64)
    requests = [sched(f"r{i}", float(i)) for i in range(4)]
    capped = FCFSSchedulerPolicy(max_batch_size=2).schedule(requests, cache.stats(), 1.0)
    assert [r["request_id"] for r in capped["requests"]] == ["r0", "r1"]
    empty = FCFSSchedulerPolicy().schedule([], cache.stats(), 1.0)
    assert_valid(SchedulerPlan, empty)
    assert (empty["requests"], empty["batch_size"], empty["total_kv_tokens"]) == ([], 0, 0)
    with pytest.raises(ValueError, match=r"^max_batch_size must be > 0, got 0$"):
        FCFSSchedulerPolicy(max_batch_size=0)
    with pytest.raises(
        ValueError, match=r"^device must be a device string like 'cuda:0', got 'GPU'$"
    ):
        FCFSSchedulerPolicy(device="GPU")
