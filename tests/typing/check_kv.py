"""Static checks of the KV-cache types (run under mypy --strict, never executed)."""

from typing_extensions import assert_type

from sagellm_protocol import kv
from sagellm_protocol.kv import (
    CompressionType,
    DType,
    EvictionCandidate,
    EvictionPolicy,
    KVBlock,
    KVCacheAllocateRequest,
    KVCacheAllocateResponse,
    KVCacheEvictRequest,
    KVCacheFreeResponse,
    KVCacheMigrateRequest,
    KVCacheMigrateResponse,
    KVErrorCode,
    KVHandle,
    KVHookEvent,
    KVHookPayload,
    KVPoolMetrics,
    KVPoolStats,
    KVTransferMetadata,
    Layout,
    MemoryTier,
    SchedulerPlan,
    SchedulerRequest,
    TransferStatus,
    is_retryable,
    kv_error_category,
)
from sagellm_protocol.kv.hooks import KVAllocateParams, KVDType, KVEvictParams, KVQoSPolicy
from sagellm_protocol.kv.hooks import KVHandle as HookHandle

HANDLE_ID = "2f1c6c1e-9d7a-4b8e-8a53-0c6f1d1e2a3b"

# --- construction: JSON strings and enum constants both pass ---------------------------------
handle: KVHandle = {"handle_id": HANDLE_ID, "num_tokens": 16}
full_handle: KVHandle = {
    "handle_id": HANDLE_ID,
    "num_tokens": 16,
    "token_start": 0,
    "token_end": 16,
    "dtype": DType.BF16,
    "layout": "paged",
    "device": "cuda:0",
    "memory_tier": MemoryTier.GPU,
    "state": "pinned",
    "compression_type": CompressionType.NONE,
    "metadata": {"any": ["json", 1]},
    "transfer_id": None,
    "rank": None,
}
block: KVBlock = {"block_id": 0, "handle": handle, "block_size": 16, "size_bytes": 4096}
transfer: KVTransferMetadata = {
    "transfer_id": HANDLE_ID,
    "request_id": "r",
    "trace_id": "t",
    "layer_start": 0,
    "layer_end": 32,
    "token_start": 0,
    "token_end": 16,
    "num_heads": 8,
    "head_dim": 128,
    "dtype": "fp16",
    "layout": Layout.BHSD,
    "total_bytes": 4096,
    "source_device": "cuda:0",
    "target_device": "cuda:1",
    "status": TransferStatus.IN_PROGRESS,
    "started_at": 1.5,
}
candidate: EvictionCandidate = {
    "handle": handle,
    "score": 0.5,
    "eviction_policy": EvictionPolicy.LIFETIME_AWARE,
    "last_access": 0.0,
    "size_bytes": 4096,
}
scheduled: SchedulerRequest = {
    "request_id": "r",
    "trace_id": "t",
    "request_type": "decoding",
    "prompt_len": 4,
    "max_new_tokens": 8,
}
plan: SchedulerPlan = {
    "plan_id": HANDLE_ID,
    "requests": [scheduled],
    "batch_size": 1,
    "placement": {"r": "cuda:0"},
}
stats: KVPoolStats = {
    "total_tokens": 100,
    "allocated_tokens": 10,
    "available_tokens": 90,
    "total_bytes": 1000,
    "allocated_bytes": 100,
    "available_bytes": 900,
    "total_blocks": 10,
    "allocated_blocks": 1,
    "free_blocks": 9,
    "pinned_blocks": 0,
}
allocate: KVCacheAllocateRequest = {
    "request_id": "r",
    "trace_id": "t",
    "num_tokens": 16,
    "token_end": None,
    "dtype": DType.FP8,
}
allocated: KVCacheAllocateResponse = {
    "request_id": "r",
    "trace_id": "t",
    "success": False,
    "handle": None,
    "error": {"code": "resource_exhausted", "message": "pool full", "retryable": True},
}
freed: KVCacheFreeResponse = {
    "request_id": "r",
    "trace_id": "t",
    "success": False,
    "errors": {HANDLE_ID: {"code": "kv_transfer_failed", "message": "gone"}},
}
evict: KVCacheEvictRequest = {"request_id": "r", "trace_id": "t", "memory_tier": None}
migrate: KVCacheMigrateRequest = {
    "request_id": "r",
    "trace_id": "t",
    "handle_ids": [HANDLE_ID],
    "source_device": "cuda:0",
    "target_device": "cpu",
}
migrated: KVCacheMigrateResponse = {
    "request_id": "r",
    "trace_id": "t",
    "success": True,
    "handle_mapping": {HANDLE_ID: HANDLE_ID},
    "transfer_metadata": [transfer],
}
pool_metrics: KVPoolMetrics = {}
pool_metrics_some: KVPoolMetrics = {"fragmentation_ratio": 0.1, "timestamp": 1.0}

hook_handle: HookHandle = {
    "handle_id": "h-1",
    "request_id": "r",
    "num_tokens": 16,
    "device": "npu:0",
}
params: KVAllocateParams = {
    "request_id": "r",
    "num_tokens": 16,
    "kv_dtype": KVDType.BF16,
    "layout": "bshd",
    "block_size": 16,
}
evict_params: KVEvictParams = {"kv_handle": hook_handle, "reason": "ttl_expired"}
payload: KVHookPayload = {"event": KVHookEvent.EVICT_AFTER, "request_id": "r", "kv_handle": None}
qos: KVQoSPolicy = {}

assert_type(handle["handle_id"], str)
assert_type(handle.get("rank"), int | None)
assert_type(transfer["layer_end"], int)
assert_type(allocated.get("handle"), KVHandle | None)
assert_type(is_retryable(KVErrorCode.TRANSFER_TIMEOUT), bool)
assert_type(is_retryable("KV_POOL_FULL"), bool)
assert_type(kv_error_category("KV_POOL_FULL"), str)
assert_type(kv.KV_ERROR_CATEGORIES["budget"], tuple[KVErrorCode, ...])

# --- expected errors ---------------------------------------------------------------------------
# A missing required key.
no_tokens: KVHandle = {"handle_id": HANDLE_ID}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
# A wrong value type.
bad_tokens: KVHandle = {"handle_id": HANDLE_ID, "num_tokens": "16"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
bad_success: KVCacheFreeResponse = {"request_id": "r", "trace_id": "t", "success": 1}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
# An unknown key on a closed type.
extra: KVPoolStats = {**stats, "used_tokens": 3}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
extra_metric: KVPoolMetrics = {"pool_size": 3}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
extra_hook: HookHandle = {**hook_handle, "num_blocks": 1}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
# A typo'd enumeration value.
typo_dtype: KVCacheAllocateRequest = {**allocate, "dtype": "fp61"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
typo_tier: KVHandle = {**handle, "memory_tier": "hbm"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
typo_kv_dtype: KVAllocateParams = {**params, "kv_dtype": "fp32"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
typo_event: KVHookPayload = {"event": "allocate", "request_id": "r"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
typo_code = is_retryable("KV_POOL_FUL")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
# null where the wire does not allow it.
null_device: KVHandle = {**handle, "device": None}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
# The constants are read-only.
kv.KV_ERROR_CATEGORIES["budget"] = ()  # type: ignore[index]  # pyright: ignore[reportIndexIssue]
kv.RETRYABLE_KV_ERRORS = frozenset()  # type: ignore[misc]

# --- the two KV handles are different types ----------------------------------------------------
as_full: KVHandle = hook_handle  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
as_hook: HookHandle = handle  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
hook_in_block: KVBlock = {**block, "handle": hook_handle}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
full_in_hook_params: KVEvictParams = {"kv_handle": handle, "reason": "ttl_expired"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
