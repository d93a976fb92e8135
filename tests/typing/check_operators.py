"""Static checks of sagellm_protocol.operators (run under mypy, never executed)."""

from typing_extensions import assert_type

from sagellm_protocol.backend import DType
from sagellm_protocol.operators import (
    LogicalOperator,
    OperatorConstraint,
    OperatorMapping,
    OperatorRegistry,
    OperatorRegistryEntry,
    OperatorRegistryQuery,
    OperatorRegistrySnapshot,
    OperatorType,
    OperatorTypeName,
    PhysicalOperator,
)
from sagellm_protocol.testing.operators import InMemoryOperatorRegistry

physical: PhysicalOperator = {
    "kernel_name": "flash_attn_v2",
    "backend": "cuda",
    "device": "cuda:0",
    "dtype": DType.FP16,
    "kernel_kind": "attention",
    "constraints": {"min_compute_capability": "8.0", "min_batch_size": 1},
}
logical: LogicalOperator = {
    "op_type": OperatorType.FLASH_ATTENTION,
    "name": "layers.0.attn",
    "input_shapes": [[1, 32, 128], [1, 32, 128]],
    "output_shape": [1, 32, 128],
}
query: OperatorRegistryQuery = {"op_type": "flash_attention", "device": "cuda"}

missing: PhysicalOperator = {"kernel_name": "k", "backend": "cpu", "device": "cpu", "dtype": "fp32"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
tuple_shape: LogicalOperator = {
    "op_type": "linear",
    "name": "n",
    "input_shapes": [],
    "output_shape": (1, 2),  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
unknown: OperatorConstraint = {"compute_capability": "8.0"}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
typo: OperatorRegistryQuery = {"op_type": "flash_atention"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]

registry: OperatorRegistry = InMemoryOperatorRegistry()
assert_type(registry.register("flash_attention", OperatorRegistryEntry(physical)), OperatorMapping)
assert_type(registry.lookup(query), OperatorRegistryEntry | None)
assert_type(registry.list(), list[OperatorRegistryEntry])
assert_type(registry.snapshot(), OperatorRegistrySnapshot)


class NoSnapshot:
    def register(
        self, op_type: OperatorTypeName | OperatorType, entry: OperatorRegistryEntry
    ) -> OperatorMapping:
        raise NotImplementedError

    def unregister(self, mapping: OperatorMapping) -> None:
        raise NotImplementedError

    def lookup(self, query: OperatorRegistryQuery) -> OperatorRegistryEntry | None:
        raise NotImplementedError

    def list(self, query: OperatorRegistryQuery | None = None) -> list[OperatorRegistryEntry]:
        raise NotImplementedError


class AsyncLookup:
    def register(
        self, op_type: OperatorTypeName | OperatorType, entry: OperatorRegistryEntry
    ) -> OperatorMapping:
        raise NotImplementedError

    def unregister(self, mapping: OperatorMapping) -> None:
        raise NotImplementedError

    async def lookup(self, query: OperatorRegistryQuery) -> OperatorRegistryEntry | None:
        raise NotImplementedError

    def snapshot(self) -> OperatorRegistrySnapshot:
        raise NotImplementedError

    def list(self, query: OperatorRegistryQuery | None = None) -> list[OperatorRegistryEntry]:
        raise NotImplementedError


no_snapshot: OperatorRegistry = NoSnapshot()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
async_lookup: OperatorRegistry = AsyncLookup()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class Complete(NoSnapshot):
    def snapshot(self) -> OperatorRegistrySnapshot:
        raise NotImplementedError


complete: OperatorRegistry = Complete()
