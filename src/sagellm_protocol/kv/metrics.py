"""KV-cache metric records: every key optional, an absent key means "not measured".

The original types were ``total=False`` TypedDicts with plain ``int``/``float``
keys and no defaults, so none are registered here. Bounds beyond the original:
counts, token/byte sizes, latencies (ms), bandwidths, averages and Unix-second
timestamps are >= 0; hit rates, ``fragmentation_ratio`` and ``prediction_accuracy``
are in [0, 1]; ``compression_ratio`` and ``load_imbalance_ratio`` are ratios that
can exceed 1, so only >= 0. Per-device maps are keyed by device string (not
format-checked: a key is a label here, not an address).
"""

from typing_extensions import NotRequired, TypedDict

from .._key_help import list_keys_in_help
from .._registry import register_wire_side
from ..constraints import NonNegativeFloat, NonNegativeInt, UnitInterval

__all__ = [
    "EvictionMetrics",
    "KVMetricsFields",
    "KVPoolMetrics",
    "OperationMetrics",
    "PrefixCacheMetrics",
    "SchedulerMetrics",
    "TransferMetrics",
]


class KVMetricsFields(TypedDict, closed=True):
    """Every KV-cache metric in one flat record (prefix cache, pool, eviction, transfer,
    scheduler, predictor).
    """

    hit_rate: NotRequired[UnitInterval]
    """Prefix cache hit rate in [0, 1]."""
    hit_count: NotRequired[NonNegativeInt]
    """Prefix cache hits."""
    miss_count: NotRequired[NonNegativeInt]
    """Prefix cache misses."""
    hit_len: NotRequired[NonNegativeInt]
    """Tokens matched by prefix cache hits."""
    avg_hit_len: NotRequired[NonNegativeFloat]
    """Mean prefix hit length (tokens)."""
    reuse_bytes: NotRequired[NonNegativeInt]
    """Bytes of KV data reused from the prefix cache."""
    prefill_saved_ms: NotRequired[NonNegativeFloat]
    """Prefill time saved by prefix reuse (ms)."""
    allocated_tokens: NotRequired[NonNegativeInt]
    """Tokens currently allocated in the pool."""
    allocated_bytes: NotRequired[NonNegativeInt]
    """Bytes currently allocated in the pool."""
    available_tokens: NotRequired[NonNegativeInt]
    """Tokens still available in the pool."""
    available_bytes: NotRequired[NonNegativeInt]
    """Bytes still available in the pool."""
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
    pinned_tokens: NotRequired[NonNegativeInt]
    """Tokens currently pinned (not evictable)."""
    fragmentation_ratio: NotRequired[UnitInterval]
    """Share of free pool memory lost to fragmentation, in [0, 1]."""
    evict_count: NotRequired[NonNegativeInt]
    """Blocks evicted."""
    evict_bytes: NotRequired[NonNegativeInt]
    """Bytes evicted."""
    evict_tokens: NotRequired[NonNegativeInt]
    """Tokens evicted."""
    evict_latency_ms: NotRequired[NonNegativeFloat]
    """Eviction latency (ms)."""
    evict_fail_count: NotRequired[NonNegativeInt]
    """Evictions that failed."""
    evict_trigger_count: NotRequired[NonNegativeInt]
    """Times eviction was triggered."""
    transfer_count: NotRequired[NonNegativeInt]
    """KV transfers performed."""
    transfer_bytes: NotRequired[NonNegativeInt]
    """Bytes transferred."""
    transfer_bw: NotRequired[NonNegativeFloat]
    """Transfer bandwidth, >= 0 (the original states no unit)."""
    transfer_latency_ms: NotRequired[NonNegativeFloat]
    """Transfer latency (ms)."""
    transfer_fail_count: NotRequired[NonNegativeInt]
    """Transfers that failed."""
    shard_count: NotRequired[NonNegativeInt]
    """Shards transferred."""
    compression_ratio: NotRequired[NonNegativeFloat]
    """Compression ratio of transferred data, >= 0 (may exceed 1)."""
    compression_latency_ms: NotRequired[NonNegativeFloat]
    """Time spent compressing (ms)."""
    decompression_latency_ms: NotRequired[NonNegativeFloat]
    """Time spent decompressing (ms)."""
    queue_length: NotRequired[NonNegativeInt]
    """Requests waiting in the scheduler queue."""
    wait_time_ms: NotRequired[NonNegativeFloat]
    """Queue wait time (ms)."""
    batch_size: NotRequired[NonNegativeInt]
    """Requests in the current batch."""
    avg_batch_size: NotRequired[NonNegativeFloat]
    """Mean batch size (requests)."""
    dispatch_latency_ms: NotRequired[NonNegativeFloat]
    """Dispatch latency (ms)."""
    admission_count: NotRequired[NonNegativeInt]
    """Requests admitted."""
    admission_reject_count: NotRequired[NonNegativeInt]
    """Requests rejected at admission."""
    prefix_group_size: NotRequired[NonNegativeInt]
    """Requests grouped by a shared prefix."""
    prefix_group_hit_rate: NotRequired[UnitInterval]
    """Hit rate of prefix grouping, in [0, 1]."""
    extra_queue_delay_ms: NotRequired[NonNegativeFloat]
    """Extra queueing delay caused by grouping or placement (ms)."""
    load_imbalance_ratio: NotRequired[NonNegativeFloat]
    """Load imbalance across devices, >= 0 (may exceed 1)."""
    device_kv_usage: NotRequired[dict[str, NonNegativeInt]]
    """KV usage per device string."""
    device_queue_length: NotRequired[dict[str, NonNegativeInt]]
    """Queue length per device string."""
    prediction_count: NotRequired[NonNegativeInt]
    """Lifetime predictions made."""
    prediction_accuracy: NotRequired[UnitInterval]
    """Lifetime prediction accuracy in [0, 1]."""
    prediction_latency_ms: NotRequired[NonNegativeFloat]
    """Prediction latency (ms)."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


class PrefixCacheMetrics(TypedDict, closed=True):
    """Prefix cache metrics."""

    hit_rate: NotRequired[UnitInterval]
    """Hit rate in [0, 1]."""
    hit_count: NotRequired[NonNegativeInt]
    """Hits."""
    miss_count: NotRequired[NonNegativeInt]
    """Misses."""
    hit_len: NotRequired[NonNegativeInt]
    """Tokens matched by hits."""
    avg_hit_len: NotRequired[NonNegativeFloat]
    """Mean hit length (tokens)."""
    reuse_bytes: NotRequired[NonNegativeInt]
    """Bytes of KV data reused."""
    prefill_saved_ms: NotRequired[NonNegativeFloat]
    """Prefill time saved by reuse (ms)."""
    index_size: NotRequired[NonNegativeInt]
    """Entries in the prefix index."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


class KVPoolMetrics(TypedDict, closed=True):
    """KV pool capacity and allocation metrics."""

    total_tokens: NotRequired[NonNegativeInt]
    """Pool capacity (tokens)."""
    allocated_tokens: NotRequired[NonNegativeInt]
    """Tokens allocated."""
    available_tokens: NotRequired[NonNegativeInt]
    """Tokens available."""
    total_bytes: NotRequired[NonNegativeInt]
    """Pool capacity (bytes)."""
    allocated_bytes: NotRequired[NonNegativeInt]
    """Bytes allocated."""
    available_bytes: NotRequired[NonNegativeInt]
    """Bytes available."""
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
    pinned_tokens: NotRequired[NonNegativeInt]
    """Tokens currently pinned."""
    fragmentation_ratio: NotRequired[UnitInterval]
    """Share of free memory lost to fragmentation, in [0, 1]."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


class EvictionMetrics(TypedDict, closed=True):
    """Eviction metrics."""

    evict_count: NotRequired[NonNegativeInt]
    """Blocks evicted."""
    evict_bytes: NotRequired[NonNegativeInt]
    """Bytes evicted."""
    evict_tokens: NotRequired[NonNegativeInt]
    """Tokens evicted."""
    evict_latency_ms: NotRequired[NonNegativeFloat]
    """Eviction latency (ms)."""
    evict_fail_count: NotRequired[NonNegativeInt]
    """Evictions that failed."""
    evict_trigger_count: NotRequired[NonNegativeInt]
    """Times eviction was triggered."""
    policy_used: NotRequired[str]
    """Name of the eviction policy used (free text, usually an ``EvictionPolicy`` value)."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


class TransferMetrics(TypedDict, closed=True):
    """KV transfer metrics."""

    transfer_count: NotRequired[NonNegativeInt]
    """Transfers performed."""
    transfer_bytes: NotRequired[NonNegativeInt]
    """Bytes transferred."""
    transfer_bw: NotRequired[NonNegativeFloat]
    """Transfer bandwidth, >= 0 (the original states no unit)."""
    transfer_latency_ms: NotRequired[NonNegativeFloat]
    """Transfer latency (ms)."""
    transfer_fail_count: NotRequired[NonNegativeInt]
    """Transfers that failed."""
    shard_count: NotRequired[NonNegativeInt]
    """Shards transferred."""
    compression_ratio: NotRequired[NonNegativeFloat]
    """Compression ratio, >= 0 (may exceed 1)."""
    compression_latency_ms: NotRequired[NonNegativeFloat]
    """Time spent compressing (ms)."""
    decompression_latency_ms: NotRequired[NonNegativeFloat]
    """Time spent decompressing (ms)."""
    backend_kind: NotRequired[str]
    """The transfer backend used (free text)."""
    topology_source: NotRequired[str]
    """Where the topology information came from (free text)."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


class SchedulerMetrics(TypedDict, closed=True):
    """KV-aware scheduler metrics."""

    queue_length: NotRequired[NonNegativeInt]
    """Requests waiting in the queue."""
    wait_time_ms: NotRequired[NonNegativeFloat]
    """Queue wait time (ms)."""
    batch_size: NotRequired[NonNegativeInt]
    """Requests in the current batch."""
    avg_batch_size: NotRequired[NonNegativeFloat]
    """Mean batch size (requests)."""
    dispatch_latency_ms: NotRequired[NonNegativeFloat]
    """Dispatch latency (ms)."""
    admission_count: NotRequired[NonNegativeInt]
    """Requests admitted."""
    admission_reject_count: NotRequired[NonNegativeInt]
    """Requests rejected at admission."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


class OperationMetrics(TypedDict, closed=True):
    """Counts and latencies of the allocate/free/evict/migrate operations."""

    allocate_count: NotRequired[NonNegativeInt]
    """Allocate requests."""
    allocate_success_count: NotRequired[NonNegativeInt]
    """Allocate requests that succeeded."""
    allocate_fail_count: NotRequired[NonNegativeInt]
    """Allocate requests that failed."""
    allocate_latency_ms: NotRequired[NonNegativeFloat]
    """Allocate latency (ms)."""
    allocate_prefix_hit_count: NotRequired[NonNegativeInt]
    """Allocate requests served by a prefix cache hit."""
    free_count: NotRequired[NonNegativeInt]
    """Free requests."""
    free_success_count: NotRequired[NonNegativeInt]
    """Free requests that succeeded."""
    free_fail_count: NotRequired[NonNegativeInt]
    """Free requests that failed."""
    free_latency_ms: NotRequired[NonNegativeFloat]
    """Free latency (ms)."""
    free_kept_in_cache_count: NotRequired[NonNegativeInt]
    """Frees that kept the data in the prefix cache."""
    evict_request_count: NotRequired[NonNegativeInt]
    """Evict requests."""
    evict_success_count: NotRequired[NonNegativeInt]
    """Evict requests that succeeded."""
    evict_fail_count: NotRequired[NonNegativeInt]
    """Evict requests that failed."""
    evict_latency_ms: NotRequired[NonNegativeFloat]
    """Evict latency (ms)."""
    evict_target_bytes: NotRequired[NonNegativeInt]
    """Bytes requested for eviction."""
    evict_actual_bytes: NotRequired[NonNegativeInt]
    """Bytes actually evicted."""
    migrate_count: NotRequired[NonNegativeInt]
    """Migrate requests."""
    migrate_success_count: NotRequired[NonNegativeInt]
    """Migrate requests that succeeded."""
    migrate_fail_count: NotRequired[NonNegativeInt]
    """Migrate requests that failed."""
    migrate_latency_ms: NotRequired[NonNegativeFloat]
    """Migrate latency (ms)."""
    migrate_bandwidth_mbps: NotRequired[NonNegativeFloat]
    """Migration bandwidth (MB/s)."""
    migrate_compressed_count: NotRequired[NonNegativeInt]
    """Migrations that used compression."""
    migrate_async_count: NotRequired[NonNegativeInt]
    """Migrations run asynchronously."""
    timestamp: NotRequired[NonNegativeFloat]
    """When the metrics were taken (Unix seconds)."""


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side(
    "response",
    EvictionMetrics,
    KVMetricsFields,
    KVPoolMetrics,
    OperationMetrics,
    PrefixCacheMetrics,
    SchedulerMetrics,
    TransferMetrics,
)

list_keys_in_help(globals())
