"""The KV-cache package: exact shapes, enum values, defaults, error helpers and invariants."""

import typing
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

import pytest
from typeguard import suppress_type_checks
from typing_extensions import get_type_hints, is_typeddict

from sagellm_protocol import backend
from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.defaults import defaults
from sagellm_protocol.kv import enums, errors, hooks, metrics, operations, types
from sagellm_protocol.kv.errors import (
    KV_ERROR_CATEGORIES,
    RETRYABLE_KV_ERRORS,
    KVErrorCode,
    is_retryable,
    kv_error_category,
)

# --- shapes ------------------------------------------------------------------------------------
# Keys in declaration (= wire) order; a trailing "*" marks a required key.
SHAPES: dict[Any, str] = {
    types.KVHandle: "handle_id* request_id session_id num_tokens* token_start token_end dtype "
    "layout device memory_tier state pin_count ref_count last_access access_count created_at "
    "metadata is_compressed compression_type prefix_hash rank placement source_rank transfer_id "
    "is_transferring",
    types.KVBlock: "block_id* handle* block_size* size_bytes* offset layer_idx head_idx",
    types.KVTransferMetadata: "transfer_id* request_id* trace_id* layer_start* layer_end* "
    "token_start* token_end* num_heads* head_dim* dtype* layout* shard_id shard_count offset "
    "length is_compressed compression_type original_size checksum total_bytes* direction "
    "source_device* target_device* status created_at started_at completed_at",
    types.PrefixCacheEntry: "prefix_hash* prefix_tokens* handle* hit_count reuse_bytes "
    "created_at last_hit_at",
    types.EvictionCandidate: "handle* score* eviction_policy* last_access* access_count "
    "size_bytes* reuse_prob remaining_lifetime",
    types.SchedulerRequest: "request_id* session_id trace_id* request_type* prompt_len* "
    "max_new_tokens* generated_len priority deadline kv_tokens_required memory_required_mb "
    "prefix_fingerprint prefix_hit_len state queued_at scheduled_at device_affinity worker_id",
    types.SchedulerPlan: "plan_id* requests* batch_size* total_kv_tokens total_memory_mb "
    "placement created_at",
    types.LifetimePrediction: "handle_id* request_id* reuse_prob* remaining_lifetime* "
    "evict_score* confidence features_summary predicted_at",
    types.KVPoolStats: "total_tokens* allocated_tokens* available_tokens* total_bytes* "
    "allocated_bytes* available_bytes* total_blocks* allocated_blocks* free_blocks* "
    "pinned_blocks* alloc_count free_count alloc_fail_count pin_count unpin_count timestamp",
    operations.KVCacheAllocateRequest: "request_id* session_id trace_id* num_tokens* token_start "
    "token_end dtype layout device memory_tier allow_fallback pin_on_allocate priority "
    "prefix_hash metadata rank placement",
    operations.KVCacheAllocateResponse: "request_id* trace_id* success* handle allocated_tokens "
    "allocated_bytes actual_device actual_memory_tier prefix_hit prefix_hit_len reused_bytes "
    "error timestamp",
    operations.KVCacheFreeRequest: "request_id* trace_id* handle_ids* force decrement_ref_only "
    "keep_in_cache",
    operations.KVCacheFreeResponse: "request_id* trace_id* success* freed_handles "
    "failed_handles freed_tokens freed_bytes errors timestamp",
    operations.KVCacheEvictRequest: "request_id* trace_id* target_tokens target_bytes "
    "eviction_policy device memory_tier exclude_handle_ids exclude_session_ids "
    "allow_pin_override prefer_cold_data",
    operations.KVCacheEvictResponse: "request_id* trace_id* success* evicted_handles "
    "evicted_tokens evicted_bytes eviction_count eviction_latency_ms error timestamp",
    operations.KVCacheMigrateRequest: "request_id* trace_id* handle_ids* source_device* "
    "source_rank target_device* target_rank target_memory_tier transfer_direction async_transfer "
    "compression_enabled pin_on_arrival keep_source priority enable_checksum metadata",
    operations.KVCacheMigrateResponse: "request_id* trace_id* success* migrated_handles "
    "failed_handles handle_mapping transferred_tokens transferred_bytes compressed_bytes "
    "transfer_metadata transfer_latency_ms transfer_bandwidth_mbps transfer_status errors "
    "timestamp",
    hooks.KVAllocateParams: "request_id* num_tokens* kv_dtype* layout* block_size* trace_id "
    "priority qos_labels metadata",
    hooks.KVHandle: "handle_id* request_id* num_tokens* device*",
    hooks.KVMigrateParams: "kv_handle* target_device* trace_id priority metadata",
    hooks.KVQoSPolicy: "tier slo_latency_ms max_wait_ms evict_protected",
    hooks.KVHookPayload: "event* request_id* trace_id kv_handle evict_reason device elapsed_ms "
    "success error_message metadata",
    hooks.KVFreeParams: "kv_handle* force trace_id metadata",
    hooks.KVEvictParams: "kv_handle* reason* target_device trace_id priority metadata",
    hooks.KVPrefetchParams: "request_id* kv_handle* target_device* priority trace_id "
    "prefetch_window_tokens metadata",
    metrics.KVMetricsFields: "hit_rate hit_count miss_count hit_len avg_hit_len reuse_bytes "
    "prefill_saved_ms allocated_tokens allocated_bytes available_tokens available_bytes "
    "alloc_count free_count alloc_fail_count pin_count unpin_count pinned_tokens "
    "fragmentation_ratio evict_count evict_bytes evict_tokens evict_latency_ms evict_fail_count "
    "evict_trigger_count transfer_count transfer_bytes transfer_bw transfer_latency_ms "
    "transfer_fail_count shard_count compression_ratio compression_latency_ms "
    "decompression_latency_ms queue_length wait_time_ms batch_size avg_batch_size "
    "dispatch_latency_ms admission_count admission_reject_count prefix_group_size "
    "prefix_group_hit_rate extra_queue_delay_ms load_imbalance_ratio device_kv_usage "
    "device_queue_length prediction_count prediction_accuracy prediction_latency_ms timestamp",
    metrics.PrefixCacheMetrics: "hit_rate hit_count miss_count hit_len avg_hit_len reuse_bytes "
    "prefill_saved_ms index_size timestamp",
    metrics.KVPoolMetrics: "total_tokens allocated_tokens available_tokens total_bytes "
    "allocated_bytes available_bytes alloc_count free_count alloc_fail_count pin_count "
    "unpin_count pinned_tokens fragmentation_ratio timestamp",
    metrics.EvictionMetrics: "evict_count evict_bytes evict_tokens evict_latency_ms "
    "evict_fail_count evict_trigger_count policy_used timestamp",
    metrics.TransferMetrics: "transfer_count transfer_bytes transfer_bw transfer_latency_ms "
    "transfer_fail_count shard_count compression_ratio compression_latency_ms "
    "decompression_latency_ms backend_kind topology_source timestamp",
    metrics.SchedulerMetrics: "queue_length wait_time_ms batch_size avg_batch_size "
    "dispatch_latency_ms admission_count admission_reject_count timestamp",
    metrics.OperationMetrics: "allocate_count allocate_success_count allocate_fail_count "
    "allocate_latency_ms allocate_prefix_hit_count free_count free_success_count free_fail_count "
    "free_latency_ms free_kept_in_cache_count evict_request_count evict_success_count "
    "evict_fail_count evict_latency_ms evict_target_bytes evict_actual_bytes migrate_count "
    "migrate_success_count migrate_fail_count migrate_latency_ms migrate_bandwidth_mbps "
    "migrate_compressed_count migrate_async_count timestamp",
}

METRICS = [
    metrics.KVMetricsFields,
    metrics.PrefixCacheMetrics,
    metrics.KVPoolMetrics,
    metrics.EvictionMetrics,
    metrics.TransferMetrics,
    metrics.SchedulerMetrics,
    metrics.OperationMetrics,
]


def _params(table: Mapping[Any, Any]) -> list[Any]:
    return [
        pytest.param(tp, value, id=f"{tp.__module__}.{tp.__name__}") for tp, value in table.items()
    ]


def test_every_kv_typeddict_has_a_shape() -> None:
    declared = {
        getattr(module, name)
        for module in (types, operations, hooks, metrics)
        for name in module.__all__
        if is_typeddict(getattr(module, name))
    }
    assert declared == set(SHAPES)


@pytest.mark.parametrize(("tp", "shape"), _params(SHAPES))
def test_shape(tp: Any, shape: str) -> None:
    keys = [key.rstrip("*") for key in shape.split()]
    required = {key.rstrip("*") for key in shape.split() if key.endswith("*")}
    assert list(get_type_hints(tp)) == keys
    assert tp.__required_keys__ == required
    assert tp.__optional_keys__ == set(keys) - required
    assert tp.__closed__ is True


def test_the_two_kv_handles_are_different_types() -> None:
    import sagellm_protocol.kv

    assert sagellm_protocol.kv.KVHandle is types.KVHandle
    assert sagellm_protocol.kv.hooks.KVHandle is hooks.KVHandle
    assert types.KVHandle is not hooks.KVHandle


# --- enumerations ------------------------------------------------------------------------------
ENUMS: dict[Any, tuple[Any, tuple[str, ...]]] = {
    enums.KVBlockState: (
        enums.KVBlockStateName,
        ("allocated", "cached", "pinned", "evicting", "free"),
    ),
    enums.Layout: (enums.LayoutName, ("bshd", "bhsd", "paged", "contiguous")),
    enums.MemoryTier: (enums.MemoryTierName, ("gpu", "cpu", "nvme", "cxl")),
    enums.EvictionPolicy: (
        enums.EvictionPolicyName,
        ("lru", "lfu", "fifo", "ttl", "lifetime_aware", "priority"),
    ),
    enums.TransferStatus: (
        enums.TransferStatusName,
        ("pending", "in_progress", "completed", "failed", "cancelled"),
    ),
    enums.TransferDirection: (enums.TransferDirectionName, ("send", "recv")),
    enums.CompressionType: (
        enums.CompressionTypeName,
        ("none", "fp16_to_fp8", "quantize_int8", "quantize_int4", "lz4", "zstd"),
    ),
    enums.RequestType: (enums.RequestTypeName, ("prefill", "decoding", "hybrid")),
    enums.SchedulerState: (
        enums.SchedulerStateName,
        ("queued", "scheduled", "dispatched", "executing", "completed", "failed", "cancelled"),
    ),
    enums.DType: (enums.DTypeName, ("fp32", "fp16", "bf16", "fp8", "int8", "int4")),
    hooks.KVDType: (hooks.KVDTypeName, ("fp16", "bf16", "fp8", "int8")),
    hooks.KVLayout: (hooks.KVLayoutName, ("bshd", "bhsd")),
    hooks.KVEvictReason: (
        hooks.KVEvictReasonName,
        ("memory_pressure", "ttl_expired", "explicit_free"),
    ),
    hooks.KVPriority: (hooks.KVPriorityName, ("critical", "high", "medium", "low", "background")),
    hooks.KVHookEvent: (
        hooks.KVHookEventName,
        (
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
        ),
    ),
    errors.KVErrorCode: (
        errors.KVErrorCodeName,
        (
            "KV_BUDGET_EXCEEDED",
            "KV_MEMORY_EXHAUSTED",
            "KV_POOL_FULL",
            "KV_CACHE_ALLOCATION_FAILED",
            "KV_CACHE_NOT_FOUND",
            "KV_INVALID_HANDLE",
            "KV_DOUBLE_FREE",
            "KV_HANDLE_PINNED",
            "KV_HANDLE_NOT_FOUND",
            "KV_REF_COUNT_UNDERFLOW",
            "KV_CACHE_MISS",
            "KV_PREFIX_TOO_LONG",
            "KV_INVALID_PREFIX",
            "KV_INDEX_CORRUPTED",
            "KV_NO_VICTIM",
            "KV_EVICTION_FAILED",
            "KV_ALL_PINNED",
            "KV_EVICTION_TIMEOUT",
            "KV_TRANSFER_FAILED",
            "KV_TRANSFER_TIMEOUT",
            "KV_SHARD_MISSING",
            "KV_SHARD_DUPLICATE",
            "KV_CHECKSUM_MISMATCH",
            "KV_METADATA_MISMATCH",
            "KV_COMPRESSION_FAILED",
            "KV_DECOMPRESSION_FAILED",
            "KV_BACKEND_UNAVAILABLE",
            "KV_ADMISSION_DENIED",
            "KV_QUEUE_FULL",
            "KV_DISPATCH_FAILED",
            "KV_PLAN_INVALID",
            "KV_PREDICTOR_NOT_READY",
            "KV_PREDICTION_FAILED",
            "KV_FEATURE_MISSING",
            "KV_CONFIG_MISSING",
            "KV_CONFIG_INVALID",
            "KV_NOT_IMPLEMENTED",
        ),
    ),
}


@pytest.mark.parametrize(("enum", "expected"), _params(ENUMS))
def test_enum_values_match_their_literal(
    enum: type[Enum], expected: tuple[Any, tuple[str, ...]]
) -> None:
    alias, values = expected
    assert tuple(member.value for member in enum) == values
    assert typing.get_args(alias) == values
    assert all(member == member.value and str(member) == member.value for member in enum)


def test_kv_dtype_is_the_backend_dtype() -> None:
    assert enums.DType is backend.DType
    assert enums.DTypeName is backend.DTypeName


# --- defaults ----------------------------------------------------------------------------------
DEFAULTS: dict[Any, dict[str, Any]] = {
    types.KVHandle: {
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
    types.KVBlock: {"offset": 0, "layer_idx": 0, "head_idx": 0},
    types.KVTransferMetadata: {
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
    types.PrefixCacheEntry: {
        "hit_count": 0,
        "reuse_bytes": 0,
        "created_at": 0.0,
        "last_hit_at": 0.0,
    },
    types.EvictionCandidate: {"access_count": 0, "reuse_prob": None, "remaining_lifetime": None},
    types.SchedulerRequest: {
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
    types.SchedulerPlan: {
        "total_kv_tokens": 0,
        "total_memory_mb": 0.0,
        "placement": {},
        "created_at": 0.0,
    },
    types.LifetimePrediction: {"confidence": 1.0, "features_summary": {}, "predicted_at": 0.0},
    types.KVPoolStats: {
        "alloc_count": 0,
        "free_count": 0,
        "alloc_fail_count": 0,
        "pin_count": 0,
        "unpin_count": 0,
        "timestamp": 0.0,
    },
    operations.KVCacheAllocateRequest: {
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
    operations.KVCacheAllocateResponse: {
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
    operations.KVCacheFreeRequest: {
        "force": False,
        "decrement_ref_only": False,
        "keep_in_cache": False,
    },
    operations.KVCacheFreeResponse: {
        "freed_handles": [],
        "failed_handles": [],
        "freed_tokens": 0,
        "freed_bytes": 0,
        "errors": {},
        "timestamp": 0.0,
    },
    operations.KVCacheEvictRequest: {
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
    operations.KVCacheEvictResponse: {
        "evicted_handles": [],
        "evicted_tokens": 0,
        "evicted_bytes": 0,
        "eviction_count": 0,
        "eviction_latency_ms": 0.0,
        "error": None,
        "timestamp": 0.0,
    },
    operations.KVCacheMigrateRequest: {
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
    operations.KVCacheMigrateResponse: {
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
    hooks.KVAllocateParams: {"trace_id": None, "priority": 0, "qos_labels": {}, "metadata": {}},
    hooks.KVHandle: {},
    hooks.KVMigrateParams: {"trace_id": None, "priority": 0, "metadata": {}},
    hooks.KVQoSPolicy: {
        "tier": "default",
        "slo_latency_ms": None,
        "max_wait_ms": None,
        "evict_protected": False,
    },
    hooks.KVHookPayload: {
        "trace_id": None,
        "kv_handle": None,
        "evict_reason": None,
        "device": None,
        "elapsed_ms": 0.0,
        "success": True,
        "error_message": None,
        "metadata": {},
    },
    hooks.KVFreeParams: {"force": False, "trace_id": None, "metadata": {}},
    hooks.KVEvictParams: {"target_device": None, "trace_id": None, "priority": 0, "metadata": {}},
    hooks.KVPrefetchParams: {
        "priority": 0,
        "trace_id": None,
        "prefetch_window_tokens": None,
        "metadata": {},
    },
}


@pytest.mark.parametrize(("tp", "expected"), _params(DEFAULTS))
def test_defaults_cover_every_optional_key(tp: Any, expected: dict[str, Any]) -> None:
    registered = defaults(tp)
    assert set(registered) == tp.__optional_keys__
    assert registered == expected
    assert [type(value) for value in registered.values()] == [
        type(value) for value in expected.values()
    ]


@pytest.mark.parametrize("tp", METRICS)
def test_metrics_have_no_defaults(tp: Any) -> None:
    """An absent metric means "not measured"; the original had no defaults to register."""
    assert defaults(tp) == {}


def test_mutable_defaults_are_fresh() -> None:
    first = defaults(operations.KVCacheMigrateResponse)
    first["handle_mapping"]["a"] = "b"
    assert defaults(operations.KVCacheMigrateResponse)["handle_mapping"] == {}


# --- error codes -------------------------------------------------------------------------------
def test_error_categories() -> None:
    assert isinstance(KV_ERROR_CATEGORIES, MappingProxyType)
    assert {
        name: [code.value for code in codes] for name, codes in KV_ERROR_CATEGORIES.items()
    } == {
        "budget": [
            "KV_BUDGET_EXCEEDED",
            "KV_MEMORY_EXHAUSTED",
            "KV_POOL_FULL",
            "KV_CACHE_ALLOCATION_FAILED",
        ],
        "handle": [
            "KV_INVALID_HANDLE",
            "KV_DOUBLE_FREE",
            "KV_HANDLE_PINNED",
            "KV_HANDLE_NOT_FOUND",
            "KV_REF_COUNT_UNDERFLOW",
            "KV_CACHE_NOT_FOUND",
        ],
        "cache": ["KV_CACHE_MISS", "KV_PREFIX_TOO_LONG", "KV_INVALID_PREFIX", "KV_INDEX_CORRUPTED"],
        "evict": ["KV_NO_VICTIM", "KV_EVICTION_FAILED", "KV_ALL_PINNED", "KV_EVICTION_TIMEOUT"],
        "transfer": [
            "KV_TRANSFER_FAILED",
            "KV_TRANSFER_TIMEOUT",
            "KV_SHARD_MISSING",
            "KV_SHARD_DUPLICATE",
            "KV_CHECKSUM_MISMATCH",
            "KV_METADATA_MISMATCH",
            "KV_COMPRESSION_FAILED",
            "KV_DECOMPRESSION_FAILED",
            "KV_BACKEND_UNAVAILABLE",
        ],
        "scheduler": [
            "KV_ADMISSION_DENIED",
            "KV_QUEUE_FULL",
            "KV_DISPATCH_FAILED",
            "KV_PLAN_INVALID",
        ],
        "predictor": ["KV_PREDICTOR_NOT_READY", "KV_PREDICTION_FAILED", "KV_FEATURE_MISSING"],
        "config": ["KV_CONFIG_MISSING", "KV_CONFIG_INVALID", "KV_NOT_IMPLEMENTED"],
    }
    assert all(type(codes) is tuple for codes in KV_ERROR_CATEGORIES.values())
    every = [code for codes in KV_ERROR_CATEGORIES.values() for code in codes]
    assert sorted(every) == sorted(KVErrorCode)


def test_error_categories_are_immutable() -> None:
    with pytest.raises(TypeError, match="does not support item assignment"):
        KV_ERROR_CATEGORIES["budget"] = ()  # type: ignore[index]


def test_retryable_codes() -> None:
    assert isinstance(RETRYABLE_KV_ERRORS, frozenset)
    assert {code.value for code in RETRYABLE_KV_ERRORS} == {
        "KV_EVICTION_TIMEOUT",
        "KV_TRANSFER_TIMEOUT",
        "KV_BACKEND_UNAVAILABLE",
        "KV_PREDICTOR_NOT_READY",
    }


@pytest.mark.parametrize("code", list(KVErrorCode), ids=str)
def test_is_retryable_exactly_for_retryable_codes(code: KVErrorCode) -> None:
    expected = code in {
        KVErrorCode.EVICTION_TIMEOUT,
        KVErrorCode.TRANSFER_TIMEOUT,
        KVErrorCode.BACKEND_UNAVAILABLE,
        KVErrorCode.PREDICTOR_NOT_READY,
    }
    assert is_retryable(code) is expected
    assert is_retryable(code.value) is expected


def test_kv_error_category() -> None:
    assert kv_error_category(KVErrorCode.NOT_FOUND) == "handle"
    assert kv_error_category("KV_TRANSFER_TIMEOUT") == "transfer"
    assert kv_error_category(KVErrorCode.NOT_IMPLEMENTED) == "config"


def test_unknown_codes() -> None:
    """Callers the type checker didn't see may pass any string: not retryable, no category."""
    with suppress_type_checks():
        assert is_retryable("KV_NOPE") is False  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"^not a KV error code: 'KV_NOPE'$"):
            kv_error_category("KV_NOPE")  # type: ignore[arg-type]


# --- invariants --------------------------------------------------------------------------------
def violations(tp: Any, value: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    return [violation for check in INVARIANTS[tp] for violation in check(value)]


HANDLE_ID = "2f1c6c1e-9d7a-4b8e-8a53-0c6f1d1e2a3b"


def transfer(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "transfer_id": HANDLE_ID,
        "request_id": "r",
        "trace_id": "t",
        "layer_start": 0,
        "layer_end": 32,
        "token_start": 0,
        "token_end": 128,
        "num_heads": 8,
        "head_dim": 128,
        "dtype": "fp16",
        "layout": "paged",
        "total_bytes": 1024,
        "source_device": "cuda:0",
        "target_device": "cuda:1",
    }
    value.update(changes)
    return value


def test_handle_token_range() -> None:
    handle = {"handle_id": HANDLE_ID, "num_tokens": 8}
    assert violations(types.KVHandle, handle) == []
    assert violations(types.KVHandle, {**handle, "token_start": 4, "token_end": 4}) == []
    assert violations(types.KVHandle, {**handle, "token_start": 4, "token_end": 12}) == []
    assert violations(types.KVHandle, {**handle, "token_start": 4, "token_end": 3}) == [
        (("token_start",), "expected token_start <= token_end (3), got 4")
    ]


@pytest.mark.parametrize("token_end", [None, 0])
def test_handle_token_end_zero_means_not_set(token_end: int | None) -> None:
    """The original emits token_end=0 for a handle whose range end was never set."""
    handle: dict[str, Any] = {"handle_id": HANDLE_ID, "num_tokens": 8, "token_start": 5}
    if token_end is not None:
        handle["token_end"] = token_end
    assert violations(types.KVHandle, handle) == []


def test_transfer_ranges() -> None:
    assert violations(types.KVTransferMetadata, transfer()) == []
    assert violations(types.KVTransferMetadata, transfer(layer_start=4, layer_end=4)) == []
    assert violations(types.KVTransferMetadata, transfer(shard_id=3, shard_count=4)) == []
    assert violations(types.KVTransferMetadata, transfer(layer_start=5, layer_end=4)) == [
        (("layer_start",), "expected layer_start <= layer_end (4), got 5")
    ]
    assert violations(types.KVTransferMetadata, transfer(token_start=129)) == [
        (("token_start",), "expected token_start <= token_end (128), got 129")
    ]
    assert violations(types.KVTransferMetadata, transfer(shard_id=4, shard_count=4)) == [
        (("shard_id",), "expected shard_id < shard_count (4), got 4")
    ]
    assert violations(types.KVTransferMetadata, transfer(shard_id=1)) == [
        (("shard_id",), "expected shard_id < shard_count (1), got 1")
    ]


def test_transfer_all_ranges_broken_at_once() -> None:
    value = transfer(
        layer_start=2, layer_end=1, token_start=2, token_end=1, shard_id=2, shard_count=2
    )
    assert violations(types.KVTransferMetadata, value) == [
        (("layer_start",), "expected layer_start <= layer_end (1), got 2"),
        (("token_start",), "expected token_start <= token_end (1), got 2"),
        (("shard_id",), "expected shard_id < shard_count (2), got 2"),
    ]


def test_transfer_timestamps() -> None:
    ordered = transfer(created_at=10.0, started_at=10.0, completed_at=12.5)
    assert violations(types.KVTransferMetadata, ordered) == []
    # created_at 0 (the default) and None mean "not recorded".
    assert violations(types.KVTransferMetadata, transfer(created_at=0.0, started_at=5.0)) == []
    assert violations(types.KVTransferMetadata, transfer(started_at=None, completed_at=1.0)) == []
    assert violations(types.KVTransferMetadata, transfer(created_at=10.0, started_at=9.0)) == [
        (("started_at",), "expected started_at >= created_at (10.0), got 9.0")
    ]
    assert violations(types.KVTransferMetadata, transfer(started_at=10.0, completed_at=9.5)) == [
        (("completed_at",), "expected completed_at >= started_at (10.0), got 9.5")
    ]
    # Without started_at, completed_at is compared with created_at.
    assert violations(types.KVTransferMetadata, transfer(created_at=10.0, completed_at=9.0)) == [
        (("completed_at",), "expected completed_at >= created_at (10.0), got 9.0")
    ]


def test_scheduler_request_timestamps() -> None:
    request = {
        "request_id": "r",
        "trace_id": "t",
        "request_type": "prefill",
        "prompt_len": 4,
        "max_new_tokens": 8,
    }
    check = types.SchedulerRequest
    assert violations(check, request) == []
    assert violations(check, {**request, "queued_at": 5.0, "scheduled_at": 5.0}) == []
    assert violations(check, {**request, "scheduled_at": 1.0}) == []
    assert violations(check, {**request, "queued_at": 5.0, "scheduled_at": 4.0}) == [
        (("scheduled_at",), "expected scheduled_at >= queued_at (5.0), got 4.0")
    ]


def test_allocate_request_token_range() -> None:
    request: dict[str, Any] = {"request_id": "r", "trace_id": "t", "num_tokens": 8}
    check = operations.KVCacheAllocateRequest
    assert violations(check, request) == []
    assert violations(check, {**request, "token_start": 4, "token_end": None}) == []
    assert violations(check, {**request, "token_start": 4, "token_end": 4}) == []
    # None is the unset marker here, so an explicit 0 is a real (empty) end.
    assert violations(check, {**request, "token_start": 4, "token_end": 0}) == [
        (("token_start",), "expected token_start <= token_end (0), got 4")
    ]


def test_no_invariants_beyond_the_documented_ones() -> None:
    """E.g. pool stats are not checked for allocated + available <= total: no spec rule says so."""
    kv_types = set(SHAPES)
    assert {tp for tp in INVARIANTS if tp in kv_types} == {
        types.KVHandle,
        types.KVTransferMetadata,
        types.SchedulerRequest,
        operations.KVCacheAllocateRequest,
    }
    assert len(INVARIANTS[types.KVTransferMetadata]) == 2
