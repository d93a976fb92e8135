"""Static checks of the KV-cache protocols and their reference implementations (never executed)."""

from collections.abc import Sequence

from typing_extensions import assert_type

from sagellm_protocol.core import Error
from sagellm_protocol.kv.enums import EvictionPolicy, EvictionPolicyName
from sagellm_protocol.kv.errors import KVErrorCode
from sagellm_protocol.kv.hooks import (
    KVAllocateParams,
    KVEvictParams,
    KVFreeParams,
    KVHookPayload,
    KVMigrateParams,
    KVPrefetchParams,
)
from sagellm_protocol.kv.hooks import KVHandle as KVHookHandle
from sagellm_protocol.kv.operations import (
    KVCacheAllocateRequest,
    KVCacheAllocateResponse,
    KVCacheEvictRequest,
    KVCacheEvictResponse,
    KVCacheFreeRequest,
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

# The reference implementations satisfy their protocols.
cache = InMemoryKVCache(256, block_size=16, bytes_per_token=64)
_manager: KVCacheManager = cache  # pyright: ignore[reportAssignmentType]
_service: KVCacheService = cache  # pyright: ignore[reportAssignmentType]
_lru: EvictionStrategy = LRUEvictionStrategy()
_lfu: EvictionStrategy = LFUEvictionStrategy()
_fifo: EvictionStrategy = FIFOEvictionStrategy()
_predictor: LifetimePredictor = ConstantLifetimePredictor(reuse_prob=0.25)
_scheduler: SchedulerPolicy = FCFSSchedulerPolicy(max_batch_size=8)
InMemoryKVCache(256, strategies=[LRUEvictionStrategy(), FIFOEvictionStrategy()])


def on_event(payload: KVHookPayload) -> None: ...


def on_anything(event: object) -> None: ...


def wrong_hook(payload: KVHandle) -> None: ...


def returns_value(payload: KVHookPayload) -> int:
    return 0


_hook: KVHook = on_event
_wider_hook: KVHook = on_anything  # a hook taking any object is a fine KVHook
_bad_hook: KVHook = wrong_hook  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
payloads: list[KVHookPayload] = []
_list_hook: KVHook = payloads.append  # the usual recorder in tests
cache.register_hook(on_event)
cache.register_hook(returns_value)  # type: ignore[arg-type]  # a hook returns None  # pyright: ignore[reportArgumentType]
cache.register_hook(wrong_hook)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# One class, two APIs: the argument's type picks the overload.
params: KVAllocateParams = {
    "request_id": "r-1",
    "num_tokens": 10,
    "kv_dtype": "fp16",
    "layout": "bshd",
    "block_size": 16,
}
small = cache.allocate(params)
assert_type(small, KVHookHandle)
assert_type(
    cache.allocate({"request_id": "r-2", "trace_id": "t-2", "num_tokens": 10}),
    KVCacheAllocateResponse,
)
cache.allocate({"request_id": "r-3", "num_tokens": 10})  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]
free_params: KVFreeParams = {"kv_handle": small, "force": True}
assert_type(cache.free(free_params), None)
free_request: KVCacheFreeRequest = {"request_id": "f", "trace_id": "t", "handle_ids": []}
assert_type(cache.free(free_request), KVCacheFreeResponse)
evict_params: KVEvictParams = {"kv_handle": small, "reason": "memory_pressure"}
assert_type(cache.evict(evict_params), None)
evict_request: KVCacheEvictRequest = {"request_id": "e", "trace_id": "t", "target_tokens": 16}
assert_type(cache.evict(evict_request), KVCacheEvictResponse)
migrate_params: KVMigrateParams = {"kv_handle": small, "target_device": "cuda:1"}
assert_type(cache.migrate(migrate_params), KVHookHandle)
migrate_request: KVCacheMigrateRequest = {
    "request_id": "m",
    "trace_id": "t",
    "handle_ids": [],
    "source_device": "cpu",
    "target_device": "cuda:0",
}
assert_type(cache.migrate(migrate_request), KVCacheMigrateResponse)
prefetch_params: KVPrefetchParams = {
    "request_id": "r-1",
    "kv_handle": small,
    "target_device": "cuda:0",
}
assert_type(cache.prefetch(prefetch_params), None)
assert_type(cache.stats(), KVPoolStats)
assert_type(cache.handle(small["handle_id"]), KVHandle)
cache.prefetch({"request_id": "r-1", "kv_handle": small})  # type: ignore[typeddict-item]  # pyright: ignore[reportArgumentType]


# Through the protocols, only that protocol's half is visible.
def use_manager(manager: KVCacheManager, allocate: KVAllocateParams) -> None:
    assert_type(manager.allocate(allocate), KVHookHandle)
    assert_type(manager.stats(), KVPoolStats)
    manager.allocate({"request_id": "r", "trace_id": "t", "num_tokens": 1})  # type: ignore[typeddict-item]  # pyright: ignore[reportArgumentType]


def use_service(service: KVCacheService, allocate: KVCacheAllocateRequest) -> None:
    assert_type(service.allocate(allocate), KVCacheAllocateResponse)
    service.prefetch(prefetch_params)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


def use_strategy(strategy: EvictionStrategy, handle: KVHandle) -> None:
    assert_type(strategy.policy, EvictionPolicyName | EvictionPolicy)
    assert_type(strategy.score(handle, 0.0), float)
    candidates: Sequence[EvictionCandidate] = []
    assert_type(strategy.select_victims(candidates, target_tokens=16), list[EvictionCandidate])
    strategy.select_victims(candidates, 16)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    strategy.policy = "lru"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


def use_predictor(predictor: LifetimePredictor, handle: KVHandle) -> None:
    assert_type(predictor.predict(handle, 0.0), LifetimePrediction)
    assert_type(predictor.predict_batch([handle], 0.0), list[LifetimePrediction])


def use_scheduler(policy: SchedulerPolicy, requests: list[SchedulerRequest]) -> None:
    assert_type(policy.schedule(requests, cache.stats(), 0.0), SchedulerPlan)


error = KVCacheError(KVErrorCode.POOL_FULL, "full")
assert_type(KVCacheError("KV_DOUBLE_FREE", "again").code, KVErrorCode)
assert_type(error.to_error(), Error)
assert_type(error.retryable, bool)
KVCacheError("KV_TYPO", "x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# A class missing a method is not a KVCacheManager.
class _NoPrefetch:
    def allocate(self, params: KVAllocateParams) -> KVHookHandle:
        raise NotImplementedError

    def free(self, params: KVFreeParams) -> None: ...
    def evict(self, params: KVEvictParams) -> None: ...
    def migrate(self, params: KVMigrateParams) -> KVHookHandle:
        raise NotImplementedError

    def register_hook(self, hook: KVHook) -> None: ...
    def unregister_hook(self, hook: KVHook) -> None: ...
    def stats(self) -> KVPoolStats:
        raise NotImplementedError


_missing: KVCacheManager = _NoPrefetch()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


# An async method does not satisfy a synchronous protocol member.
class _AsyncService:
    async def allocate(self, request: KVCacheAllocateRequest) -> KVCacheAllocateResponse:
        raise NotImplementedError

    def free(self, request: KVCacheFreeRequest) -> KVCacheFreeResponse:
        raise NotImplementedError

    def evict(self, request: KVCacheEvictRequest) -> KVCacheEvictResponse:
        raise NotImplementedError

    def migrate(self, request: KVCacheMigrateRequest) -> KVCacheMigrateResponse:
        raise NotImplementedError

    def stats(self) -> KVPoolStats:
        raise NotImplementedError


_async: KVCacheService = _AsyncService()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


# Wrong argument types (the manager's params where the service's requests belong).
class _SwappedService(_AsyncService):
    def allocate(self, request: KVAllocateParams) -> KVCacheAllocateResponse:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        raise NotImplementedError


_swapped: KVCacheService = _SwappedService()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class _NoPolicy:
    def score(self, handle: KVHandle, now: float) -> float:
        return 0.0

    def select_victims(
        self,
        candidates: Sequence[EvictionCandidate],
        *,
        target_tokens: int | None = None,
        target_bytes: int | None = None,
    ) -> list[EvictionCandidate]:
        return []


_no_policy: EvictionStrategy = _NoPolicy()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class _ClassAttributePolicy(_NoPolicy):
    policy = EvictionPolicy.LRU


_class_attribute_policy: EvictionStrategy = _ClassAttributePolicy()


class _NoBatch:
    def predict(self, handle: KVHandle, now: float) -> LifetimePrediction:
        raise NotImplementedError


_no_batch: LifetimePredictor = _NoBatch()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class _AsyncScheduler:
    async def schedule(
        self, requests: Sequence[SchedulerRequest], stats: KVPoolStats, now: float
    ) -> SchedulerPlan:
        raise NotImplementedError


_async_scheduler: SchedulerPolicy = _AsyncScheduler()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
