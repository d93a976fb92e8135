"""Hardware backends: dtypes, kernel kinds, device strings, capabilities and the provider interface.

:class:`DType` and :data:`DTypeName` live in a leaf module shared with
:mod:`sagellm_protocol.kv.enums` and are re-exported here.
"""

from collections.abc import Callable, Iterable
from typing import Any, Final, Literal, Protocol, TypeAlias, runtime_checkable

from typing_extensions import NotRequired, TypedDict

from ._dtype import DType, DTypeName
from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import register_defaults, register_suggestions
from .constraints import DEVICE_FORMAT, DeviceStr, NonNegativeInt
from .kv.types import KVBlock, KVPoolStats

__all__ = [
    "DEVICE_TYPE_ASCEND",
    "DEVICE_TYPE_CPU",
    "DEVICE_TYPE_CUDA",
    "DEVICE_TYPE_NPU",
    "DEVICE_TYPE_ROCM",
    "DEVICE_TYPE_XPU",
    "BackendProvider",
    "CapabilityDescriptor",
    "DType",
    "DTypeName",
    "Event",
    "KernelKind",
    "KernelKindName",
    "Stream",
    "format_device_str",
    "parse_device_str",
    "require_collective",
    "require_dtype",
    "require_graph_exec",
    "supports_collective",
    "supports_dtype",
    "supports_kernel",
]

DEVICE_TYPE_CPU: Final = "cpu"
"""Device type of host CPUs."""
DEVICE_TYPE_CUDA: Final = "cuda"
"""Device type of NVIDIA GPUs."""
DEVICE_TYPE_NPU: Final = "npu"
"""Device type of NPUs."""
DEVICE_TYPE_ASCEND: Final = "ascend"
"""Device type of Huawei Ascend NPUs."""
DEVICE_TYPE_ROCM: Final = "rocm"
"""Device type of AMD GPUs."""
DEVICE_TYPE_XPU: Final = "xpu"
"""Device type of Intel GPUs."""

_DEVICE_EXPECTED: Final = "expected 'type' or 'type:index' with a lower-case type and an index >= 0"


def parse_device_str(device: DeviceStr) -> tuple[str, int | None]:
    """Split a device string into its type and index: ``"cuda:0"`` -> ``("cuda", 0)``,
    ``"cpu"`` -> ``("cpu", None)``.

    Raises ``ValueError`` naming ``device`` unless it is ``type`` or ``type:index`` with a
    lower-case type and a decimal index >= 0 without sign or leading zeros — the rule
    ``validate()`` applies to every device field (``""``, ``"CUDA:0"``, ``"cuda:-1"`` fail).
    """
    if not DEVICE_FORMAT.matches(device):
        raise ValueError(f"invalid device string {device!r}: {_DEVICE_EXPECTED}")
    device_type, _, index = device.partition(":")
    return device_type, int(index) if index else None


def format_device_str(device_type: str, device_id: int | None = None) -> DeviceStr:
    """The device string of ``device_type`` and index ``device_id``: ``("cuda", 0)`` ->
    ``"cuda:0"``, ``("cpu", None)`` -> ``"cpu"``; the inverse of :func:`parse_device_str`.

    Raises ``ValueError`` naming the argument when ``device_type`` is not a lower-case
    name without an index or ``device_id`` is not an int >= 0.
    """
    # bool is an int subclass, but "cuda:True" is no device.
    if device_id is not None and (type(device_id) is not int or device_id < 0):
        raise ValueError(f"invalid device index {device_id!r}: expected an int >= 0")
    if ":" in device_type or not DEVICE_FORMAT.matches(device_type):
        raise ValueError(
            f"invalid device type {device_type!r}: expected a lower-case name such as 'cuda'"
        )
    return device_type if device_id is None else f"{device_type}:{device_id}"


KernelKindName: TypeAlias = Literal[
    "matmul", "attention", "fusion", "layernorm", "softmax", "embedding"
]
"""Wire values of :class:`KernelKind`."""


class KernelKind(StrEnum):
    """Kinds of compute kernels a backend may provide."""

    MATMUL = "matmul"
    ATTENTION = "attention"
    FUSION = "fusion"
    LAYERNORM = "layernorm"
    SOFTMAX = "softmax"
    # Embedding table lookup: an extension of Protocol v0.1, as no other kind covers it.
    EMBEDDING = "embedding"


# Names backends use for kinds the protocol has: one name per kernel keeps supports_kernel()
# answering for every backend alike.
register_suggestions(KernelKind, {"linear": "matmul", "norm": "layernorm"})


_UNKNOWN_DEVICE_TYPE: Final = "unknown"


class CapabilityDescriptor(TypedDict, closed=True):
    """What a backend's device offers; an absent key means its default (nothing supported)."""

    device_name: NotRequired[str | None]
    """Device model name, e.g. ``"NVIDIA A100-SXM4-80GB"``."""
    device_type: NotRequired[str]
    """Device type, e.g. ``"cuda"`` (see the ``DEVICE_TYPE_*`` constants)."""
    compute_capability: NotRequired[str | None]
    """Vendor compute capability, e.g. ``"8.0"``."""
    total_memory_bytes: NotRequired[NonNegativeInt | None]
    """Device memory (bytes, >= 0; the bound is ours, the original took any int)."""
    available_memory_bytes: NotRequired[NonNegativeInt | None]
    """Free device memory (bytes, >= 0; the bound is ours)."""
    supported_dtypes: NotRequired[list[DTypeName | DType]]
    """Element types the backend computes in."""
    supported_kernels: NotRequired[list[KernelKindName | KernelKind]]
    """Kernel kinds the backend provides."""
    has_stream: NotRequired[bool]
    """Whether the backend has asynchronous streams."""
    has_event: NotRequired[bool]
    """Whether the backend has synchronisation/timing events."""
    has_collective: NotRequired[bool]
    """Whether the backend runs collectives at all; when false, ``supported_collectives``
    is ignored."""
    has_graph_exec: NotRequired[bool]
    """Whether the backend can capture and replay execution graphs."""
    supported_collectives: NotRequired[list[str]]
    """Collective operations the backend runs, e.g. ``"all_reduce"``."""
    has_kv_block_copy: NotRequired[bool]
    """Whether the backend copies KV blocks on the device."""
    has_kv_block_migrate: NotRequired[bool]
    """Whether the backend migrates KV blocks between devices."""
    max_memory_mb: NotRequired[NonNegativeInt | None]
    """Memory the backend may use (MB, >= 0; the bound is ours)."""
    max_batch_size: NotRequired[NonNegativeInt | None]
    """Largest batch the backend runs (>= 0; the bound is ours, a size is never negative)."""
    max_sequence_length: NotRequired[NonNegativeInt | None]
    """Longest sequence the backend runs (tokens, >= 0; the bound is ours)."""


register_defaults(
    CapabilityDescriptor,
    {
        "device_name": None,
        "device_type": _UNKNOWN_DEVICE_TYPE,
        "compute_capability": None,
        "total_memory_bytes": None,
        "available_memory_bytes": None,
        "supported_dtypes": [],
        "supported_kernels": [],
        "has_stream": False,
        "has_event": False,
        "has_collective": False,
        "has_graph_exec": False,
        "supported_collectives": [],
        "has_kv_block_copy": False,
        "has_kv_block_migrate": False,
        "max_memory_mb": None,
        "max_batch_size": None,
        "max_sequence_length": None,
    },
)


def _device_type(cap: CapabilityDescriptor) -> str:
    return cap.get("device_type", _UNKNOWN_DEVICE_TYPE)


def _names(values: Iterable[str]) -> list[str]:
    """Plain strings, so enum members print as their values in messages."""
    return [str(value) for value in values]


def _collectives(cap: CapabilityDescriptor) -> list[str]:
    """The collectives ``cap`` really runs: none without ``has_collective``."""
    return cap.get("supported_collectives", []) if cap.get("has_collective", False) else []


def supports_dtype(cap: CapabilityDescriptor, dtype: DTypeName | DType) -> bool:
    """Whether ``dtype`` is in ``cap``'s ``supported_dtypes``."""
    return dtype in cap.get("supported_dtypes", [])


def supports_kernel(cap: CapabilityDescriptor, kernel: KernelKindName | KernelKind) -> bool:
    """Whether ``kernel`` is in ``cap``'s ``supported_kernels``."""
    return kernel in cap.get("supported_kernels", [])


def supports_collective(cap: CapabilityDescriptor, op: str) -> bool:
    """Whether ``cap`` has collectives at all and ``op`` is among ``supported_collectives``.

    (The original ignored ``has_collective``; a backend without collectives runs none.)
    """
    return op in _collectives(cap)


def require_dtype(cap: CapabilityDescriptor, dtype: DTypeName | DType, operation: str) -> None:
    """Raise ``NotImplementedError`` naming the backend, ``dtype``, ``operation`` and the
    supported dtypes unless ``cap`` supports ``dtype``."""
    if not supports_dtype(cap, dtype):
        raise NotImplementedError(
            f"backend {_device_type(cap)!r} does not support dtype {str(dtype)!r} for "
            f"{operation}; supported dtypes: {_names(cap.get('supported_dtypes', []))}"
        )


def require_collective(cap: CapabilityDescriptor, op: str) -> None:
    """Raise ``NotImplementedError`` naming the backend, ``op`` and the supported collectives
    unless ``cap`` runs ``op`` (see :func:`supports_collective`)."""
    if not supports_collective(cap, op):
        reason = "" if cap.get("has_collective", False) else " (has_collective is false)"
        raise NotImplementedError(
            f"backend {_device_type(cap)!r} does not support collective {op!r}; "
            f"supported collectives: {_names(_collectives(cap))}{reason}"
        )


def require_graph_exec(cap: CapabilityDescriptor) -> None:
    """Raise ``NotImplementedError`` naming the backend unless ``cap`` has graph execution."""
    if not cap.get("has_graph_exec", False):
        raise NotImplementedError(
            f"backend {_device_type(cap)!r} does not support graph execution "
            "(has_graph_exec is false)"
        )


@runtime_checkable
class Event(Protocol):
    """A marker in a stream's work, for synchronisation and timing."""

    def synchronize(self) -> None:
        """Block until the work before the event's last recording has finished."""

    def query(self) -> bool:
        """Whether that work has finished; never blocks. True for a never-recorded event."""

    def elapsed_ms(self, start: "Event") -> float:
        """Time from ``start`` to this event (ms); both must have been recorded.

        Raises ``RuntimeError`` when either was not recorded and ``TypeError`` when ``start``
        belongs to another backend.
        """


@runtime_checkable
class Stream(Protocol):
    """An ordered queue of device work."""

    def synchronize(self) -> None:
        """Block until all work queued on the stream has finished."""

    def query(self) -> bool:
        """Whether all work queued on the stream has finished; never blocks."""

    def record_event(self, event: Event) -> None:
        """Record ``event`` after the work queued so far (re-recording moves it).

        Raises ``TypeError`` when ``event`` belongs to another backend.
        """

    def wait_event(self, event: Event) -> None:
        """Make work queued later wait for ``event``; does not block the caller.

        Raises ``TypeError`` when ``event`` belongs to another backend.
        """


@runtime_checkable
class BackendProvider(Protocol):
    """One device's backend: capabilities, streams and events, KV blocks, memory, kernels.

    ``isinstance(obj, BackendProvider)`` checks only that the members exist; mypy checks
    their signatures. KV blocks are identified by ``block_id`` and their handle's
    ``handle_id``; the dicts handed out are the caller's, the backend keeps its own state.
    """

    def capability(self) -> CapabilityDescriptor:
        """What this backend's device offers (a new dict each call)."""

    def create_stream(self) -> Stream:
        """A new stream on this device."""

    def create_event(self) -> Event:
        """A new, not yet recorded event on this device."""

    def kv_block_alloc(self, num_tokens: int, dtype: DTypeName | DType) -> KVBlock:
        """Allocate a KV block of ``num_tokens`` tokens (> 0) of ``dtype`` on this device.

        Raises ``ValueError`` when ``num_tokens`` is not > 0, ``NotImplementedError`` (see
        :func:`require_dtype`) when ``dtype`` is unsupported and ``MemoryError`` when the
        device has no room.
        """

    def kv_block_free(self, block: KVBlock) -> None:
        """Release ``block``.

        Raises ``ValueError`` when ``block`` was already freed or not allocated here.
        """

    def kv_block_copy(self, src: KVBlock, dst: KVBlock) -> None:
        """Copy ``src``'s contents into the first ``src['block_size']`` tokens of ``dst``.

        Raises ``ValueError`` when either block is not live here, the dtypes differ or
        ``dst`` is smaller than ``src``.
        """

    def kv_block_migrate(self, block: KVBlock, target_device: DeviceStr) -> KVBlock:
        """Move ``block`` to ``target_device``; returns the block as it now is.

        Raises ``ValueError`` when ``block`` is not live here or ``target_device`` is not a
        device string, ``NotImplementedError`` when this backend cannot reach that device.
        """

    def memory_stats(self) -> KVPoolStats:
        """A snapshot of the KV block pool: capacity, usage and operation counts."""

    def get_kernel(self, name: str) -> Callable[..., Any]:
        """The kernel called ``name`` (a :class:`KernelKind` value or a backend-specific name).

        Raises ``KeyError`` when the backend has no such kernel.
        """


list_keys_in_help(globals())
