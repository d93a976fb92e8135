"""Interfaces of the KV cache: manager, service, eviction, hooks, lifetime prediction, scheduling.

Every method is synchronous. Arguments and results are the protocol's own dicts;
the hook-side methods of :class:`KVCacheManager` take the small
:class:`sagellm_protocol.kv.hooks.KVHandle`, the others the full
:class:`sagellm_protocol.kv.types.KVHandle`. Failures of the in-process APIs
(:class:`KVCacheManager`, :class:`EvictionStrategy`, :class:`LifetimePredictor`,
:class:`SchedulerPolicy`) are raised as :class:`KVCacheError`; the service API
(:class:`KVCacheService`) reports them in its responses instead.
"""

from collections.abc import Sequence
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

from ..core import Error, ErrorCode
from .enums import EvictionPolicy, EvictionPolicyName
from .errors import KVErrorCode, KVErrorCodeName, is_retryable
from .hooks import (
    KVAllocateParams,
    KVEvictParams,
    KVFreeParams,
    KVHookPayload,
    KVMigrateParams,
    KVPrefetchParams,
)
from .hooks import KVHandle as KVHookHandle
from .operations import (
    KVCacheAllocateRequest,
    KVCacheAllocateResponse,
    KVCacheEvictRequest,
    KVCacheEvictResponse,
    KVCacheFreeRequest,
    KVCacheFreeResponse,
    KVCacheMigrateRequest,
    KVCacheMigrateResponse,
)
from .types import (
    EvictionCandidate,
    KVHandle,
    KVPoolStats,
    LifetimePrediction,
    SchedulerPlan,
    SchedulerRequest,
)

__all__ = [
    "EvictionStrategy",
    "KVCacheError",
    "KVCacheManager",
    "KVCacheService",
    "KVHook",
    "LifetimePredictor",
    "SchedulerPolicy",
]

_PROTOCOL_CODES: Final = MappingProxyType(
    {
        KVErrorCode.BUDGET_EXCEEDED: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.MEMORY_EXHAUSTED: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.POOL_FULL: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.ALLOCATION_FAILED: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.NOT_FOUND: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.INVALID_HANDLE: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.DOUBLE_FREE: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.HANDLE_PINNED: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.HANDLE_NOT_FOUND: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.REF_COUNT_UNDERFLOW: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.CACHE_MISS: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.PREFIX_TOO_LONG: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.INVALID_PREFIX: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.INDEX_CORRUPTED: ErrorCode.UNAVAILABLE,
        KVErrorCode.NO_VICTIM: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.EVICTION_FAILED: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.ALL_PINNED: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.EVICTION_TIMEOUT: ErrorCode.DEADLINE_EXCEEDED,
        KVErrorCode.TRANSFER_FAILED: ErrorCode.KV_TRANSFER_FAILED,
        KVErrorCode.TRANSFER_TIMEOUT: ErrorCode.DEADLINE_EXCEEDED,
        KVErrorCode.SHARD_MISSING: ErrorCode.KV_TRANSFER_FAILED,
        KVErrorCode.SHARD_DUPLICATE: ErrorCode.KV_TRANSFER_FAILED,
        KVErrorCode.CHECKSUM_MISMATCH: ErrorCode.KV_TRANSFER_FAILED,
        KVErrorCode.METADATA_MISMATCH: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.COMPRESSION_FAILED: ErrorCode.KV_TRANSFER_FAILED,
        KVErrorCode.DECOMPRESSION_FAILED: ErrorCode.KV_TRANSFER_FAILED,
        KVErrorCode.BACKEND_UNAVAILABLE: ErrorCode.UNAVAILABLE,
        KVErrorCode.ADMISSION_DENIED: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.QUEUE_FULL: ErrorCode.RESOURCE_EXHAUSTED,
        KVErrorCode.DISPATCH_FAILED: ErrorCode.UNAVAILABLE,
        KVErrorCode.PLAN_INVALID: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.PREDICTOR_NOT_READY: ErrorCode.UNAVAILABLE,
        KVErrorCode.PREDICTION_FAILED: ErrorCode.UNAVAILABLE,
        KVErrorCode.FEATURE_MISSING: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.CONFIG_MISSING: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.CONFIG_INVALID: ErrorCode.INVALID_ARGUMENT,
        KVErrorCode.NOT_IMPLEMENTED: ErrorCode.NOT_IMPLEMENTED,
    }
)
"""The protocol-wide :class:`ErrorCode` each KV error code is reported as in an ``Error`` dict."""


class KVCacheError(Exception):
    """A KV-cache operation failed; ``str(error)`` is ``"<KV code>: <detail>"``."""

    code: KVErrorCode
    """What went wrong."""
    detail: str
    """A human-readable description without sensitive information."""

    def __init__(self, code: KVErrorCodeName | KVErrorCode, detail: str) -> None:
        self.code = KVErrorCode(code)
        self.detail = detail
        super().__init__(f"{self.code.value}: {detail}")

    @property
    def retryable(self) -> bool:
        """Whether the same operation may succeed if retried (see ``is_retryable``)."""
        return is_retryable(self.code)

    def to_error(self) -> Error:
        """This failure as the protocol's ``Error`` dict.

        The KV code maps onto the nearest :class:`ErrorCode` (budget and eviction
        failures are ``resource_exhausted``, bad handles ``invalid_argument``,
        transfer failures ``kv_transfer_failed`` …); the message keeps the KV code.
        """
        return {
            "code": _PROTOCOL_CODES[self.code],
            "message": str(self),
            "retryable": self.retryable,
        }


@runtime_checkable
class KVHook(Protocol):
    """A callback observing KV-cache operations, called before and after each one."""

    def __call__(self, payload: KVHookPayload, /) -> None:
        """Observe one event. ``payload["event"]`` says which; ``*_after`` events carry the
        outcome (``success``, ``error_message``) and the operation's ``elapsed_ms``.

        An exception raised here propagates to the caller of the operation: from a
        ``*_before`` event it aborts the operation before anything changed.
        """
        ...


@runtime_checkable
class KVCacheManager(Protocol):
    """In-process KV-cache manager over the hook parameter types (small handles).

    Failures raise :class:`KVCacheError`; the manager is unchanged after a failure.
    Registered hooks see a ``*_before`` and a ``*_after`` payload for every call.
    """

    def allocate(self, params: KVAllocateParams) -> KVHookHandle:
        """Allocate KV cache for ``params["num_tokens"]`` tokens of a request.

        The returned handle's ``num_tokens`` is what was actually reserved (it may be
        rounded up to whole blocks). Raises :class:`KVCacheError` with
        ``KV_POOL_FULL`` when the pool lacks free space, ``KV_BUDGET_EXCEEDED`` when
        the request exceeds the pool's whole capacity, ``KV_CONFIG_INVALID`` when
        the pool cannot honour ``block_size``, ``kv_dtype`` or ``layout``.
        """
        ...

    def free(self, params: KVFreeParams) -> None:
        """Release a handle and its tokens.

        Raises :class:`KVCacheError` with ``KV_HANDLE_PINNED`` for a pinned handle
        unless ``params["force"]``, ``KV_DOUBLE_FREE`` for a handle already freed,
        ``KV_HANDLE_NOT_FOUND`` for a handle this manager does not hold.
        """
        ...

    def evict(self, params: KVEvictParams) -> None:
        """Evict a handle: drop it, or offload it to ``params["target_device"]`` if given.

        An offloaded handle keeps its ``handle_id``. Raises :class:`KVCacheError`
        with ``KV_HANDLE_PINNED`` for a pinned handle, ``KV_HANDLE_NOT_FOUND`` for
        a handle this manager does not hold.
        """
        ...

    def migrate(self, params: KVMigrateParams) -> KVHookHandle:
        """Move a handle to ``params["target_device"]``; returns the new handle.

        The new handle has a new ``handle_id``; the old one is no longer valid.
        Raises :class:`KVCacheError` with ``KV_HANDLE_NOT_FOUND`` for a handle
        this manager does not hold, ``KV_TRANSFER_FAILED`` when the move fails.
        """
        ...

    def prefetch(self, params: KVPrefetchParams) -> None:
        """Bring a handle's data to ``params["target_device"]`` ahead of use.

        The handle keeps its ``handle_id``. Raises :class:`KVCacheError` with
        ``KV_HANDLE_NOT_FOUND`` for a handle this manager does not hold,
        ``KV_TRANSFER_FAILED`` when the transfer fails.
        """
        ...

    def register_hook(self, hook: KVHook) -> None:
        """Call ``hook`` for every later event, after the hooks registered before it.

        Raises ``ValueError`` if ``hook`` is already registered.
        """
        ...

    def unregister_hook(self, hook: KVHook) -> None:
        """Stop calling ``hook``. Raises ``ValueError`` if it is not registered."""
        ...

    def stats(self) -> KVPoolStats:
        """A snapshot of the pool's capacity, usage and operation counts (a new dict)."""
        ...


@runtime_checkable
class KVCacheService(Protocol):
    """KV-cache service over the request/response types (full handles, wire-ready results).

    Methods never raise for an operation that fails: the response says
    ``success: False`` and carries an ``Error`` (per handle for free/migrate).
    """

    def allocate(self, request: KVCacheAllocateRequest) -> KVCacheAllocateResponse:
        """Allocate KV cache for ``request["num_tokens"]`` tokens.

        On success the response carries the handle and what was actually
        allocated (tokens, bytes, device, memory tier); on failure ``error``
        (``resource_exhausted`` when the pool is full).
        """
        ...

    def free(self, request: KVCacheFreeRequest) -> KVCacheFreeResponse:
        """Free each of ``request["handle_ids"]``; each failure is reported under its id.

        Unknown, already freed and (without ``force``) pinned handles fail with
        ``invalid_argument``. ``success`` is true when every handle was freed.
        """
        ...

    def evict(self, request: KVCacheEvictRequest) -> KVCacheEvictResponse:
        """Evict handles by ``request["eviction_policy"]`` until the token/byte target is met.

        Pinned handles are spared unless ``allow_pin_override``. When the
        eligible handles cannot meet the target the response fails with
        ``resource_exhausted``.
        """
        ...

    def migrate(self, request: KVCacheMigrateRequest) -> KVCacheMigrateResponse:
        """Move (or with ``keep_source`` copy) handles to the target device/rank/tier.

        ``handle_mapping`` gives each migrated handle's new id; each failure is
        reported under its source id. ``success`` is true when every handle moved.
        """
        ...

    def stats(self) -> KVPoolStats:
        """A snapshot of the pool's capacity, usage and operation counts (a new dict)."""
        ...


@runtime_checkable
class EvictionStrategy(Protocol):
    """Scores handles under one eviction policy and picks victims to meet a target."""

    @property
    def policy(self) -> EvictionPolicyName | EvictionPolicy:
        """The policy this strategy implements; stored in each candidate it scores."""
        ...

    def score(self, handle: KVHandle, now: float) -> float:
        """The eviction score of ``handle`` at ``now`` (Unix seconds); higher evicts sooner."""
        ...

    def select_victims(
        self,
        candidates: Sequence[EvictionCandidate],
        *,
        target_tokens: int | None = None,
        target_bytes: int | None = None,
    ) -> list[EvictionCandidate]:
        """Victims in eviction order: the fewest top-ranked candidates that meet every target.

        ``target_tokens`` counts the handles' ``num_tokens``, ``target_bytes`` the
        candidates' ``size_bytes``. When all candidates together fall short, all are
        returned, ranked; the caller decides. Candidates are assumed evictable:
        filtering pinned or excluded handles is the caller's job. Raises
        ``ValueError`` when neither target is given.
        """
        ...


@runtime_checkable
class LifetimePredictor(Protocol):
    """Predicts how likely a KV handle is to be reused and how long it will live."""

    def predict(self, handle: KVHandle, now: float) -> LifetimePrediction:
        """The prediction for ``handle`` at ``now`` (Unix seconds).

        Raises :class:`KVCacheError` with ``KV_FEATURE_MISSING`` when the handle
        lacks what the predictor needs (e.g. a ``request_id``),
        ``KV_PREDICTOR_NOT_READY`` when the predictor cannot predict yet.
        """
        ...

    def predict_batch(self, handles: Sequence[KVHandle], now: float) -> list[LifetimePrediction]:
        """One prediction per handle, in order; raises as :meth:`predict` does."""
        ...


@runtime_checkable
class SchedulerPolicy(Protocol):
    """Chooses the next batch of requests that fits the KV pool."""

    def schedule(
        self, requests: Sequence[SchedulerRequest], stats: KVPoolStats, now: float
    ) -> SchedulerPlan:
        """A plan of the requests to run next, within ``stats["available_tokens"]``.

        The plan's requests are copies marked ``scheduled`` at ``now`` (Unix
        seconds); the inputs are not modified. A plan may be empty (nothing fits).
        """
        ...
