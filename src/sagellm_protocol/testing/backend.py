"""``CPUBackendProvider``: an in-memory CPU backend implementing :class:`BackendProvider`.

It keeps real state — KV blocks hold bytes that copies move, frees and migrations are
tracked, memory statistics follow allocations — so downstream tests can drive it like a
device backend, and mypy proves the protocol is implementable.
"""

import copy
import math
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

from ..backend import (
    DEVICE_TYPE_CPU,
    CapabilityDescriptor,
    DType,
    DTypeName,
    Event,
    KernelKind,
    KernelKindName,
    parse_device_str,
    require_dtype,
)
from ..constraints import DeviceStr
from ..kv.types import KVBlock, KVPoolStats

__all__ = ["CPUBackendProvider", "CPUEvent", "CPUStream"]

_DTYPE_BITS: Final[dict[DType, int]] = {
    DType.FP32: 32,
    DType.FP16: 16,
    DType.BF16: 16,
    DType.FP8: 8,
    DType.INT8: 8,
    DType.INT4: 4,
}

_CPU_DTYPES: Final[tuple[DTypeName, ...]] = ("fp32", "fp16", "bf16")
"""What a CPU computes in natively; the narrower types need accelerator kernels."""

# The byte capacity leaves room for every token at the widest supported dtype, so the
# token capacity is the one that binds.
_WIDEST_BITS: Final = max(_DTYPE_BITS[DType(name)] for name in _CPU_DTYPES)


class CPUEvent:
    """An event that records the provider clock's time; CPU work is always finished."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.recorded_at: float | None = None
        """Clock time of the last recording (seconds), ``None`` before the first."""

    def synchronize(self) -> None:
        """Return at once: work recorded on a CPU stream has already run."""

    def query(self) -> bool:
        """Always true: CPU work runs when it is queued."""
        return True

    def elapsed_ms(self, start: Event) -> float:
        """Time from ``start``'s recording to this event's (ms)."""
        start = _own_event(start)
        if start.recorded_at is None or self.recorded_at is None:
            raise RuntimeError("elapsed_ms() needs both events to have been recorded")
        return (self.recorded_at - start.recorded_at) * 1000.0

    def _record(self) -> None:
        self.recorded_at = self._clock()


class CPUStream:
    """A stream whose work runs synchronously, so it is always finished."""

    def synchronize(self) -> None:
        """Return at once: queued work has already run."""

    def query(self) -> bool:
        """Always true."""
        return True

    def record_event(self, event: Event) -> None:
        """Record ``event`` now."""
        _own_event(event)._record()

    def wait_event(self, event: Event) -> None:
        """Nothing to wait for: the event's work has already run."""
        _own_event(event)


def _own_event(event: Event) -> CPUEvent:
    if not isinstance(event, CPUEvent):
        raise TypeError(f"expected an event of CPUBackendProvider, got {type(event).__name__}")
    return event


def _matmul(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> list[list[float]]:
    """``a @ b`` for row-major lists of lists."""
    if any(len(row) != len(b) for row in a):
        raise ValueError(f"matmul shapes do not match: rows of a must have {len(b)} columns")
    return [
        [math.fsum(x * y for x, y in zip(row, col, strict=True)) for col in zip(*b, strict=True)]
        for row in a
    ]


def _softmax(values: Sequence[float]) -> list[float]:
    """Softmax of a vector, shifted by its maximum so large inputs do not overflow."""
    top = max(values)
    exps = [math.exp(value - top) for value in values]
    total = math.fsum(exps)
    return [value / total for value in exps]


class CPUBackendProvider:
    """A :class:`~sagellm_protocol.backend.BackendProvider` for the host CPU, in memory.

    The KV pool holds at most ``capacity_tokens`` tokens in at most ``max_blocks`` blocks;
    a token of dtype ``d`` takes ``kv_elements_per_token`` elements of ``d``'s width.
    ``clock`` (seconds) times events; inject a fake one for deterministic tests.
    """

    def __init__(
        self,
        *,
        capacity_tokens: int = 65536,
        max_blocks: int = 1024,
        kv_elements_per_token: int = 128,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        for name, value in (
            ("capacity_tokens", capacity_tokens),
            ("max_blocks", max_blocks),
            ("kv_elements_per_token", kv_elements_per_token),
        ):
            if type(value) is not int or value <= 0:
                raise ValueError(f"{name} must be an int > 0, got {value!r}")
        self._capacity_tokens = capacity_tokens
        self._max_blocks = max_blocks
        self._elements_per_token = kv_elements_per_token
        self._clock = clock
        self._blocks: dict[int, KVBlock] = {}
        self._data: dict[int, bytearray] = {}
        self._freed: dict[int, str] = {}
        """block_id -> handle_id of freed blocks, to tell a double free from a stranger."""
        self._next_block_id = 0
        self._alloc_count = 0
        self._free_count = 0
        self._alloc_fail_count = 0
        self._kernels: dict[str, Callable[..., Any]] = {
            KernelKind.MATMUL.value: _matmul,
            KernelKind.SOFTMAX.value: _softmax,
        }

    def capability(self) -> CapabilityDescriptor:
        """The CPU's capabilities: fp32/fp16/bf16, the registered kernels, no collectives."""
        return {
            "device_name": DEVICE_TYPE_CPU,
            "device_type": DEVICE_TYPE_CPU,
            "compute_capability": None,
            "total_memory_bytes": self._total_bytes(),
            "available_memory_bytes": self._total_bytes() - self._allocated_bytes(),
            "supported_dtypes": list(_CPU_DTYPES),
            "supported_kernels": self._kernel_kinds(),
            "has_stream": True,
            "has_event": True,
            "has_collective": False,
            "has_graph_exec": False,
            "supported_collectives": [],
            "has_kv_block_copy": True,
            "has_kv_block_migrate": True,
            "max_memory_mb": self._total_bytes() // (1024 * 1024),
            "max_batch_size": None,
            "max_sequence_length": self._capacity_tokens,
        }

    def create_stream(self) -> CPUStream:
        """A new stream."""
        return CPUStream()

    def create_event(self) -> CPUEvent:
        """A new, unrecorded event on the provider's clock."""
        return CPUEvent(self._clock)

    def kv_block_alloc(self, num_tokens: int, dtype: DTypeName | DType) -> KVBlock:
        """Allocate a zero-filled block of ``num_tokens`` tokens of ``dtype`` on ``"cpu"``."""
        if type(num_tokens) is not int or num_tokens <= 0:
            raise ValueError(f"num_tokens must be an int > 0, got {num_tokens!r}")
        require_dtype(self.capability(), dtype, "kv_block_alloc")
        kv_dtype = DType(dtype)
        size_bytes = self._size_bytes(num_tokens, kv_dtype)
        free_tokens = self._capacity_tokens - self._allocated_tokens()
        if num_tokens > free_tokens or len(self._blocks) >= self._max_blocks:
            self._alloc_fail_count += 1
            raise MemoryError(
                f"cannot allocate a KV block of {num_tokens} tokens: {free_tokens} of "
                f"{self._capacity_tokens} tokens and {self._max_blocks - len(self._blocks)} "
                f"of {self._max_blocks} blocks free"
            )
        block_id = self._next_block_id
        self._next_block_id += 1
        now = time.time()
        block: KVBlock = {
            "block_id": block_id,
            "handle": {
                "handle_id": str(uuid.uuid4()),
                "num_tokens": num_tokens,
                "token_start": 0,
                "token_end": num_tokens,
                "dtype": kv_dtype,
                "device": DEVICE_TYPE_CPU,
                "memory_tier": "cpu",
                "state": "allocated",
                "created_at": now,
                "last_access": now,
            },
            "block_size": num_tokens,
            "size_bytes": size_bytes,
        }
        self._blocks[block_id] = block
        self._data[block_id] = bytearray(size_bytes)
        self._alloc_count += 1
        return _copy_block(block)

    def kv_block_free(self, block: KVBlock) -> None:
        """Release ``block``; its memory returns to the pool."""
        block_id = self._live_id(block)
        self._freed[block_id] = self._blocks.pop(block_id)["handle"]["handle_id"]
        del self._data[block_id]
        self._free_count += 1

    def kv_block_copy(self, src: KVBlock, dst: KVBlock) -> None:
        """Copy ``src``'s bytes into the start of ``dst`` (same dtype, ``dst`` at least as big)."""
        src_id, dst_id = self._live_id(src), self._live_id(dst)
        src_block, dst_block = self._blocks[src_id], self._blocks[dst_id]
        src_dtype, dst_dtype = src_block["handle"].get("dtype"), dst_block["handle"].get("dtype")
        if src_dtype != dst_dtype:
            raise ValueError(
                f"cannot copy KV block {src_id} ({src_dtype}) into KV block {dst_id} "
                f"({dst_dtype}): dtypes differ"
            )
        src_tokens, dst_tokens = src_block["block_size"], dst_block["block_size"]
        if dst_tokens < src_tokens:
            raise ValueError(
                f"cannot copy KV block {src_id} ({src_tokens} tokens) into KV block {dst_id} "
                f"({dst_tokens} tokens): destination too small"
            )
        data = self._data[src_id]
        self._data[dst_id][: len(data)] = data
        dst_block["handle"]["last_access"] = time.time()

    def kv_block_migrate(self, block: KVBlock, target_device: DeviceStr) -> KVBlock:
        """Move ``block`` to another CPU device string (``"cpu"``, ``"cpu:1"``) in place."""
        block_id = self._live_id(block)
        device_type, _ = parse_device_str(target_device)
        if device_type != DEVICE_TYPE_CPU:
            raise NotImplementedError(
                f"backend 'cpu' cannot migrate KV blocks to {target_device!r}: it only "
                "reaches 'cpu' devices"
            )
        handle = self._blocks[block_id]["handle"]
        if handle.get("device") != target_device:
            handle["placement"] = "migrated"
            handle["device"] = target_device
        handle["last_access"] = time.time()
        return _copy_block(self._blocks[block_id])

    def memory_stats(self) -> KVPoolStats:
        """The KV pool's capacity, usage and operation counts now."""
        allocated_tokens, allocated_bytes = self._allocated_tokens(), self._allocated_bytes()
        return {
            "total_tokens": self._capacity_tokens,
            "allocated_tokens": allocated_tokens,
            "available_tokens": self._capacity_tokens - allocated_tokens,
            "total_bytes": self._total_bytes(),
            "allocated_bytes": allocated_bytes,
            "available_bytes": self._total_bytes() - allocated_bytes,
            "total_blocks": self._max_blocks,
            "allocated_blocks": len(self._blocks),
            "free_blocks": self._max_blocks - len(self._blocks),
            "pinned_blocks": 0,
            "alloc_count": self._alloc_count,
            "free_count": self._free_count,
            "alloc_fail_count": self._alloc_fail_count,
            "pin_count": 0,
            "unpin_count": 0,
            "timestamp": time.time(),
        }

    def get_kernel(self, name: str) -> Callable[..., Any]:
        """The kernel registered as ``name`` (``"matmul"`` and ``"softmax"`` at first)."""
        try:
            return self._kernels[name]
        except KeyError:
            raise KeyError(
                f"backend 'cpu' has no kernel {name!r}; available: {sorted(self._kernels)}"
            ) from None

    def register_kernel(self, name: str, kernel: Callable[..., Any]) -> None:
        """Make ``kernel`` available as ``name``, replacing any kernel of that name."""
        self._kernels[name] = kernel

    def read_block(self, block: KVBlock) -> bytes:
        """The bytes ``block`` holds (for tests)."""
        return bytes(self._data[self._live_id(block)])

    def write_block(self, block: KVBlock, data: bytes, offset: int = 0) -> None:
        """Overwrite ``block``'s bytes from ``offset`` with ``data`` (for tests)."""
        buffer = self._data[self._live_id(block)]
        if offset < 0 or offset + len(data) > len(buffer):
            raise ValueError(
                f"cannot write {len(data)} bytes at offset {offset} into a block of "
                f"{len(buffer)} bytes"
            )
        buffer[offset : offset + len(data)] = data

    def _live_id(self, block: KVBlock) -> int:
        """``block``'s id if it is live here; a ``ValueError`` saying why not otherwise."""
        block_id, handle_id = block["block_id"], block["handle"]["handle_id"]
        live = self._blocks.get(block_id)
        if live is not None and live["handle"]["handle_id"] == handle_id:
            return block_id
        if self._freed.get(block_id) == handle_id:
            raise ValueError(f"KV block {block_id} (handle {handle_id}) was already freed")
        raise ValueError(
            f"unknown KV block {block_id} (handle {handle_id}): not allocated by this backend"
        )

    def _size_bytes(self, num_tokens: int, dtype: DType) -> int:
        return (num_tokens * self._elements_per_token * _DTYPE_BITS[dtype] + 7) // 8

    def _total_bytes(self) -> int:
        return (self._capacity_tokens * self._elements_per_token * _WIDEST_BITS + 7) // 8

    def _allocated_tokens(self) -> int:
        return sum(block["block_size"] for block in self._blocks.values())

    def _allocated_bytes(self) -> int:
        return sum(block["size_bytes"] for block in self._blocks.values())

    def _kernel_kinds(self) -> list[KernelKindName | KernelKind]:
        return [kind for kind in KernelKind if kind in self._kernels]


def _copy_block(block: KVBlock) -> KVBlock:
    """A copy the caller may change without touching the provider's state."""
    return copy.deepcopy(block)
