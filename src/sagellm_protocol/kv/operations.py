"""Requests and responses of the KV-cache service: allocate, free, evict, migrate."""

from collections.abc import Iterator, Mapping
from typing import Any

from typing_extensions import NotRequired, TypedDict

from .._key_help import list_keys_in_help
from .._registry import InvariantViolation, register_defaults, register_invariant
from ..constraints import (
    DeviceStr,
    JSONObject,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    UUIDStr,
)
from ..core import Error
from .enums import (
    DType,
    DTypeName,
    EvictionPolicy,
    EvictionPolicyName,
    Layout,
    LayoutName,
    MemoryTier,
    MemoryTierName,
    TransferDirection,
    TransferDirectionName,
    TransferStatus,
    TransferStatusName,
)
from .types import KVHandle, KVTransferMetadata

__all__ = [
    "KVCacheAllocateRequest",
    "KVCacheAllocateResponse",
    "KVCacheEvictRequest",
    "KVCacheEvictResponse",
    "KVCacheFreeRequest",
    "KVCacheFreeResponse",
    "KVCacheMigrateRequest",
    "KVCacheMigrateResponse",
]


class KVCacheAllocateRequest(TypedDict, closed=True):
    """Allocate KV cache for a request's tokens, optionally reusing a cached prefix."""

    request_id: str
    """Request identifier."""
    session_id: NotRequired[str | None]
    """Session identifier (keeps sessions' memory apart)."""
    trace_id: str
    """Distributed tracing identifier."""
    num_tokens: PositiveInt
    """Tokens to allocate."""
    token_start: NotRequired[NonNegativeInt]
    """First token position."""
    token_end: NotRequired[NonNegativeInt | None]
    """End token position (exclusive), >= ``token_start`` when given."""
    dtype: NotRequired[DTypeName | DType]
    """Element data type."""
    layout: NotRequired[LayoutName | Layout]
    """Memory layout."""
    device: NotRequired[DeviceStr]
    """Target device, e.g. ``"cuda:0"``, ``"npu:0"``, ``"cpu"``."""
    memory_tier: NotRequired[MemoryTierName | MemoryTier]
    """Target memory tier."""
    allow_fallback: NotRequired[bool]
    """Whether allocation may fall back to another tier (e.g. CPU when GPU memory is short)."""
    pin_on_allocate: NotRequired[bool]
    """Whether to pin the allocation right away (protect it from eviction)."""
    priority: NotRequired[int]
    """Allocation priority; higher goes first."""
    prefix_hash: NotRequired[str | None]
    """Prefix hash to look up in the prefix cache."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""
    rank: NotRequired[NonNegativeInt | None]
    """Target node rank (distributed)."""
    placement: NotRequired[str | None]
    """Placement strategy, e.g. ``"tp_shard"``, ``"replicated"``."""


register_defaults(
    KVCacheAllocateRequest,
    {
        "session_id": None,
        "token_start": 0,
        "token_end": None,
        "dtype": "fp16",
        "layout": "contiguous",
        "device": "cpu",
        "memory_tier": "cpu",
        "allow_fallback": True,
        "pin_on_allocate": False,
        "priority": 0,
        "prefix_hash": None,
        "metadata": {},
        "rank": None,
        "placement": None,
    },
)


@register_invariant(KVCacheAllocateRequest)
def _allocate_token_range(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """token_start <= token_end when token_end is given (``None`` means open-ended)."""
    token_start, token_end = value.get("token_start", 0), value.get("token_end")
    if token_end is not None and token_start > token_end:
        yield (
            ("token_start",),
            f"expected token_start <= token_end ({token_end}), got {token_start}",
        )


class KVCacheAllocateResponse(TypedDict, closed=True):
    """The result of an allocation: the handle, what was actually allocated, prefix reuse."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    success: bool
    """Whether the allocation succeeded."""
    handle: NotRequired[KVHandle | None]
    """The allocated handle, on success."""
    allocated_tokens: NotRequired[NonNegativeInt]
    """Tokens actually allocated."""
    allocated_bytes: NotRequired[NonNegativeInt]
    """Bytes actually allocated."""
    actual_device: NotRequired[DeviceStr | None]
    """Device actually used (differs from the request's after a fallback)."""
    actual_memory_tier: NotRequired[MemoryTierName | MemoryTier | None]
    """Memory tier actually used."""
    prefix_hit: NotRequired[bool]
    """Whether the prefix cache was hit."""
    prefix_hit_len: NotRequired[NonNegativeInt]
    """Prefix hit length (tokens)."""
    reused_bytes: NotRequired[NonNegativeInt]
    """Bytes reused from the prefix cache."""
    error: NotRequired[Error | None]
    """The error, on failure."""
    timestamp: NotRequired[NonNegativeFloat]
    """Response time (Unix seconds)."""


register_defaults(
    KVCacheAllocateResponse,
    {
        "handle": None,
        "allocated_tokens": 0,
        "allocated_bytes": 0,
        "actual_device": None,
        "actual_memory_tier": None,
        "prefix_hit": False,
        "prefix_hit_len": 0,
        "reused_bytes": 0,
        "error": None,
        "timestamp": 0.0,
    },
)


class KVCacheFreeRequest(TypedDict, closed=True):
    """Free KV handles, or only drop a reference, or keep them in the prefix cache."""

    request_id: str
    """Request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    handle_ids: list[UUIDStr]
    """Handles to free."""
    force: NotRequired[bool]
    """Whether to free even pinned handles (ignores ``pin_count``)."""
    decrement_ref_only: NotRequired[bool]
    """Whether to only decrement the reference count (no free while ``ref_count`` > 1)."""
    keep_in_cache: NotRequired[bool]
    """Whether to keep the data in the prefix cache for reuse."""


register_defaults(
    KVCacheFreeRequest,
    {"force": False, "decrement_ref_only": False, "keep_in_cache": False},
)


class KVCacheFreeResponse(TypedDict, closed=True):
    """The result of a free: which handles were freed, what it released, per-handle errors."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    success: bool
    """Whether every handle was freed."""
    freed_handles: NotRequired[list[UUIDStr]]
    """Handles freed."""
    failed_handles: NotRequired[list[UUIDStr]]
    """Handles that could not be freed."""
    freed_tokens: NotRequired[NonNegativeInt]
    """Tokens released."""
    freed_bytes: NotRequired[NonNegativeInt]
    """Bytes released."""
    errors: NotRequired[dict[str, Error]]
    """Error of each failed handle: ``{handle_id: error}``."""
    timestamp: NotRequired[NonNegativeFloat]
    """Response time (Unix seconds)."""


register_defaults(
    KVCacheFreeResponse,
    {
        "freed_handles": [],
        "failed_handles": [],
        "freed_tokens": 0,
        "freed_bytes": 0,
        "errors": {},
        "timestamp": 0.0,
    },
)


class KVCacheEvictRequest(TypedDict, closed=True):
    """Evict KV data until a token or byte target is met, within an optional scope."""

    request_id: str
    """Request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    target_tokens: NotRequired[PositiveInt | None]
    """Tokens to evict; when absent, ``target_bytes`` applies."""
    target_bytes: NotRequired[PositiveInt | None]
    """Bytes to evict."""
    eviction_policy: NotRequired[EvictionPolicyName | EvictionPolicy]
    """Policy choosing the victims."""
    device: NotRequired[DeviceStr | None]
    """Only evict on this device; all devices when absent."""
    memory_tier: NotRequired[MemoryTierName | MemoryTier | None]
    """Only evict from this memory tier."""
    exclude_handle_ids: NotRequired[list[UUIDStr]]
    """Handles never to evict."""
    exclude_session_ids: NotRequired[list[str]]
    """Sessions whose handles are never evicted."""
    allow_pin_override: NotRequired[bool]
    """Whether pinned blocks may be evicted (use with care)."""
    prefer_cold_data: NotRequired[bool]
    """Whether to evict cold data first."""


register_defaults(
    KVCacheEvictRequest,
    {
        "target_tokens": None,
        "target_bytes": None,
        "eviction_policy": "lru",
        "device": None,
        "memory_tier": None,
        "exclude_handle_ids": [],
        "exclude_session_ids": [],
        "allow_pin_override": False,
        "prefer_cold_data": True,
    },
)


class KVCacheEvictResponse(TypedDict, closed=True):
    """The result of an eviction: evicted handles, what was released, latency."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    success: bool
    """Whether the eviction succeeded."""
    evicted_handles: NotRequired[list[UUIDStr]]
    """Handles evicted."""
    evicted_tokens: NotRequired[NonNegativeInt]
    """Tokens evicted."""
    evicted_bytes: NotRequired[NonNegativeInt]
    """Bytes evicted."""
    eviction_count: NotRequired[NonNegativeInt]
    """Blocks evicted."""
    eviction_latency_ms: NotRequired[NonNegativeFloat]
    """Eviction latency (ms)."""
    error: NotRequired[Error | None]
    """The error, on failure."""
    timestamp: NotRequired[NonNegativeFloat]
    """Response time (Unix seconds)."""


register_defaults(
    KVCacheEvictResponse,
    {
        "evicted_handles": [],
        "evicted_tokens": 0,
        "evicted_bytes": 0,
        "eviction_count": 0,
        "eviction_latency_ms": 0.0,
        "error": None,
        "timestamp": 0.0,
    },
)


class KVCacheMigrateRequest(TypedDict, closed=True):
    """Move (or copy) KV handles to another device, rank or memory tier."""

    request_id: str
    """Request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    handle_ids: list[UUIDStr]
    """Handles to migrate."""
    source_device: DeviceStr
    """Device the data comes from."""
    source_rank: NotRequired[NonNegativeInt | None]
    """Node rank the data comes from (distributed)."""
    target_device: DeviceStr
    """Device the data goes to."""
    target_rank: NotRequired[NonNegativeInt | None]
    """Node rank the data goes to (distributed)."""
    target_memory_tier: NotRequired[MemoryTierName | MemoryTier | None]
    """Memory tier the data goes to."""
    transfer_direction: NotRequired[TransferDirectionName | TransferDirection]
    """Transfer direction."""
    async_transfer: NotRequired[bool]
    """Whether to transfer asynchronously."""
    compression_enabled: NotRequired[bool]
    """Whether to compress the data in transit."""
    pin_on_arrival: NotRequired[bool]
    """Whether to pin the data on arrival (protect it from eviction)."""
    keep_source: NotRequired[bool]
    """Whether to keep the source copy (copy rather than move)."""
    priority: NotRequired[int]
    """Migration priority; higher goes first."""
    enable_checksum: NotRequired[bool]
    """Whether to verify the data with a checksum."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    KVCacheMigrateRequest,
    {
        "source_rank": None,
        "target_rank": None,
        "target_memory_tier": None,
        "transfer_direction": "send",
        "async_transfer": False,
        "compression_enabled": False,
        "pin_on_arrival": False,
        "keep_source": False,
        "priority": 0,
        "enable_checksum": True,
        "metadata": {},
    },
)


class KVCacheMigrateResponse(TypedDict, closed=True):
    """The result of a migration: moved handles, their new ids, volumes, latency, status."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    success: bool
    """Whether every handle was migrated."""
    migrated_handles: NotRequired[list[UUIDStr]]
    """Handles migrated."""
    failed_handles: NotRequired[list[UUIDStr]]
    """Handles that could not be migrated."""
    handle_mapping: NotRequired[dict[str, UUIDStr]]
    """New handle id of each migrated handle: ``{source_handle_id: target_handle_id}``."""
    transferred_tokens: NotRequired[NonNegativeInt]
    """Tokens transferred."""
    transferred_bytes: NotRequired[NonNegativeInt]
    """Bytes transferred."""
    compressed_bytes: NotRequired[NonNegativeInt]
    """Bytes after compression, when compression was on."""
    transfer_metadata: NotRequired[list[KVTransferMetadata]]
    """Transfer metadata of each migrated block."""
    transfer_latency_ms: NotRequired[NonNegativeFloat]
    """Transfer latency (ms)."""
    transfer_bandwidth_mbps: NotRequired[NonNegativeFloat]
    """Transfer bandwidth (MB/s)."""
    transfer_status: NotRequired[TransferStatusName | TransferStatus]
    """Transfer status."""
    errors: NotRequired[dict[str, Error]]
    """Error of each failed handle: ``{handle_id: error}``."""
    timestamp: NotRequired[NonNegativeFloat]
    """Response time (Unix seconds)."""


register_defaults(
    KVCacheMigrateResponse,
    {
        "migrated_handles": [],
        "failed_handles": [],
        "handle_mapping": {},
        "transferred_tokens": 0,
        "transferred_bytes": 0,
        "compressed_bytes": 0,
        "transfer_metadata": [],
        "transfer_latency_ms": 0.0,
        "transfer_bandwidth_mbps": 0.0,
        "transfer_status": "completed",
        "errors": {},
        "timestamp": 0.0,
    },
)

list_keys_in_help(globals())
