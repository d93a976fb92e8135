"""Static contract of sagellm_protocol.backend and its CPU test double (run by mypy only)."""

from collections.abc import Callable
from typing import Any

from typing_extensions import assert_type

from sagellm_protocol.backend import (
    BackendProvider,
    CapabilityDescriptor,
    DType,
    DTypeName,
    Event,
    KernelKind,
    Stream,
    format_device_str,
    parse_device_str,
    require_collective,
    require_dtype,
    supports_collective,
    supports_dtype,
    supports_kernel,
)
from sagellm_protocol.kv.types import KVBlock, KVPoolStats
from sagellm_protocol.testing.backend import CPUBackendProvider

# The reference implementation satisfies every protocol.
_: BackendProvider = CPUBackendProvider()
provider: BackendProvider = CPUBackendProvider(capacity_tokens=16)
stream: Stream = provider.create_stream()
event: Event = provider.create_event()
stream.record_event(event)
assert_type(event.elapsed_ms(event), float)
assert_type(provider.capability(), CapabilityDescriptor)
block = provider.kv_block_alloc(8, "fp16")
assert_type(block, KVBlock)
assert_type(provider.kv_block_alloc(8, DType.BF16), KVBlock)
assert_type(provider.kv_block_migrate(block, "cpu"), KVBlock)
assert_type(provider.memory_stats(), KVPoolStats)
assert_type(provider.get_kernel("matmul"), Callable[..., Any])
provider.kv_block_copy(block, block)
provider.kv_block_free(block)

provider.kv_block_alloc(8, "fp61")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
provider.kv_block_alloc("8", "fp16")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
provider.kv_block_free(block["handle"])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# Device strings.
assert_type(parse_device_str("cuda:0"), tuple[str, int | None])
assert_type(format_device_str("cuda", 0), str)
format_device_str("cuda", "0")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# Capability descriptors: wire strings and enum members pass, typos and unknown keys fail.
cap: CapabilityDescriptor = {
    "device_type": "cuda",
    "supported_dtypes": ["fp16", DType.BF16],
    "supported_kernels": [KernelKind.MATMUL, "attention"],
    "supported_collectives": ["all_reduce"],
    "has_collective": True,
}
empty: CapabilityDescriptor = {}
bad_dtype: CapabilityDescriptor = {"supported_dtypes": ["fp61"]}  # type: ignore[list-item]  # pyright: ignore[reportAssignmentType]
bad_kernel: CapabilityDescriptor = {"supported_kernels": ["conv"]}  # type: ignore[list-item]  # pyright: ignore[reportAssignmentType]
embedding_kernel: CapabilityDescriptor = {"supported_kernels": ["embedding"]}
linear_kernel: CapabilityDescriptor = {"supported_kernels": ["linear"]}  # type: ignore[list-item]  # pyright: ignore[reportAssignmentType]
bad_key: CapabilityDescriptor = {"device_typ": "cuda"}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
bad_flag: CapabilityDescriptor = {"has_stream": "yes"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
assert_type(supports_dtype(cap, "fp16"), bool)
assert_type(supports_kernel(cap, KernelKind.SOFTMAX), bool)
assert_type(supports_collective(cap, "all_reduce"), bool)
supports_dtype(cap, "fp61")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
supports_kernel(cap, "conv")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
require_dtype(cap, "fp16", "matmul")
require_collective(cap, "all_reduce")


class MissingKernelLookup:
    """Everything but ``get_kernel``."""

    def capability(self) -> CapabilityDescriptor:
        return {}

    def create_stream(self) -> Stream:
        return stream

    def create_event(self) -> Event:
        return event

    def kv_block_alloc(self, num_tokens: int, dtype: DTypeName | DType) -> KVBlock:
        return block

    def kv_block_free(self, block: KVBlock) -> None:
        pass

    def kv_block_copy(self, src: KVBlock, dst: KVBlock) -> None:
        pass

    def kv_block_migrate(self, block: KVBlock, target_device: str) -> KVBlock:
        return block

    def memory_stats(self) -> KVPoolStats:
        return provider.memory_stats()


missing: BackendProvider = MissingKernelLookup()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class AsyncCapability(CPUBackendProvider):
    """``capability`` made a coroutine: an async/sync mismatch."""

    async def capability(self) -> CapabilityDescriptor:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        return {}


mismatched: BackendProvider = AsyncCapability()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class AsyncSynchronizeStream:
    """A stream whose ``synchronize`` is async: not a Stream."""

    async def synchronize(self) -> None:
        pass

    def query(self) -> bool:
        return True

    def record_event(self, event: Event) -> None:
        pass

    def wait_event(self, event: Event) -> None:
        pass


not_a_stream: Stream = AsyncSynchronizeStream()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
