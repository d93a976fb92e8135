"""KV-cache data types: handles, blocks, transfer metadata, prefix entries, scheduling, stats.

:class:`KVHandle` here is the full KV-cache handle; the small hook-side handle is
:class:`sagellm_protocol.kv.hooks.KVHandle`.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from typing_extensions import NotRequired, TypedDict

from .._key_help import list_keys_in_help
from .._registry import (
    InvariantViolation,
    register_defaults,
    register_invariant,
    register_wire_side,
)
from ..constraints import (
    DeviceStr,
    JSONObject,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    UnitInterval,
    UUIDStr,
)
from .enums import (
    CompressionType,
    CompressionTypeName,
    DType,
    DTypeName,
    EvictionPolicy,
    EvictionPolicyName,
    KVBlockState,
    KVBlockStateName,
    Layout,
    LayoutName,
    MemoryTier,
    MemoryTierName,
    RequestType,
    RequestTypeName,
    SchedulerState,
    SchedulerStateName,
    TransferDirection,
    TransferDirectionName,
    TransferStatus,
    TransferStatusName,
)

__all__ = [
    "EvictionCandidate",
    "KVBlock",
    "KVHandle",
    "KVPoolStats",
    "KVTransferMetadata",
    "LifetimePrediction",
    "PrefixCacheEntry",
    "SchedulerPlan",
    "SchedulerRequest",
]


class KVHandle(TypedDict, closed=True):
    """A KV-cache allocation: where its tokens live, its state, and its reference counts."""

    handle_id: UUIDStr
    """Unique handle identifier."""
    request_id: NotRequired[str | None]
    """The request the handle belongs to."""
    session_id: NotRequired[str | None]
    """The session the handle belongs to (keeps sessions' memory apart)."""
    num_tokens: NonNegativeInt
    """Tokens allocated."""
    token_start: NotRequired[NonNegativeInt]
    """First token position covered."""
    token_end: NotRequired[NonNegativeInt]
    """End token position (exclusive); 0 means not set, otherwise >= ``token_start``."""
    dtype: NotRequired[DTypeName | DType]
    """Element data type."""
    layout: NotRequired[LayoutName | Layout]
    """Memory layout."""
    device: NotRequired[DeviceStr]
    """Device holding the data, e.g. ``"cuda:0"``, ``"npu:0"``, ``"cpu"``."""
    memory_tier: NotRequired[MemoryTierName | MemoryTier]
    """Memory tier holding the data."""
    state: NotRequired[KVBlockStateName | KVBlockState]
    """Lifecycle state."""
    pin_count: NotRequired[NonNegativeInt]
    """Pin count; the handle cannot be evicted while > 0."""
    ref_count: NotRequired[NonNegativeInt]
    """Reference count."""
    last_access: NotRequired[NonNegativeFloat]
    """Last access time (Unix seconds)."""
    access_count: NotRequired[NonNegativeInt]
    """Number of accesses."""
    created_at: NotRequired[NonNegativeFloat]
    """Creation time (Unix seconds)."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""
    is_compressed: NotRequired[bool]
    """Whether the data is compressed."""
    compression_type: NotRequired[CompressionTypeName | CompressionType]
    """Compression applied."""
    prefix_hash: NotRequired[str | None]
    """Prefix hash indexing the handle in the prefix cache."""
    rank: NotRequired[NonNegativeInt | None]
    """Rank of the node holding the handle (distributed)."""
    placement: NotRequired[str | None]
    """Placement strategy, e.g. ``"tp_shard"``, ``"replicated"``, ``"migrated"``."""
    source_rank: NotRequired[NonNegativeInt | None]
    """Rank the handle was migrated from."""
    transfer_id: NotRequired[UUIDStr | None]
    """The transfer in progress, if any."""
    is_transferring: NotRequired[bool]
    """Whether a transfer is in progress."""


register_defaults(
    KVHandle,
    {
        "request_id": None,
        "session_id": None,
        "token_start": 0,
        "token_end": 0,
        "dtype": "fp16",
        "layout": "contiguous",
        "device": "cpu",
        "memory_tier": "cpu",
        "state": "allocated",
        "pin_count": 0,
        "ref_count": 1,
        "last_access": 0.0,
        "access_count": 0,
        "created_at": 0.0,
        "metadata": {},
        "is_compressed": False,
        "compression_type": "none",
        "prefix_hash": None,
        "rank": None,
        "placement": None,
        "source_rank": None,
        "transfer_id": None,
        "is_transferring": False,
    },
)


@register_invariant(KVHandle)
def _handle_token_range(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """token_start <= token_end, unless token_end is 0.

    ``token_end`` defaults to 0 in the original while ``token_start`` may be set
    alone, so the original emits ``token_start=5, token_end=0`` for a handle whose
    range end was never set. 0 therefore means "not set" and is not checked.
    """
    token_start, token_end = value.get("token_start", 0), value.get("token_end", 0)
    if token_end != 0 and token_start > token_end:
        yield (
            ("token_start",),
            f"expected token_start <= token_end ({token_end}), got {token_start}",
        )


class KVBlock(TypedDict, closed=True):
    """A block of a KV pool and the handle it belongs to."""

    block_id: NonNegativeInt
    """Block identifier, unique within the pool."""
    handle: KVHandle
    """The handle owning the block."""
    block_size: PositiveInt
    """Block size (tokens)."""
    size_bytes: NonNegativeInt
    """Memory taken by the block (bytes)."""
    offset: NotRequired[NonNegativeInt]
    """Offset in the memory pool."""
    layer_idx: NotRequired[NonNegativeInt]
    """Model layer index."""
    head_idx: NotRequired[NonNegativeInt]
    """Attention head index."""


register_defaults(KVBlock, {"offset": 0, "layer_idx": 0, "head_idx": 0})


class KVTransferMetadata(TypedDict, closed=True):
    """What one KV transfer (or one shard of it) carries: layers, tokens, shape, shard, status."""

    transfer_id: UUIDStr
    """Unique transfer identifier."""
    request_id: str
    """The request whose KV data moves."""
    trace_id: str
    """Distributed tracing identifier."""
    layer_start: NonNegativeInt
    """First layer index, <= ``layer_end``."""
    layer_end: NonNegativeInt
    """End layer index (exclusive)."""
    token_start: NonNegativeInt
    """First token position, <= ``token_end``."""
    token_end: NonNegativeInt
    """End token position (exclusive)."""
    num_heads: PositiveInt
    """Attention heads."""
    head_dim: PositiveInt
    """Dimension of each head."""
    dtype: DTypeName | DType
    """Element data type."""
    layout: LayoutName | Layout
    """Memory layout."""
    shard_id: NotRequired[NonNegativeInt]
    """This shard's index, < ``shard_count``."""
    shard_count: NotRequired[PositiveInt]
    """Total shards."""
    offset: NotRequired[NonNegativeInt]
    """Offset of the shard in the payload (bytes)."""
    length: NotRequired[NonNegativeInt]
    """Shard length (bytes)."""
    is_compressed: NotRequired[bool]
    """Whether the data is compressed."""
    compression_type: NotRequired[CompressionTypeName | CompressionType]
    """Compression applied."""
    original_size: NotRequired[NonNegativeInt]
    """Size before compression (bytes)."""
    checksum: NotRequired[str | None]
    """Checksum of the data (CRC32/MD5)."""
    total_bytes: NonNegativeInt
    """Total size (bytes)."""
    direction: NotRequired[TransferDirectionName | TransferDirection]
    """Transfer direction."""
    source_device: DeviceStr
    """Device the data comes from."""
    target_device: DeviceStr
    """Device the data goes to."""
    status: NotRequired[TransferStatusName | TransferStatus]
    """Transfer status."""
    created_at: NotRequired[NonNegativeFloat]
    """Creation time (Unix seconds); 0 when not recorded."""
    started_at: NotRequired[float | None]
    """When the transfer started (Unix seconds)."""
    completed_at: NotRequired[float | None]
    """When the transfer completed (Unix seconds)."""


register_defaults(
    KVTransferMetadata,
    {
        "shard_id": 0,
        "shard_count": 1,
        "offset": 0,
        "length": 0,
        "is_compressed": False,
        "compression_type": "none",
        "original_size": 0,
        "checksum": None,
        "direction": "send",
        "status": "pending",
        "created_at": 0.0,
        "started_at": None,
        "completed_at": None,
    },
)


def _ranges_ordered(value: Mapping[str, Any]) -> bool:
    return bool(
        value["layer_start"] <= value["layer_end"]
        and value["token_start"] <= value["token_end"]
        and value.get("shard_id", 0) < value.get("shard_count", 1)
    )


@register_invariant(KVTransferMetadata, holds=_ranges_ordered)
def _transfer_ranges(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """layer_start <= layer_end, token_start <= token_end, shard_id < shard_count.

    Both ends are exclusive, so empty ranges (start == end) are allowed.
    """
    layer_start, layer_end = value["layer_start"], value["layer_end"]
    if layer_start > layer_end:
        yield (
            ("layer_start",),
            f"expected layer_start <= layer_end ({layer_end}), got {layer_start}",
        )
    token_start, token_end = value["token_start"], value["token_end"]
    if token_start > token_end:
        yield (
            ("token_start",),
            f"expected token_start <= token_end ({token_end}), got {token_start}",
        )
    shard_id, shard_count = value.get("shard_id", 0), value.get("shard_count", 1)
    if shard_id >= shard_count:
        yield (
            ("shard_id",),
            f"expected shard_id < shard_count ({shard_count}), got {shard_id}",
        )


def _stamps_settled(value: Mapping[str, Any]) -> bool:
    """The common cases: nothing after ``created_at`` is recorded, or every stamp is, in order."""
    return bool(
        (value.get("started_at") is None and value.get("completed_at") is None)
        or (
            value.get("started_at") is not None
            and value.get("completed_at") is not None
            and value["started_at"] <= value["completed_at"]
            and (
                value.get("created_at", 0.0) == 0
                or value.get("created_at", 0.0) <= value["started_at"]
            )
        )
    )


@register_invariant(KVTransferMetadata, holds=_stamps_settled)
def _transfer_timestamps(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """created_at <= started_at <= completed_at, over the timestamps that are set.

    ``created_at`` 0 (its default) and ``None`` mean "not recorded" and are skipped;
    each recorded timestamp is compared with the nearest recorded one before it.
    """
    previous: tuple[str, float] | None = None
    for name in ("created_at", "started_at", "completed_at"):
        stamp = value.get(name)
        if stamp is None or (name == "created_at" and stamp == 0):
            continue
        if previous is not None and stamp < previous[1]:
            yield (
                (name,),
                f"expected {name} >= {previous[0]} ({previous[1]}), got {stamp}",
            )
        previous = (name, stamp)


class PrefixCacheEntry(TypedDict, closed=True):
    """A prefix-cache entry: a token prefix and the handle holding its KV data."""

    prefix_hash: str
    """Hash of the prefix."""
    prefix_tokens: list[int]
    """The prefix token ids."""
    handle: KVHandle
    """The handle holding the prefix's KV data."""
    hit_count: NotRequired[NonNegativeInt]
    """Number of hits."""
    reuse_bytes: NotRequired[NonNegativeInt]
    """Bytes reused through this entry."""
    created_at: NotRequired[NonNegativeFloat]
    """Creation time (Unix seconds)."""
    last_hit_at: NotRequired[NonNegativeFloat]
    """Last hit time (Unix seconds)."""


register_defaults(
    PrefixCacheEntry,
    {"hit_count": 0, "reuse_bytes": 0, "created_at": 0.0, "last_hit_at": 0.0},
)


class EvictionCandidate(TypedDict, closed=True):
    """A handle considered for eviction, with its score under a policy."""

    handle: KVHandle
    """The candidate handle."""
    score: float
    """Eviction score; higher means evict sooner."""
    eviction_policy: EvictionPolicyName | EvictionPolicy
    """The policy that produced the score."""
    last_access: float
    """Last access time (Unix seconds)."""
    access_count: NotRequired[NonNegativeInt]
    """Number of accesses."""
    size_bytes: NonNegativeInt
    """Memory taken (bytes)."""
    reuse_prob: NotRequired[UnitInterval | None]
    """Probability of future reuse, in [0, 1]."""
    remaining_lifetime: NotRequired[NonNegativeFloat | None]
    """Predicted remaining lifetime (steps or seconds, as the predictor reports)."""


register_defaults(
    EvictionCandidate,
    {"access_count": 0, "reuse_prob": None, "remaining_lifetime": None},
)


class SchedulerRequest(TypedDict, closed=True):
    """A request as the KV-aware scheduler sees it: size, KV needs, state, placement."""

    request_id: str
    """Request identifier."""
    session_id: NotRequired[str | None]
    """Session identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    request_type: RequestTypeName | RequestType
    """The phase the request runs."""
    prompt_len: NonNegativeInt
    """Prompt length (tokens)."""
    max_new_tokens: PositiveInt
    """Maximum tokens to generate."""
    generated_len: NotRequired[NonNegativeInt]
    """Tokens generated so far."""
    priority: NotRequired[int]
    """Priority; higher runs first."""
    deadline: NotRequired[float | None]
    """Deadline (Unix seconds)."""
    kv_tokens_required: NotRequired[NonNegativeInt]
    """KV tokens the request needs."""
    memory_required_mb: NotRequired[NonNegativeFloat]
    """Memory the request needs (MB)."""
    prefix_fingerprint: NotRequired[str | None]
    """Prefix fingerprint, for grouping requests that share a prefix."""
    prefix_hit_len: NotRequired[NonNegativeInt]
    """Prefix cache hit length (tokens)."""
    state: NotRequired[SchedulerStateName | SchedulerState]
    """Scheduling state."""
    queued_at: NotRequired[NonNegativeFloat]
    """When the request was queued (Unix seconds); 0 when not recorded."""
    scheduled_at: NotRequired[float | None]
    """When the request was scheduled (Unix seconds)."""
    device_affinity: NotRequired[str | None]
    """Preferred placement (free text: a device or a node label)."""
    worker_id: NotRequired[str | None]
    """The worker the request was assigned to."""


register_defaults(
    SchedulerRequest,
    {
        "session_id": None,
        "generated_len": 0,
        "priority": 0,
        "deadline": None,
        "kv_tokens_required": 0,
        "memory_required_mb": 0.0,
        "prefix_fingerprint": None,
        "prefix_hit_len": 0,
        "state": "queued",
        "queued_at": 0.0,
        "scheduled_at": None,
        "device_affinity": None,
        "worker_id": None,
    },
)


@register_invariant(SchedulerRequest)
def _scheduler_request_timestamps(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """queued_at <= scheduled_at when both are recorded (``queued_at`` 0 means not recorded)."""
    queued_at, scheduled_at = value.get("queued_at", 0.0), value.get("scheduled_at")
    if scheduled_at is not None and queued_at != 0 and scheduled_at < queued_at:
        yield (
            ("scheduled_at",),
            f"expected scheduled_at >= queued_at ({queued_at}), got {scheduled_at}",
        )


class SchedulerPlan(TypedDict, closed=True):
    """A batch the scheduler decided to run, with its KV/memory needs and placement."""

    plan_id: UUIDStr
    """Plan identifier."""
    requests: list[SchedulerRequest]
    """The batched requests."""
    batch_size: NonNegativeInt
    """Batch size (requests)."""
    total_kv_tokens: NotRequired[NonNegativeInt]
    """KV tokens the batch needs."""
    total_memory_mb: NotRequired[NonNegativeFloat]
    """Memory the batch needs (MB)."""
    placement: NotRequired[dict[str, DeviceStr]]
    """Device of each request: ``{request_id: device}``."""
    created_at: NotRequired[NonNegativeFloat]
    """Creation time (Unix seconds)."""


register_defaults(
    SchedulerPlan,
    {"total_kv_tokens": 0, "total_memory_mb": 0.0, "placement": {}, "created_at": 0.0},
)


class LifetimePrediction(TypedDict, closed=True):
    """A predictor's estimate of a handle's reuse and remaining lifetime."""

    handle_id: UUIDStr
    """The handle predicted for."""
    request_id: str
    """The request the handle belongs to."""
    reuse_prob: UnitInterval
    """Probability of future reuse, in [0, 1]."""
    remaining_lifetime: NonNegativeFloat
    """Predicted remaining lifetime (steps or seconds, as the predictor reports)."""
    evict_score: float
    """Eviction score for lifetime-aware eviction; higher means evict sooner."""
    confidence: NotRequired[UnitInterval]
    """Confidence of the prediction, in [0, 1]."""
    features_summary: NotRequired[JSONObject]
    """Summary of the features the prediction used."""
    predicted_at: NotRequired[NonNegativeFloat]
    """Prediction time (Unix seconds)."""


register_defaults(
    LifetimePrediction,
    {"confidence": 1.0, "features_summary": {}, "predicted_at": 0.0},
)


class KVPoolStats(TypedDict, closed=True):
    """A snapshot of a KV pool's capacity, usage and operation counts."""

    total_tokens: NonNegativeInt
    """Capacity (tokens)."""
    allocated_tokens: NonNegativeInt
    """Tokens allocated."""
    available_tokens: NonNegativeInt
    """Tokens available."""
    total_bytes: NonNegativeInt
    """Capacity (bytes)."""
    allocated_bytes: NonNegativeInt
    """Bytes allocated."""
    available_bytes: NonNegativeInt
    """Bytes available."""
    total_blocks: NonNegativeInt
    """Blocks in the pool."""
    allocated_blocks: NonNegativeInt
    """Blocks allocated."""
    free_blocks: NonNegativeInt
    """Blocks free."""
    pinned_blocks: NonNegativeInt
    """Blocks pinned."""
    alloc_count: NotRequired[NonNegativeInt]
    """Allocations performed."""
    free_count: NotRequired[NonNegativeInt]
    """Frees performed."""
    alloc_fail_count: NotRequired[NonNegativeInt]
    """Allocations that failed."""
    pin_count: NotRequired[NonNegativeInt]
    """Pin operations."""
    unpin_count: NotRequired[NonNegativeInt]
    """Unpin operations."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the snapshot was taken (Unix seconds)."""


register_defaults(
    KVPoolStats,
    {
        "alloc_count": 0,
        "free_count": 0,
        "alloc_fail_count": 0,
        "pin_count": 0,
        "unpin_count": 0,
        "timestamp": 0.0,
    },
)


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side("both", PrefixCacheEntry)

list_keys_in_help(globals())
