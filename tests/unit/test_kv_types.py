"""The KV-cache package: its two namespaces, error helpers and invariants.

Keys, required keys, bounds, defaults and enum values are checked against the reference by
``test_spec_conformance.py``.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from typeguard import suppress_type_checks
from typing_extensions import is_typeddict

from sagellm_protocol import backend, defaults
from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.kv import enums, hooks, metrics, operations, types
from sagellm_protocol.kv.errors import (
    KV_ERROR_CATEGORIES,
    RETRYABLE_KV_ERRORS,
    KVErrorCode,
    is_retryable,
    kv_error_category,
)


# --- namespaces and defaults (shapes, enum values and defaults: test_spec_conformance) ----
def test_the_two_kv_handles_are_different_types() -> None:
    import sagellm_protocol.kv

    assert sagellm_protocol.kv.KVHandle is types.KVHandle
    assert sagellm_protocol.kv.hooks.KVHandle is hooks.KVHandle
    assert types.KVHandle is not hooks.KVHandle


def test_kv_dtype_is_the_backend_dtype() -> None:
    assert enums.DType is backend.DType
    assert enums.DTypeName is backend.DTypeName


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
    kv_types = {
        getattr(module, name)
        for module in (types, operations, hooks, metrics)
        for name in module.__all__
        if is_typeddict(getattr(module, name))
    }
    assert {tp for tp in INVARIANTS if tp in kv_types} == {
        types.KVHandle,
        types.KVTransferMetadata,
        types.SchedulerRequest,
        operations.KVCacheAllocateRequest,
    }
    assert len(INVARIANTS[types.KVTransferMetadata]) == 2
