"""Enumerations of the KV cache: block states, layouts, memory tiers, policies, transfers.

``DType``/``DTypeName`` are shared with the backend (the original defined a second ``DType``
here with the same values); they are re-exported so both names are one type.
"""

from typing import Literal, TypeAlias

from .._dtype import DType, DTypeName
from .._enum import StrEnum

__all__ = [
    "CompressionType",
    "CompressionTypeName",
    "DType",
    "DTypeName",
    "EvictionPolicy",
    "EvictionPolicyName",
    "KVBlockState",
    "KVBlockStateName",
    "Layout",
    "LayoutName",
    "MemoryTier",
    "MemoryTierName",
    "RequestType",
    "RequestTypeName",
    "SchedulerState",
    "SchedulerStateName",
    "TransferDirection",
    "TransferDirectionName",
    "TransferStatus",
    "TransferStatusName",
]

KVBlockStateName: TypeAlias = Literal["allocated", "cached", "pinned", "evicting", "free"]
"""Wire values of :class:`KVBlockState`."""


class KVBlockState(StrEnum):
    """Lifecycle state of a KV block."""

    ALLOCATED = "allocated"
    CACHED = "cached"
    PINNED = "pinned"
    EVICTING = "evicting"
    FREE = "free"


LayoutName: TypeAlias = Literal["bshd", "bhsd", "paged", "contiguous"]
"""Wire values of :class:`Layout`."""


class Layout(StrEnum):
    """Memory layout of KV tensors (batch/sequence/head/dim order, paged or contiguous)."""

    BSHD = "bshd"
    BHSD = "bhsd"
    PAGED = "paged"
    CONTIGUOUS = "contiguous"


MemoryTierName: TypeAlias = Literal["gpu", "cpu", "nvme", "cxl"]
"""Wire values of :class:`MemoryTier`."""


class MemoryTier(StrEnum):
    """The memory tier that holds KV data."""

    GPU = "gpu"
    CPU = "cpu"
    NVME = "nvme"
    CXL = "cxl"


EvictionPolicyName: TypeAlias = Literal["lru", "lfu", "fifo", "ttl", "lifetime_aware", "priority"]
"""Wire values of :class:`EvictionPolicy`."""


class EvictionPolicy(StrEnum):
    """How eviction victims are chosen."""

    LRU = "lru"
    LFU = "lfu"
    FIFO = "fifo"
    TTL = "ttl"
    LIFETIME_AWARE = "lifetime_aware"
    PRIORITY = "priority"


TransferStatusName: TypeAlias = Literal[
    "pending", "in_progress", "completed", "failed", "cancelled"
]
"""Wire values of :class:`TransferStatus`."""


class TransferStatus(StrEnum):
    """Progress of a KV transfer."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TransferDirectionName: TypeAlias = Literal["send", "recv"]
"""Wire values of :class:`TransferDirection`."""


class TransferDirection(StrEnum):
    """Direction of a KV transfer, seen from this side."""

    SEND = "send"
    RECV = "recv"


CompressionTypeName: TypeAlias = Literal[
    "none", "fp16_to_fp8", "quantize_int8", "quantize_int4", "lz4", "zstd"
]
"""Wire values of :class:`CompressionType`."""


class CompressionType(StrEnum):
    """Compression applied to KV data (precision reduction or byte-level codecs)."""

    NONE = "none"
    FP16_TO_FP8 = "fp16_to_fp8"
    QUANTIZE_INT8 = "quantize_int8"
    QUANTIZE_INT4 = "quantize_int4"
    LZ4 = "lz4"
    ZSTD = "zstd"


RequestTypeName: TypeAlias = Literal["prefill", "decoding", "hybrid"]
"""Wire values of :class:`RequestType`."""


class RequestType(StrEnum):
    """The phase a scheduled request runs."""

    PREFILL = "prefill"
    DECODING = "decoding"
    HYBRID = "hybrid"


SchedulerStateName: TypeAlias = Literal[
    "queued", "scheduled", "dispatched", "executing", "completed", "failed", "cancelled"
]
"""Wire values of :class:`SchedulerState`."""


class SchedulerState(StrEnum):
    """Lifecycle state of a scheduled request."""

    QUEUED = "queued"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EXECUTING = "executing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
