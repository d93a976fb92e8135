"""Reference implementations of the KV-cache protocols, usable as test doubles.

:class:`InMemoryKVCache` is one pool of fixed capacity that is both a
:class:`~sagellm_protocol.kv.protocols.KVCacheManager` and a
:class:`~sagellm_protocol.kv.protocols.KVCacheService`; the eviction strategies,
the lifetime predictor and the scheduler policy implement the other protocols.
No data is stored: the pool keeps the books (handles, tokens, bytes, pins, counts).
"""

import copy
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Final, overload

from .._defaults import with_defaults
from ..constraints import DEVICE_FORMAT
from ..core import Error
from ..kv.enums import DType, EvictionPolicy, KVBlockState, Layout, MemoryTier
from ..kv.errors import KVErrorCode
from ..kv.hooks import (
    KVAllocateParams,
    KVEvictParams,
    KVEvictReason,
    KVEvictReasonName,
    KVFreeParams,
    KVHookEvent,
    KVHookPayload,
    KVMigrateParams,
    KVPrefetchParams,
)
from ..kv.hooks import KVHandle as KVHookHandle
from ..kv.operations import (
    KVCacheAllocateRequest,
    KVCacheAllocateResponse,
    KVCacheEvictRequest,
    KVCacheEvictResponse,
    KVCacheFreeRequest,
    KVCacheFreeResponse,
    KVCacheMigrateRequest,
    KVCacheMigrateResponse,
)
from ..kv.protocols import EvictionStrategy, KVCacheError, KVHook
from ..kv.types import (
    EvictionCandidate,
    KVHandle,
    KVPoolStats,
    LifetimePrediction,
    SchedulerPlan,
    SchedulerRequest,
)

__all__ = [
    "ConstantLifetimePredictor",
    "FCFSSchedulerPolicy",
    "FIFOEvictionStrategy",
    "InMemoryKVCache",
    "LFUEvictionStrategy",
    "LRUEvictionStrategy",
]

_Events = tuple[KVHookEvent, KVHookEvent]

_ALLOCATE: Final[_Events] = (KVHookEvent.ALLOCATE_BEFORE, KVHookEvent.ALLOCATE_AFTER)
_FREE: Final[_Events] = (KVHookEvent.FREE_BEFORE, KVHookEvent.FREE_AFTER)
_EVICT: Final[_Events] = (KVHookEvent.EVICT_BEFORE, KVHookEvent.EVICT_AFTER)
_MIGRATE: Final[_Events] = (KVHookEvent.MIGRATE_BEFORE, KVHookEvent.MIGRATE_AFTER)
_PREFETCH: Final[_Events] = (KVHookEvent.PREFETCH_BEFORE, KVHookEvent.PREFETCH_AFTER)


class _RankingEvictionStrategy(ABC):
    """Ranks candidates by their ``score`` (highest first) and takes the fewest that suffice."""

    policy: EvictionPolicy
    """The policy this strategy implements."""

    @abstractmethod
    def score(self, handle: KVHandle, now: float) -> float:
        """The eviction score of ``handle`` at ``now`` (Unix seconds); higher evicts sooner."""

    def select_victims(
        self,
        candidates: Sequence[EvictionCandidate],
        *,
        target_tokens: int | None = None,
        target_bytes: int | None = None,
    ) -> list[EvictionCandidate]:
        """Victims in eviction order: the fewest top-scored candidates meeting every target.

        Ties keep the input order. All candidates, ranked, when they fall short.
        Raises ``ValueError`` when neither target is given.
        """
        if target_tokens is None and target_bytes is None:
            raise ValueError("select_victims() needs target_tokens or target_bytes")
        victims: list[EvictionCandidate] = []
        tokens = size = 0
        # sorted() is stable, so equal scores keep the caller's order.
        for candidate in sorted(candidates, key=lambda c: -c["score"]):
            if (target_tokens is None or tokens >= target_tokens) and (
                target_bytes is None or size >= target_bytes
            ):
                break
            victims.append(candidate)
            tokens += candidate["handle"]["num_tokens"]
            size += candidate["size_bytes"]
        return victims


class LRUEvictionStrategy(_RankingEvictionStrategy):
    """Least recently used first: the score is the seconds since ``last_access``."""

    policy = EvictionPolicy.LRU

    def score(self, handle: KVHandle, now: float) -> float:
        """Seconds since the handle's last access (``now`` in Unix seconds)."""
        return now - handle.get("last_access", 0.0)


class LFUEvictionStrategy(_RankingEvictionStrategy):
    """Least frequently used first: the score is minus ``access_count``."""

    policy = EvictionPolicy.LFU

    def score(self, handle: KVHandle, now: float) -> float:
        """Minus the handle's access count (``now`` is not used)."""
        return -float(handle.get("access_count", 0))


class FIFOEvictionStrategy(_RankingEvictionStrategy):
    """First in, first out: the score is the seconds since ``created_at``."""

    policy = EvictionPolicy.FIFO

    def score(self, handle: KVHandle, now: float) -> float:
        """Seconds since the handle was created (``now`` in Unix seconds)."""
        return now - handle.get("created_at", 0.0)


class ConstantLifetimePredictor:
    """Predicts the same reuse probability and remaining lifetime for every handle.

    ``evict_score`` is ``1 - reuse_prob``: the less likely reuse is, the sooner to evict.
    """

    def __init__(
        self, reuse_prob: float = 0.5, remaining_lifetime: float = 0.0, confidence: float = 1.0
    ) -> None:
        """``reuse_prob`` and ``confidence`` in [0, 1]; ``remaining_lifetime`` >= 0 (steps).

        Raises ``ValueError`` for a value out of range.
        """
        if not 0.0 <= reuse_prob <= 1.0:
            raise ValueError(f"reuse_prob must be in [0, 1], got {reuse_prob!r}")
        if not remaining_lifetime >= 0.0:
            raise ValueError(f"remaining_lifetime must be >= 0, got {remaining_lifetime!r}")
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {confidence!r}")
        self.reuse_prob = reuse_prob
        self.remaining_lifetime = remaining_lifetime
        self.confidence = confidence

    def predict(self, handle: KVHandle, now: float) -> LifetimePrediction:
        """The constant prediction for ``handle``, stamped ``now`` (Unix seconds).

        Raises :class:`KVCacheError` with ``KV_FEATURE_MISSING`` when the handle
        has no ``request_id``.
        """
        request_id = handle.get("request_id")
        if request_id is None:
            raise KVCacheError(
                KVErrorCode.FEATURE_MISSING, f"handle {handle['handle_id']} has no request_id"
            )
        return {
            "handle_id": handle["handle_id"],
            "request_id": request_id,
            "reuse_prob": self.reuse_prob,
            "remaining_lifetime": self.remaining_lifetime,
            "evict_score": 1.0 - self.reuse_prob,
            "confidence": self.confidence,
            "features_summary": {},
            "predicted_at": now,
        }

    def predict_batch(self, handles: Sequence[KVHandle], now: float) -> list[LifetimePrediction]:
        """One prediction per handle, in order; raises as :meth:`predict` does."""
        return [self.predict(handle, now) for handle in handles]


class FCFSSchedulerPolicy:
    """First come, first served within the pool's available KV tokens.

    Queued requests (``state`` ``"queued"``, the default) are taken in ``queued_at``
    order (ties keep input order) until the next one does not fit the budget or
    the batch is full; a request that does not fit stops the batch, so later
    small requests never overtake it. A request needs ``kv_tokens_required``
    tokens, or ``prompt_len + max_new_tokens`` when that is 0.
    """

    def __init__(self, max_batch_size: int | None = None, device: str = "cpu") -> None:
        """``max_batch_size`` > 0 caps the batch (no cap when ``None``); requests are placed
        on their ``device_affinity`` when it is a device string, else on ``device``.

        Raises ``ValueError`` for ``max_batch_size`` < 1 or a malformed ``device``.
        """
        if max_batch_size is not None and max_batch_size < 1:
            raise ValueError(f"max_batch_size must be > 0, got {max_batch_size!r}")
        if not DEVICE_FORMAT.matches(device):
            raise ValueError(f"device must be a device string like 'cuda:0', got {device!r}")
        self.max_batch_size = max_batch_size
        self.device = device

    def schedule(
        self, requests: Sequence[SchedulerRequest], stats: KVPoolStats, now: float
    ) -> SchedulerPlan:
        """The longest FCFS prefix of the queued requests that fits ``available_tokens``."""
        queued = sorted(
            (request for request in requests if request.get("state", "queued") == "queued"),
            key=lambda request: request.get("queued_at", 0.0),
        )
        budget = stats["available_tokens"]
        batch: list[SchedulerRequest] = []
        total_tokens = 0
        total_memory_mb = 0.0
        placement: dict[str, str] = {}
        for request in queued:
            need = request.get("kv_tokens_required", 0) or (
                request["prompt_len"] + request["max_new_tokens"]
            )
            if len(batch) == self.max_batch_size or total_tokens + need > budget:
                break
            scheduled = copy.deepcopy(request)
            scheduled["state"] = "scheduled"
            scheduled["scheduled_at"] = now
            batch.append(scheduled)
            total_tokens += need
            total_memory_mb += request.get("memory_required_mb", 0.0)
            affinity = request.get("device_affinity")
            placement[request["request_id"]] = (
                affinity
                if affinity is not None and DEVICE_FORMAT.matches(affinity)
                else self.device
            )
        return {
            "plan_id": str(uuid.uuid4()),
            "requests": batch,
            "batch_size": len(batch),
            "total_kv_tokens": total_tokens,
            "total_memory_mb": total_memory_mb,
            "placement": placement,
            "created_at": now,
        }


def _tier_of(device: str) -> MemoryTier:
    """The memory tier a device string implies: host memory for ``cpu``, else device memory."""
    return MemoryTier.CPU if device.partition(":")[0] == "cpu" else MemoryTier.GPU


def _owner(handle: KVHandle) -> str:
    # Every handle this pool makes has a request_id; "" only satisfies the str type.
    return handle.get("request_id") or ""


def _set_pin_count(handle: KVHandle, pin_count: int) -> None:
    handle["pin_count"] = pin_count
    handle["state"] = KVBlockState.PINNED if pin_count > 0 else KVBlockState.ALLOCATED


class InMemoryKVCache:
    """A KV pool of fixed capacity, both a ``KVCacheManager`` and a ``KVCacheService``.

    Capacity is ``total_tokens`` tokens in blocks of ``block_size`` tokens, each
    token ``bytes_per_token`` bytes, shared by every device and memory tier.
    Allocations are rounded up to whole blocks, and a handle's ``num_tokens`` is
    what it holds after rounding. Handles get fresh uuid4 ids; freed ids are
    remembered so a second free is reported as a double free.

    ``allocate``/``free``/``evict``/``migrate`` take either the hook parameters
    (the manager API: small handles, failures raised as :class:`KVCacheError`) or
    the service requests (full handles, failures reported in the response),
    told apart by their required keys. Every operation on a handle fires the
    registered hooks with a ``*_before`` and a ``*_after`` payload; a service
    free, evict or migrate fires one pair per handle it touches.

    Limits of this double: there is no prefix cache (allocations never hit,
    ``keep_in_cache`` fails with ``not_implemented``), reference counts stay 1
    (so ``decrement_ref_only`` frees like a plain free), nothing is compressed,
    transfers complete synchronously, and a prefetch moves the whole handle.
    """

    def __init__(
        self,
        total_tokens: int,
        *,
        block_size: int = 16,
        bytes_per_token: int = 2,
        default_device: str = "cpu",
        strategies: Iterable[EvictionStrategy] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """A pool of ``total_tokens`` tokens (a multiple of ``block_size`` tokens, both > 0).

        ``bytes_per_token`` > 0 sizes every token. ``default_device`` receives
        manager-API allocations (the hook parameters name no device).
        ``strategies`` serve service evictions by their ``policy`` (default LRU,
        LFU and FIFO). ``clock`` gives Unix seconds for every timestamp.
        Raises ``ValueError`` for an impossible configuration.
        """
        if block_size < 1:
            raise ValueError(f"block_size must be > 0, got {block_size!r}")
        if total_tokens < 1 or total_tokens % block_size:
            raise ValueError(
                f"total_tokens must be a positive multiple of block_size {block_size},"
                f" got {total_tokens!r}"
            )
        if bytes_per_token < 1:
            raise ValueError(f"bytes_per_token must be > 0, got {bytes_per_token!r}")
        if not DEVICE_FORMAT.matches(default_device):
            raise ValueError(
                f"default_device must be a device string like 'cuda:0', got {default_device!r}"
            )
        self.total_tokens: Final = total_tokens
        self.block_size: Final = block_size
        self.bytes_per_token: Final = bytes_per_token
        self.default_device: Final = default_device
        chosen = (
            (LRUEvictionStrategy(), LFUEvictionStrategy(), FIFOEvictionStrategy())
            if strategies is None
            else strategies
        )
        self._strategies = {EvictionPolicy(strategy.policy): strategy for strategy in chosen}
        self._clock = clock
        self._handles: dict[str, KVHandle] = {}
        self._freed: set[str] = set()
        self._hooks: list[KVHook] = []
        self._alloc_count = 0
        self._free_count = 0
        self._alloc_fail_count = 0
        self._pin_ops = 0
        self._unpin_ops = 0

    # -- inspection and pinning (beyond the protocols) ------------------------------------

    def handle(self, handle_id: str) -> KVHandle:
        """A copy of the live handle ``handle_id``.

        Raises :class:`KVCacheError` with ``KV_HANDLE_NOT_FOUND`` when it is not live.
        """
        return copy.deepcopy(self._live(handle_id))

    def handles(self) -> list[KVHandle]:
        """Copies of every live handle, oldest first."""
        return [copy.deepcopy(handle) for handle in self._handles.values()]

    def access(self, handle_id: str) -> None:
        """Record a use of a handle: ``last_access`` becomes now, ``access_count`` grows by 1.

        Raises :class:`KVCacheError` with ``KV_HANDLE_NOT_FOUND`` when it is not live.
        """
        handle = self._live(handle_id)
        handle["last_access"] = self._clock()
        handle["access_count"] = handle.get("access_count", 0) + 1

    def pin(self, handle_id: str) -> None:
        """Pin a handle once more: it cannot be evicted, nor freed without ``force``.

        Raises :class:`KVCacheError` with ``KV_HANDLE_NOT_FOUND`` when it is not live.
        """
        handle = self._live(handle_id)
        _set_pin_count(handle, handle.get("pin_count", 0) + 1)
        self._pin_ops += 1

    def unpin(self, handle_id: str) -> None:
        """Undo one :meth:`pin`.

        Raises :class:`KVCacheError` with ``KV_HANDLE_NOT_FOUND`` when it is not
        live, ``KV_REF_COUNT_UNDERFLOW`` when it is not pinned.
        """
        handle = self._live(handle_id)
        pin_count = handle.get("pin_count", 0)
        if pin_count == 0:
            raise KVCacheError(KVErrorCode.REF_COUNT_UNDERFLOW, f"handle {handle_id} is not pinned")
        _set_pin_count(handle, pin_count - 1)
        self._unpin_ops += 1

    # -- hooks and stats (both protocols) --------------------------------------------------

    def register_hook(self, hook: KVHook) -> None:
        """Call ``hook`` for every later event, after the hooks registered before it.

        Raises ``ValueError`` if ``hook`` is already registered.
        """
        if hook in self._hooks:
            raise ValueError(f"hook {hook!r} is already registered")
        self._hooks.append(hook)

    def unregister_hook(self, hook: KVHook) -> None:
        """Stop calling ``hook``. Raises ``ValueError`` if it is not registered."""
        if hook not in self._hooks:
            raise ValueError(f"hook {hook!r} is not registered")
        self._hooks.remove(hook)

    def stats(self) -> KVPoolStats:
        """A snapshot of capacity, usage and operation counts, stamped with the clock."""
        allocated_tokens = self._allocated_tokens()
        pinned_tokens = sum(
            handle["num_tokens"]
            for handle in self._handles.values()
            if handle.get("pin_count", 0) > 0
        )
        total_blocks = self.total_tokens // self.block_size
        allocated_blocks = allocated_tokens // self.block_size
        return {
            "total_tokens": self.total_tokens,
            "allocated_tokens": allocated_tokens,
            "available_tokens": self.total_tokens - allocated_tokens,
            "total_bytes": self.total_tokens * self.bytes_per_token,
            "allocated_bytes": allocated_tokens * self.bytes_per_token,
            "available_bytes": (self.total_tokens - allocated_tokens) * self.bytes_per_token,
            "total_blocks": total_blocks,
            "allocated_blocks": allocated_blocks,
            "free_blocks": total_blocks - allocated_blocks,
            "pinned_blocks": pinned_tokens // self.block_size,
            "alloc_count": self._alloc_count,
            "free_count": self._free_count,
            "alloc_fail_count": self._alloc_fail_count,
            "pin_count": self._pin_ops,
            "unpin_count": self._unpin_ops,
            "timestamp": self._clock(),
        }

    # -- allocate --------------------------------------------------------------------------

    @overload
    def allocate(self, params: KVAllocateParams, /) -> KVHookHandle: ...
    @overload
    def allocate(self, params: KVCacheAllocateRequest, /) -> KVCacheAllocateResponse: ...
    def allocate(
        self, params: KVAllocateParams | KVCacheAllocateRequest, /
    ) -> KVHookHandle | KVCacheAllocateResponse:
        """Reserve whole blocks for ``num_tokens`` tokens.

        Manager API: returns the small handle, on ``default_device``; raises
        ``KV_CONFIG_INVALID`` for a ``block_size`` other than the pool's,
        ``KV_BUDGET_EXCEEDED`` beyond the pool's capacity, ``KV_POOL_FULL`` beyond
        its free blocks. Service API: the same failures as ``resource_exhausted``
        or ``invalid_argument`` errors in a failed response. Every failure counts
        in ``alloc_fail_count``.
        """
        if "kv_dtype" in params:
            return self._hook_handle(self._allocate_params(params))
        request = params
        try:
            handle = self._allocate_request(request)
        except KVCacheError as error:
            failed: KVCacheAllocateResponse = {
                "request_id": request["request_id"],
                "trace_id": request["trace_id"],
                "success": False,
                "error": error.to_error(),
                "timestamp": self._clock(),
            }
            return with_defaults(KVCacheAllocateResponse, failed)
        return {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "success": True,
            "handle": copy.deepcopy(handle),
            "allocated_tokens": handle["num_tokens"],
            "allocated_bytes": handle["num_tokens"] * self.bytes_per_token,
            "actual_device": handle.get("device", "cpu"),
            "actual_memory_tier": handle.get("memory_tier", "cpu"),
            "prefix_hit": False,
            "prefix_hit_len": 0,
            "reused_bytes": 0,
            "error": None,
            "timestamp": self._clock(),
        }

    def _allocate_params(self, params: KVAllocateParams) -> KVHandle:
        request_id = params["request_id"]
        handle = self._new_handle(
            {
                "handle_id": str(uuid.uuid4()),
                "request_id": request_id,
                "num_tokens": self._rounded(params["num_tokens"]),
                "token_end": params["num_tokens"],
                "dtype": DType(params["kv_dtype"]),
                "layout": Layout(params["layout"]),
                "device": self.default_device,
                "memory_tier": _tier_of(self.default_device),
                "metadata": copy.deepcopy(params.get("metadata", {})),
            }
        )

        def allocate() -> KVHandle:
            if params["block_size"] != self.block_size:
                self._alloc_fail_count += 1
                raise KVCacheError(
                    KVErrorCode.CONFIG_INVALID,
                    f"block_size {params['block_size']} differs from the pool's"
                    f" block size {self.block_size}",
                )
            return self._admit(handle, params["num_tokens"])

        return self._observe(
            _ALLOCATE, request_id, params.get("trace_id"), None, self.default_device, allocate
        )

    def _allocate_request(self, request: KVCacheAllocateRequest) -> KVHandle:
        request_id = request["request_id"]
        token_start = request.get("token_start", 0)
        token_end = request.get("token_end")
        if token_end is None:
            token_end = token_start + request["num_tokens"]
        device = request.get("device", "cpu")
        pinned = request.get("pin_on_allocate", False)
        handle = self._new_handle(
            {
                "handle_id": str(uuid.uuid4()),
                "request_id": request_id,
                "session_id": request.get("session_id"),
                "num_tokens": self._rounded(request["num_tokens"]),
                "token_start": token_start,
                "token_end": token_end,
                "dtype": request.get("dtype", "fp16"),
                "layout": request.get("layout", "contiguous"),
                "device": device,
                "memory_tier": request.get("memory_tier", "cpu"),
                "state": KVBlockState.PINNED if pinned else KVBlockState.ALLOCATED,
                "pin_count": 1 if pinned else 0,
                "metadata": copy.deepcopy(request.get("metadata", {})),
                "prefix_hash": request.get("prefix_hash"),
                "rank": request.get("rank"),
                "placement": request.get("placement"),
            }
        )

        def allocate() -> KVHandle:
            admitted = self._admit(handle, request["num_tokens"])
            if pinned:
                self._pin_ops += 1
            return admitted

        return self._observe(_ALLOCATE, request_id, request["trace_id"], None, device, allocate)

    def _new_handle(self, fields: KVHandle) -> KVHandle:
        """A handle of ``fields`` (a new dict), created and accessed now, other keys at defaults."""
        fields["last_access"] = fields["created_at"] = self._clock()
        return with_defaults(KVHandle, fields)

    def _admit(self, handle: KVHandle, requested_tokens: int) -> KVHandle:
        """Add ``handle`` if its blocks fit; count the allocation or its failure."""
        blocks = handle["num_tokens"] // self.block_size
        total_blocks = self.total_tokens // self.block_size
        free_blocks = self._free_blocks()
        if blocks > free_blocks:
            self._alloc_fail_count += 1
            if blocks > total_blocks:
                raise KVCacheError(
                    KVErrorCode.BUDGET_EXCEEDED,
                    f"{requested_tokens} tokens need {blocks} blocks of {self.block_size},"
                    f" more than the pool's {total_blocks}",
                )
            raise KVCacheError(
                KVErrorCode.POOL_FULL,
                f"{requested_tokens} tokens need {blocks} blocks of {self.block_size},"
                f" {free_blocks} free",
            )
        self._handles[handle["handle_id"]] = handle
        self._alloc_count += 1
        return handle

    # -- free ------------------------------------------------------------------------------

    @overload
    def free(self, params: KVFreeParams, /) -> None: ...
    @overload
    def free(self, params: KVCacheFreeRequest, /) -> KVCacheFreeResponse: ...
    def free(self, params: KVFreeParams | KVCacheFreeRequest, /) -> KVCacheFreeResponse | None:
        """Release handles and their blocks.

        A pinned handle needs ``force``; a handle freed before fails with
        ``KV_DOUBLE_FREE``, any other handle that is not live with
        ``KV_HANDLE_NOT_FOUND``. Manager API: raises :class:`KVCacheError`.
        Service API: each failure is reported under its id as ``invalid_argument``
        (``not_implemented`` for ``keep_in_cache``), the others are still freed.
        """
        if "kv_handle" in params:
            self._free_one(
                params["kv_handle"]["handle_id"],
                params.get("trace_id"),
                params["kv_handle"]["request_id"],
                force=params.get("force", False),
                keep_in_cache=False,
            )
            return None
        request = params
        freed: list[str] = []
        failed: list[str] = []
        errors: dict[str, Error] = {}
        freed_tokens = 0
        for handle_id in request["handle_ids"]:
            try:
                handle = self._free_one(
                    handle_id,
                    request["trace_id"],
                    request["request_id"],
                    force=request.get("force", False),
                    keep_in_cache=request.get("keep_in_cache", False),
                )
            except KVCacheError as error:
                failed.append(handle_id)
                errors[handle_id] = error.to_error()
            else:
                freed.append(handle_id)
                freed_tokens += handle["num_tokens"]
        return {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "success": not failed,
            "freed_handles": freed,
            "failed_handles": failed,
            "freed_tokens": freed_tokens,
            "freed_bytes": freed_tokens * self.bytes_per_token,
            "errors": errors,
            "timestamp": self._clock(),
        }

    def _free_one(
        self,
        handle_id: str,
        trace_id: str | None,
        request_id: str,
        *,
        force: bool,
        keep_in_cache: bool,
    ) -> KVHandle:
        subject = self._handles.get(handle_id)

        def free() -> KVHandle:
            if keep_in_cache:
                raise KVCacheError(
                    KVErrorCode.NOT_IMPLEMENTED,
                    "keep_in_cache needs a prefix cache, which InMemoryKVCache does not have",
                )
            handle = self._live(handle_id, freeing=True)
            pin_count = handle.get("pin_count", 0)
            if pin_count > 0 and not force:
                raise KVCacheError(
                    KVErrorCode.HANDLE_PINNED,
                    f"handle {handle_id} is pinned (pin_count {pin_count})",
                )
            del self._handles[handle_id]
            self._freed.add(handle_id)
            self._free_count += 1
            handle["state"] = KVBlockState.FREE
            return handle

        return self._observe(
            _FREE,
            request_id,
            trace_id,
            subject,
            None if subject is None else subject.get("device", "cpu"),
            free,
        )

    # -- evict -----------------------------------------------------------------------------

    @overload
    def evict(self, params: KVEvictParams, /) -> None: ...
    @overload
    def evict(self, params: KVCacheEvictRequest, /) -> KVCacheEvictResponse: ...
    def evict(self, params: KVEvictParams | KVCacheEvictRequest, /) -> KVCacheEvictResponse | None:
        """Evict handles.

        Manager API: evicts the given handle, dropped or offloaded to
        ``target_device`` (keeping its id); raises ``KV_HANDLE_PINNED`` for a
        pinned handle, ``KV_HANDLE_NOT_FOUND`` when it is not live.

        Service API: ranks the handles in scope (``device``, ``memory_tier``,
        exclusions; pinned ones only with ``allow_pin_override``) with the
        strategy of ``eviction_policy`` and drops the fewest that meet the target.
        Nothing is evicted when the target is missing (``invalid_argument``), the
        policy has no strategy (``not_implemented``), or the eligible handles
        fall short (``resource_exhausted``).
        """
        if "kv_handle" in params:
            self._evict_one(
                params["kv_handle"]["handle_id"],
                params.get("trace_id"),
                params["kv_handle"]["request_id"],
                params["reason"],
                target_device=params.get("target_device"),
                allow_pinned=False,
            )
            return None
        request = params
        start = time.perf_counter()
        try:
            victims = self._select_victims(request)
        except KVCacheError as error:
            return {
                "request_id": request["request_id"],
                "trace_id": request["trace_id"],
                "success": False,
                "evicted_handles": [],
                "evicted_tokens": 0,
                "evicted_bytes": 0,
                "eviction_count": 0,
                "eviction_latency_ms": (time.perf_counter() - start) * 1000.0,
                "error": error.to_error(),
                "timestamp": self._clock(),
            }
        evicted = [
            self._evict_one(
                victim["handle"]["handle_id"],
                request["trace_id"],
                request["request_id"],
                KVEvictReason.MEMORY_PRESSURE,
                target_device=None,
                allow_pinned=request.get("allow_pin_override", False),
            )
            for victim in victims
        ]
        evicted_tokens = sum(handle["num_tokens"] for handle in evicted)
        return {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "success": True,
            "evicted_handles": [handle["handle_id"] for handle in evicted],
            "evicted_tokens": evicted_tokens,
            "evicted_bytes": evicted_tokens * self.bytes_per_token,
            "eviction_count": evicted_tokens // self.block_size,
            "eviction_latency_ms": (time.perf_counter() - start) * 1000.0,
            "error": None,
            "timestamp": self._clock(),
        }

    def _select_victims(self, request: KVCacheEvictRequest) -> list[EvictionCandidate]:
        target_tokens = request.get("target_tokens")
        target_bytes = request.get("target_bytes")
        if target_tokens is None and target_bytes is None:
            raise KVCacheError(
                KVErrorCode.CONFIG_INVALID, "an eviction needs target_tokens or target_bytes"
            )
        policy = EvictionPolicy(request.get("eviction_policy", "lru"))
        strategy = self._strategies.get(policy)
        if strategy is None:
            raise KVCacheError(
                KVErrorCode.NOT_IMPLEMENTED,
                f"no eviction strategy for policy {policy.value!r}"
                f" (have: {', '.join(sorted(self._strategies))})",
            )
        device = request.get("device")
        tier = request.get("memory_tier")
        excluded_handles = set(request.get("exclude_handle_ids", []))
        excluded_sessions = set(request.get("exclude_session_ids", []))
        in_scope = [
            handle
            for handle in self._handles.values()
            if (device is None or handle.get("device", "cpu") == device)
            and (tier is None or handle.get("memory_tier", "cpu") == tier)
            and handle["handle_id"] not in excluded_handles
            and handle.get("session_id") not in excluded_sessions
        ]
        eligible = [
            handle
            for handle in in_scope
            if request.get("allow_pin_override", False) or handle.get("pin_count", 0) == 0
        ]
        if not eligible:
            if in_scope:
                raise KVCacheError(KVErrorCode.ALL_PINNED, "every handle in scope is pinned")
            raise KVCacheError(KVErrorCode.NO_VICTIM, "no handle in scope to evict")
        now = self._clock()
        # Strategies see copies: a custom one must not be able to corrupt the pool.
        snapshots = [copy.deepcopy(handle) for handle in eligible]
        candidates: list[EvictionCandidate] = [
            {
                "handle": handle,
                "score": strategy.score(handle, now),
                "eviction_policy": strategy.policy,
                "last_access": handle.get("last_access", 0.0),
                "access_count": handle.get("access_count", 0),
                "size_bytes": handle["num_tokens"] * self.bytes_per_token,
                "reuse_prob": None,
                "remaining_lifetime": None,
            }
            for handle in snapshots
        ]
        victims = strategy.select_victims(
            candidates, target_tokens=target_tokens, target_bytes=target_bytes
        )
        tokens = sum(victim["handle"]["num_tokens"] for victim in victims)
        size = sum(victim["size_bytes"] for victim in victims)
        if (target_tokens is not None and tokens < target_tokens) or (
            target_bytes is not None and size < target_bytes
        ):
            targets = " and ".join(
                f"{target} {unit}"
                for target, unit in ((target_tokens, "tokens"), (target_bytes, "bytes"))
                if target is not None
            )
            raise KVCacheError(
                KVErrorCode.EVICTION_FAILED,
                f"evictable handles hold {tokens} tokens and {size} bytes,"
                f" short of the target of {targets}",
            )
        return victims

    def _evict_one(
        self,
        handle_id: str,
        trace_id: str | None,
        request_id: str,
        reason: KVEvictReasonName | KVEvictReason,
        *,
        target_device: str | None,
        allow_pinned: bool,
    ) -> KVHandle:
        subject = self._handles.get(handle_id)

        def evict() -> KVHandle:
            handle = self._live(handle_id)
            pin_count = handle.get("pin_count", 0)
            if pin_count > 0 and not allow_pinned:
                raise KVCacheError(
                    KVErrorCode.HANDLE_PINNED,
                    f"handle {handle_id} is pinned (pin_count {pin_count})",
                )
            if target_device is not None:
                handle["device"] = target_device
                handle["memory_tier"] = _tier_of(target_device)
                return handle
            del self._handles[handle_id]
            handle["state"] = KVBlockState.FREE
            return handle

        return self._observe(
            _EVICT,
            request_id,
            trace_id,
            subject,
            None if subject is None else subject.get("device", "cpu"),
            evict,
            evict_reason=reason,
        )

    # -- migrate and prefetch --------------------------------------------------------------

    @overload
    def migrate(self, params: KVMigrateParams, /) -> KVHookHandle: ...
    @overload
    def migrate(self, params: KVCacheMigrateRequest, /) -> KVCacheMigrateResponse: ...
    def migrate(
        self, params: KVMigrateParams | KVCacheMigrateRequest, /
    ) -> KVHookHandle | KVCacheMigrateResponse:
        """Move handles to a target device under new handle ids.

        The new handle keeps the data's history (``created_at``, accesses) and
        pins, records ``source_rank`` and ``placement: "migrated"``; without
        ``keep_source`` the old id stops being live. A copy (``keep_source``)
        needs free blocks and starts unpinned; ``pin_on_arrival`` adds a pin.

        Manager API: returns the new small handle (memory tier implied by the
        device); raises ``KV_HANDLE_NOT_FOUND``. Service API: each handle on a
        device other than ``source_device`` fails (``invalid_argument``), as does
        each unknown one; a copy without room fails ``resource_exhausted``.
        """
        if "kv_handle" in params:
            target = params["target_device"]
            return self._hook_handle(
                self._migrate_one(
                    params["kv_handle"]["handle_id"],
                    params.get("trace_id"),
                    params["kv_handle"]["request_id"],
                    target_device=target,
                    target_tier=_tier_of(target),
                    target_rank=None,
                    source_device=None,
                    keep_source=False,
                    pin_on_arrival=False,
                )
            )
        request = params
        start = time.perf_counter()
        target = request["target_device"]
        tier = request.get("target_memory_tier")
        mapping: dict[str, str] = {}
        failed: list[str] = []
        errors: dict[str, Error] = {}
        transferred_tokens = 0
        for handle_id in request["handle_ids"]:
            try:
                handle = self._migrate_one(
                    handle_id,
                    request["trace_id"],
                    request["request_id"],
                    target_device=target,
                    target_tier=_tier_of(target) if tier is None else MemoryTier(tier),
                    target_rank=request.get("target_rank"),
                    source_device=request["source_device"],
                    keep_source=request.get("keep_source", False),
                    pin_on_arrival=request.get("pin_on_arrival", False),
                )
            except KVCacheError as error:
                failed.append(handle_id)
                errors[handle_id] = error.to_error()
            else:
                mapping[handle_id] = handle["handle_id"]
                transferred_tokens += handle["num_tokens"]
        return {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "success": not failed,
            "migrated_handles": list(mapping),
            "failed_handles": failed,
            "handle_mapping": mapping,
            "transferred_tokens": transferred_tokens,
            "transferred_bytes": transferred_tokens * self.bytes_per_token,
            "compressed_bytes": 0,
            "transfer_metadata": [],
            "transfer_latency_ms": (time.perf_counter() - start) * 1000.0,
            "transfer_bandwidth_mbps": 0.0,
            "transfer_status": "failed" if failed else "completed",
            "errors": errors,
            "timestamp": self._clock(),
        }

    def _migrate_one(
        self,
        handle_id: str,
        trace_id: str | None,
        request_id: str,
        *,
        target_device: str,
        target_tier: MemoryTier,
        target_rank: int | None,
        source_device: str | None,
        keep_source: bool,
        pin_on_arrival: bool,
    ) -> KVHandle:
        subject = self._handles.get(handle_id)

        def migrate() -> KVHandle:
            source = self._live(handle_id)
            device = source.get("device", "cpu")
            if source_device is not None and device != source_device:
                raise KVCacheError(
                    KVErrorCode.METADATA_MISMATCH,
                    f"handle {handle_id} is on {device}, not on source_device {source_device}",
                )
            blocks = source["num_tokens"] // self.block_size
            free_blocks = self._free_blocks()
            if keep_source and blocks > free_blocks:
                raise KVCacheError(
                    KVErrorCode.POOL_FULL,
                    f"a copy of handle {handle_id} needs {blocks} blocks, {free_blocks} free",
                )
            moved = copy.deepcopy(source)
            moved["handle_id"] = str(uuid.uuid4())
            moved["device"] = target_device
            moved["memory_tier"] = target_tier
            moved["source_rank"] = source.get("rank")
            moved["rank"] = source.get("rank") if target_rank is None else target_rank
            moved["placement"] = "migrated"
            pins = 0 if keep_source else source.get("pin_count", 0)
            _set_pin_count(moved, pins + (1 if pin_on_arrival else 0))
            if pin_on_arrival:
                self._pin_ops += 1
            if not keep_source:
                del self._handles[handle_id]
            self._handles[moved["handle_id"]] = moved
            return moved

        return self._observe(
            _MIGRATE,
            request_id,
            trace_id,
            subject,
            target_device,
            migrate,
        )

    def prefetch(self, params: KVPrefetchParams) -> None:
        """Move a handle to ``target_device`` in place (same id) and record it as accessed.

        Raises :class:`KVCacheError` with ``KV_HANDLE_NOT_FOUND`` when it is not live.
        """
        handle_id = params["kv_handle"]["handle_id"]
        target = params["target_device"]

        def prefetch() -> KVHandle:
            handle = self._live(handle_id)
            handle["device"] = target
            handle["memory_tier"] = _tier_of(target)
            self.access(handle_id)
            return handle

        self._observe(
            _PREFETCH,
            params["request_id"],
            params.get("trace_id"),
            self._handles.get(handle_id),
            target,
            prefetch,
        )

    # -- shared machinery ------------------------------------------------------------------

    def _allocated_tokens(self) -> int:
        return sum(handle["num_tokens"] for handle in self._handles.values())

    def _free_blocks(self) -> int:
        return (self.total_tokens - self._allocated_tokens()) // self.block_size

    def _rounded(self, num_tokens: int) -> int:
        """``num_tokens`` rounded up to whole blocks."""
        return -(-num_tokens // self.block_size) * self.block_size

    def _live(self, handle_id: str, *, freeing: bool = False) -> KVHandle:
        handle = self._handles.get(handle_id)
        if handle is not None:
            return handle
        if freeing and handle_id in self._freed:
            raise KVCacheError(KVErrorCode.DOUBLE_FREE, f"handle {handle_id} was already freed")
        raise KVCacheError(KVErrorCode.HANDLE_NOT_FOUND, f"no live handle {handle_id}")

    def _hook_handle(self, handle: KVHandle) -> KVHookHandle:
        return {
            "handle_id": handle["handle_id"],
            "request_id": _owner(handle),
            "num_tokens": handle["num_tokens"],
            "device": handle.get("device", "cpu"),
        }

    def _observe(
        self,
        events: _Events,
        request_id: str,
        trace_id: str | None,
        subject: KVHandle | None,
        device: str | None,
        action: Callable[[], KVHandle],
        *,
        evict_reason: KVEvictReasonName | KVEvictReason | None = None,
    ) -> KVHandle:
        """Run ``action`` between a before and an after hook payload; re-raise its failure.

        The payloads name the handle's owner, or ``request_id`` for a handle not
        (yet) in the pool.
        """
        before, after = events
        request_id = request_id if subject is None else _owner(subject)
        self._emit(before, request_id, trace_id, subject, device, evict_reason, 0.0, None)
        start = time.perf_counter()
        try:
            result = action()
        except KVCacheError as error:
            elapsed_ms = (time.perf_counter() - start) * 1000.0
            self._emit(
                after, request_id, trace_id, subject, device, evict_reason, elapsed_ms, error
            )
            raise
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        self._emit(after, request_id, trace_id, result, device, evict_reason, elapsed_ms, None)
        return result

    def _emit(
        self,
        event: KVHookEvent,
        request_id: str,
        trace_id: str | None,
        handle: KVHandle | None,
        device: str | None,
        evict_reason: KVEvictReasonName | KVEvictReason | None,
        elapsed_ms: float,
        error: KVCacheError | None,
    ) -> None:
        # A new payload per hook: one hook changing its dict must not change what the next sees.
        for hook in list(self._hooks):
            payload: KVHookPayload = {
                "event": event,
                "request_id": request_id,
                "trace_id": trace_id,
                "kv_handle": None if handle is None else self._hook_handle(handle),
                "evict_reason": evict_reason,
                "device": device,
                "elapsed_ms": elapsed_ms,
                "success": error is None,
                "error_message": None if error is None else str(error),
                "metadata": {},
            }
            hook(payload)
