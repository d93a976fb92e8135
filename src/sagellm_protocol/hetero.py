"""Heterogeneous (CPU/NPU/CUDA) scheduling hints and KV-cache offload between devices."""

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import register_defaults, register_wire_side
from .constraints import DeviceStr, JSONObject, NonNegativeInt, UnitInterval

__all__ = [
    "DeviceClass",
    "DeviceClassName",
    "HeteroSchedulingHint",
    "KVOffloadSpec",
    "KVOffloadStats",
    "KVOffloadTrigger",
    "KVOffloadTriggerName",
    "KVRestoreTrigger",
    "KVRestoreTriggerName",
]

DeviceClassName: TypeAlias = Literal["cpu", "npu", "cuda", "auto"]
"""Wire values of :class:`DeviceClass`."""


class DeviceClass(StrEnum):
    """A kind of device a request may run on; ``auto`` lets the scheduler choose."""

    CPU = "cpu"
    NPU = "npu"
    CUDA = "cuda"
    AUTO = "auto"


KVOffloadTriggerName: TypeAlias = Literal[
    "memory_pressure", "idle_sequence", "explicit", "batch_eviction", "nvme_pressure"
]
"""Wire values of :class:`KVOffloadTrigger`."""


class KVOffloadTrigger(StrEnum):
    """Why KV-cache blocks are moved off their device."""

    MEMORY_PRESSURE = "memory_pressure"
    IDLE_SEQUENCE = "idle_sequence"
    EXPLICIT = "explicit"
    BATCH_EVICTION = "batch_eviction"
    NVME_PRESSURE = "nvme_pressure"


KVRestoreTriggerName: TypeAlias = Literal["schedule", "prefetch", "explicit"]
"""Wire values of :class:`KVRestoreTrigger`."""


class KVRestoreTrigger(StrEnum):
    """Why offloaded KV-cache blocks are brought back."""

    SCHEDULE = "schedule"
    PREFETCH = "prefetch"
    EXPLICIT = "explicit"


class HeteroSchedulingHint(TypedDict, closed=True):
    """Where a request prefers to run and when its KV cache may be offloaded."""

    preferred_device: NotRequired[DeviceClassName | DeviceClass]
    """Preferred device class; ``auto`` lets the scheduler choose."""
    allow_cpu_fallback: NotRequired[bool]
    """Run on the CPU when the preferred device has no room."""
    kv_offload_on_idle: NotRequired[bool]
    """Offload the KV cache of a sequence while it is idle."""
    kv_offload_threshold: NotRequired[UnitInterval]
    """Device memory utilisation in [0, 1] above which KV blocks are offloaded.
    (The range is ours: the original took any float, but it is a fraction of memory.)"""
    affinity_engine_id: NotRequired[str | None]
    """Engine the request should stick to, if any."""
    extra: NotRequired[JSONObject]
    """Scheduler-specific hints."""


register_defaults(
    HeteroSchedulingHint,
    {
        "preferred_device": "auto",
        "allow_cpu_fallback": True,
        "kv_offload_on_idle": False,
        "kv_offload_threshold": 0.85,
        "affinity_engine_id": None,
        "extra": {},
    },
)


class KVOffloadSpec(TypedDict, closed=True):
    """One request to move a KV-cache handle from one device to another."""

    handle_id: str
    """The KV-cache handle to move."""
    src_device: DeviceStr
    """Device the blocks are on now, e.g. ``"cuda:0"``."""
    dst_device: DeviceStr
    """Device to move the blocks to, e.g. ``"cpu"``."""
    trigger: NotRequired[KVOffloadTriggerName | KVOffloadTrigger]
    """Why the offload happens."""
    priority: NotRequired[int]
    """Offload priority; larger goes first. Unbounded, as in the original: a negative
    priority is a meaningful "after everything else"."""
    num_tokens: NotRequired[NonNegativeInt]
    """Tokens held by the handle (>= 0; the bound is ours, a count is never negative)."""
    request_id: NotRequired[str]
    """The request owning the handle; empty when unknown."""


register_defaults(
    KVOffloadSpec,
    {"trigger": "explicit", "priority": 10, "num_tokens": 0, "request_id": ""},
)


class KVOffloadStats(TypedDict, closed=True):
    """Counters of KV-cache offloads and restores, to host memory and to NVMe.

    Every counter is >= 0 (the bound is ours: the original took any int, but these count
    events and tokens).
    """

    offloads_triggered: NotRequired[NonNegativeInt]
    """Offloads started."""
    restores_triggered: NotRequired[NonNegativeInt]
    """Restores started."""
    offload_tokens: NotRequired[NonNegativeInt]
    """Tokens offloaded."""
    restore_tokens: NotRequired[NonNegativeInt]
    """Tokens restored."""
    offload_failures: NotRequired[NonNegativeInt]
    """Offloads that failed."""
    restore_failures: NotRequired[NonNegativeInt]
    """Restores that failed."""
    nvme_offloads_triggered: NotRequired[NonNegativeInt]
    """Offloads to NVMe started."""
    nvme_restores_triggered: NotRequired[NonNegativeInt]
    """Restores from NVMe started."""
    nvme_offload_tokens: NotRequired[NonNegativeInt]
    """Tokens offloaded to NVMe."""
    nvme_restore_tokens: NotRequired[NonNegativeInt]
    """Tokens restored from NVMe."""
    nvme_offload_failures: NotRequired[NonNegativeInt]
    """Offloads to NVMe that failed."""
    nvme_restore_failures: NotRequired[NonNegativeInt]
    """Restores from NVMe that failed."""


register_defaults(
    KVOffloadStats,
    {
        "offloads_triggered": 0,
        "restores_triggered": 0,
        "offload_tokens": 0,
        "restore_tokens": 0,
        "offload_failures": 0,
        "restore_failures": 0,
        "nvme_offloads_triggered": 0,
        "nvme_restores_triggered": 0,
        "nvme_offload_tokens": 0,
        "nvme_restore_tokens": 0,
        "nvme_offload_failures": 0,
        "nvme_restore_failures": 0,
    },
)


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side(
    "request",
    HeteroSchedulingHint,
    KVOffloadSpec,
)
register_wire_side("response", KVOffloadStats)

list_keys_in_help(globals())
