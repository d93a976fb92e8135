"""KV-cache hook parameters (the original ``kv_hooks`` module).

:class:`KVHandle` here is the small hook-side handle (a string id, request, token
count, device); the full KV-cache handle is :class:`sagellm_protocol.kv.types.KVHandle`.
:class:`KVDType`/:class:`KVLayout` are the narrower dtypes and layouts hooks accept.
"""

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from .._enum import StrEnum
from .._key_help import list_keys_in_help
from .._registry import register_defaults, register_wire_side
from ..constraints import DeviceStr, JSONObject, NonNegativeFloat, PositiveFloat, PositiveInt

__wire_namespace__ = ""
"""The hook types keep root wire names (``KVHandle``), as in the original ``kv_hooks``."""

__all__ = [
    "KVAllocateParams",
    "KVDType",
    "KVDTypeName",
    "KVEvictParams",
    "KVEvictReason",
    "KVEvictReasonName",
    "KVFreeParams",
    "KVHandle",
    "KVHookEvent",
    "KVHookEventName",
    "KVHookPayload",
    "KVLayout",
    "KVLayoutName",
    "KVMigrateParams",
    "KVPrefetchParams",
    "KVPriority",
    "KVPriorityName",
    "KVQoSPolicy",
]

KVDTypeName: TypeAlias = Literal["fp16", "bf16", "fp8", "int8"]
"""Wire values of :class:`KVDType`."""


class KVDType(StrEnum):
    """Data types a KV hook allocation may use."""

    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"


KVLayoutName: TypeAlias = Literal["bshd", "bhsd"]
"""Wire values of :class:`KVLayout`."""


class KVLayout(StrEnum):
    """Memory layouts a KV hook allocation may use."""

    BSHD = "bshd"
    BHSD = "bhsd"


KVEvictReasonName: TypeAlias = Literal["memory_pressure", "ttl_expired", "explicit_free"]
"""Wire values of :class:`KVEvictReason`."""


class KVEvictReason(StrEnum):
    """Why KV data was evicted."""

    MEMORY_PRESSURE = "memory_pressure"
    TTL_EXPIRED = "ttl_expired"
    EXPLICIT_FREE = "explicit_free"


KVPriorityName: TypeAlias = Literal["critical", "high", "medium", "low", "background"]
"""Wire values of :class:`KVPriority`."""


class KVPriority(StrEnum):
    """Named priority classes of KV operations, most urgent first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    BACKGROUND = "background"


KVHookEventName: TypeAlias = Literal[
    "allocate_before",
    "allocate_after",
    "free_before",
    "free_after",
    "evict_before",
    "evict_after",
    "migrate_before",
    "migrate_after",
    "prefetch_before",
    "prefetch_after",
]
"""Wire values of :class:`KVHookEvent`."""


class KVHookEvent(StrEnum):
    """The point of a KV operation at which a hook fires."""

    ALLOCATE_BEFORE = "allocate_before"
    ALLOCATE_AFTER = "allocate_after"
    FREE_BEFORE = "free_before"
    FREE_AFTER = "free_after"
    EVICT_BEFORE = "evict_before"
    EVICT_AFTER = "evict_after"
    MIGRATE_BEFORE = "migrate_before"
    MIGRATE_AFTER = "migrate_after"
    PREFETCH_BEFORE = "prefetch_before"
    PREFETCH_AFTER = "prefetch_after"


class KVAllocateParams(TypedDict, closed=True):
    """Parameters of a KV allocation through the hook interface."""

    request_id: str
    """Request identifier."""
    num_tokens: PositiveInt
    """Tokens to allocate (> 0)."""
    kv_dtype: KVDTypeName | KVDType
    """KV data type."""
    layout: KVLayoutName | KVLayout
    """KV memory layout."""
    block_size: PositiveInt
    """Block size (tokens, > 0)."""
    trace_id: NotRequired[str | None]
    """Distributed tracing identifier."""
    priority: NotRequired[int]
    """Allocation priority; higher goes first (when the scheduler supports it)."""
    qos_labels: NotRequired[dict[str, str]]
    """QoS labels, e.g. ``{"tier": "premium", "slo": "latency"}``."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    KVAllocateParams,
    {"trace_id": None, "priority": 0, "qos_labels": {}, "metadata": {}},
)


class KVHandle(TypedDict, closed=True):
    """The hook-side handle of a KV allocation."""

    handle_id: str
    """Handle identifier."""
    request_id: str
    """The request the handle belongs to."""
    num_tokens: int
    """Tokens allocated."""
    device: DeviceStr
    """Device holding the data, e.g. ``"cuda:0"``, ``"npu:0"``."""


class KVMigrateParams(TypedDict, closed=True):
    """Parameters of a KV migration through the hook interface."""

    kv_handle: KVHandle
    """The handle to migrate."""
    target_device: DeviceStr
    """Device to migrate to, e.g. ``"cuda:1"``."""
    trace_id: NotRequired[str | None]
    """Distributed tracing identifier."""
    priority: NotRequired[int]
    """Migration priority; higher goes first."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(KVMigrateParams, {"trace_id": None, "priority": 0, "metadata": {}})


class KVQoSPolicy(TypedDict, closed=True):
    """Quality-of-service policy of KV allocations: tier, latency SLO, wait limit, protection."""

    tier: NotRequired[str]
    """Service tier, e.g. ``"premium"``, ``"standard"``, ``"best_effort"``."""
    slo_latency_ms: NotRequired[PositiveFloat | None]
    """Latency SLO (ms, > 0); service degrades when it is missed."""
    max_wait_ms: NotRequired[PositiveFloat | None]
    """Longest wait for resources (ms, > 0) before failing with resource exhaustion."""
    evict_protected: NotRequired[bool]
    """Whether the data is protected from eviction, even under memory pressure."""


register_defaults(
    KVQoSPolicy,
    {"tier": "default", "slo_latency_ms": None, "max_wait_ms": None, "evict_protected": False},
)


class KVHookPayload(TypedDict, closed=True):
    """What a KV hook receives when it fires."""

    event: KVHookEventName | KVHookEvent
    """The event that fired."""
    request_id: str
    """The request concerned."""
    trace_id: NotRequired[str | None]
    """Distributed tracing identifier."""
    kv_handle: NotRequired[KVHandle | None]
    """The handle concerned, once allocated."""
    evict_reason: NotRequired[KVEvictReasonName | KVEvictReason | None]
    """Why data was evicted (eviction events only)."""
    device: NotRequired[DeviceStr | None]
    """Device concerned."""
    elapsed_ms: NotRequired[NonNegativeFloat]
    """Time the operation took (ms)."""
    success: NotRequired[bool]
    """Whether the operation succeeded."""
    error_message: NotRequired[str | None]
    """What went wrong, on failure."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    KVHookPayload,
    {
        "trace_id": None,
        "kv_handle": None,
        "evict_reason": None,
        "device": None,
        "elapsed_ms": 0.0,
        "success": True,
        "error_message": None,
        "metadata": {},
    },
)


class KVFreeParams(TypedDict, closed=True):
    """Parameters of freeing a KV handle through the hook interface."""

    kv_handle: KVHandle
    """The handle to free."""
    force: NotRequired[bool]
    """Whether to free even when pinned."""
    trace_id: NotRequired[str | None]
    """Distributed tracing identifier."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(KVFreeParams, {"force": False, "trace_id": None, "metadata": {}})


class KVEvictParams(TypedDict, closed=True):
    """Parameters of evicting a KV handle through the hook interface."""

    kv_handle: KVHandle
    """The handle to evict."""
    reason: KVEvictReasonName | KVEvictReason
    """Why it is evicted."""
    target_device: NotRequired[DeviceStr | None]
    """Device to move the data to; dropped when absent."""
    trace_id: NotRequired[str | None]
    """Distributed tracing identifier."""
    priority: NotRequired[int]
    """Eviction priority."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    KVEvictParams,
    {"target_device": None, "trace_id": None, "priority": 0, "metadata": {}},
)


class KVPrefetchParams(TypedDict, closed=True):
    """Parameters of prefetching a KV handle to a device through the hook interface."""

    request_id: str
    """Request identifier."""
    kv_handle: KVHandle
    """The handle to prefetch."""
    target_device: DeviceStr
    """Device to prefetch to, e.g. ``"cuda:0"``."""
    priority: NotRequired[int]
    """Prefetch priority; higher goes first."""
    trace_id: NotRequired[str | None]
    """Distributed tracing identifier."""
    prefetch_window_tokens: NotRequired[PositiveInt | None]
    """Tokens to prefetch (> 0); the whole handle when absent."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    KVPrefetchParams,
    {
        "priority": 0,
        "trace_id": None,
        "prefetch_window_tokens": None,
        "metadata": {},
    },
)


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side("request", KVQoSPolicy)

list_keys_in_help(globals())
