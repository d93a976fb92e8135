"""KV-cache error codes, their categories, and which of them are worth retrying."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from .._enum import StrEnum

__all__ = [
    "KV_ERROR_CATEGORIES",
    "RETRYABLE_KV_ERRORS",
    "KVErrorCode",
    "KVErrorCodeName",
    "is_retryable",
    "kv_error_category",
]

KVErrorCodeName: TypeAlias = Literal[
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
]
"""Wire values of :class:`KVErrorCode`."""


class KVErrorCode(StrEnum):
    """Error codes of the KV-cache subsystem (upper-case on the wire, unlike ``ErrorCode``)."""

    BUDGET_EXCEEDED = "KV_BUDGET_EXCEEDED"
    MEMORY_EXHAUSTED = "KV_MEMORY_EXHAUSTED"
    POOL_FULL = "KV_POOL_FULL"
    ALLOCATION_FAILED = "KV_CACHE_ALLOCATION_FAILED"
    NOT_FOUND = "KV_CACHE_NOT_FOUND"
    INVALID_HANDLE = "KV_INVALID_HANDLE"
    DOUBLE_FREE = "KV_DOUBLE_FREE"
    HANDLE_PINNED = "KV_HANDLE_PINNED"
    HANDLE_NOT_FOUND = "KV_HANDLE_NOT_FOUND"
    REF_COUNT_UNDERFLOW = "KV_REF_COUNT_UNDERFLOW"
    CACHE_MISS = "KV_CACHE_MISS"
    PREFIX_TOO_LONG = "KV_PREFIX_TOO_LONG"
    INVALID_PREFIX = "KV_INVALID_PREFIX"
    INDEX_CORRUPTED = "KV_INDEX_CORRUPTED"
    NO_VICTIM = "KV_NO_VICTIM"
    EVICTION_FAILED = "KV_EVICTION_FAILED"
    ALL_PINNED = "KV_ALL_PINNED"
    EVICTION_TIMEOUT = "KV_EVICTION_TIMEOUT"
    TRANSFER_FAILED = "KV_TRANSFER_FAILED"
    TRANSFER_TIMEOUT = "KV_TRANSFER_TIMEOUT"
    SHARD_MISSING = "KV_SHARD_MISSING"
    SHARD_DUPLICATE = "KV_SHARD_DUPLICATE"
    CHECKSUM_MISMATCH = "KV_CHECKSUM_MISMATCH"
    METADATA_MISMATCH = "KV_METADATA_MISMATCH"
    COMPRESSION_FAILED = "KV_COMPRESSION_FAILED"
    DECOMPRESSION_FAILED = "KV_DECOMPRESSION_FAILED"
    BACKEND_UNAVAILABLE = "KV_BACKEND_UNAVAILABLE"
    ADMISSION_DENIED = "KV_ADMISSION_DENIED"
    QUEUE_FULL = "KV_QUEUE_FULL"
    DISPATCH_FAILED = "KV_DISPATCH_FAILED"
    PLAN_INVALID = "KV_PLAN_INVALID"
    PREDICTOR_NOT_READY = "KV_PREDICTOR_NOT_READY"
    PREDICTION_FAILED = "KV_PREDICTION_FAILED"
    FEATURE_MISSING = "KV_FEATURE_MISSING"
    CONFIG_MISSING = "KV_CONFIG_MISSING"
    CONFIG_INVALID = "KV_CONFIG_INVALID"
    NOT_IMPLEMENTED = "KV_NOT_IMPLEMENTED"


KV_ERROR_CATEGORIES: Final[Mapping[str, tuple[KVErrorCode, ...]]] = MappingProxyType(
    {
        "budget": (
            KVErrorCode.BUDGET_EXCEEDED,
            KVErrorCode.MEMORY_EXHAUSTED,
            KVErrorCode.POOL_FULL,
            KVErrorCode.ALLOCATION_FAILED,
        ),
        "handle": (
            KVErrorCode.INVALID_HANDLE,
            KVErrorCode.DOUBLE_FREE,
            KVErrorCode.HANDLE_PINNED,
            KVErrorCode.HANDLE_NOT_FOUND,
            KVErrorCode.REF_COUNT_UNDERFLOW,
            KVErrorCode.NOT_FOUND,
        ),
        "cache": (
            KVErrorCode.CACHE_MISS,
            KVErrorCode.PREFIX_TOO_LONG,
            KVErrorCode.INVALID_PREFIX,
            KVErrorCode.INDEX_CORRUPTED,
        ),
        "evict": (
            KVErrorCode.NO_VICTIM,
            KVErrorCode.EVICTION_FAILED,
            KVErrorCode.ALL_PINNED,
            KVErrorCode.EVICTION_TIMEOUT,
        ),
        "transfer": (
            KVErrorCode.TRANSFER_FAILED,
            KVErrorCode.TRANSFER_TIMEOUT,
            KVErrorCode.SHARD_MISSING,
            KVErrorCode.SHARD_DUPLICATE,
            KVErrorCode.CHECKSUM_MISMATCH,
            KVErrorCode.METADATA_MISMATCH,
            KVErrorCode.COMPRESSION_FAILED,
            KVErrorCode.DECOMPRESSION_FAILED,
            KVErrorCode.BACKEND_UNAVAILABLE,
        ),
        "scheduler": (
            KVErrorCode.ADMISSION_DENIED,
            KVErrorCode.QUEUE_FULL,
            KVErrorCode.DISPATCH_FAILED,
            KVErrorCode.PLAN_INVALID,
        ),
        "predictor": (
            KVErrorCode.PREDICTOR_NOT_READY,
            KVErrorCode.PREDICTION_FAILED,
            KVErrorCode.FEATURE_MISSING,
        ),
        "config": (
            KVErrorCode.CONFIG_MISSING,
            KVErrorCode.CONFIG_INVALID,
            KVErrorCode.NOT_IMPLEMENTED,
        ),
    }
)
"""Read-only map of category name to its codes; every code is in exactly one category."""

RETRYABLE_KV_ERRORS: Final[frozenset[KVErrorCode]] = frozenset(
    {
        KVErrorCode.EVICTION_TIMEOUT,
        KVErrorCode.TRANSFER_TIMEOUT,
        KVErrorCode.BACKEND_UNAVAILABLE,
        KVErrorCode.PREDICTOR_NOT_READY,
    }
)
"""Codes of transient failures: the same operation may succeed if retried."""

_CATEGORY_OF: Final[Mapping[str, str]] = MappingProxyType(
    {code: category for category, codes in KV_ERROR_CATEGORIES.items() for code in codes}
)


def is_retryable(code: KVErrorCodeName | KVErrorCode) -> bool:
    """Whether ``code`` (a member or its wire string) is in :data:`RETRYABLE_KV_ERRORS`."""
    # Members hash and compare as their value, so a wire string finds its member.
    return code in RETRYABLE_KV_ERRORS


def kv_error_category(code: KVErrorCodeName | KVErrorCode) -> str:
    """The :data:`KV_ERROR_CATEGORIES` name of ``code`` (a member or its wire string).

    Raises ``ValueError`` for a string that is not a KV error code.
    """
    category = _CATEGORY_OF.get(code)
    if category is None:
        raise ValueError(f"not a KV error code: {code!r}")
    return category
