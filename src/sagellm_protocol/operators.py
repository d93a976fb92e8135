"""Operator mapping: logical model operators, the physical kernels that run them, the registry.

Tensor shapes, tuples in the original, travel as JSON arrays and are typed ``list[int]`` so that
a validated ``json.loads`` result is the value itself.
"""

import builtins
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypeAlias, runtime_checkable

from annotated_types import Ge
from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import InvariantViolation, register_defaults, register_invariant, register_wire_side
from .backend import DType, DTypeName, KernelKind, KernelKindName
from .constraints import DeviceStr, JSONObject

__all__ = [
    "LogicalOperator",
    "OperatorConstraint",
    "OperatorMapping",
    "OperatorRegistry",
    "OperatorRegistryEntry",
    "OperatorRegistryQuery",
    "OperatorRegistrySnapshot",
    "OperatorType",
    "OperatorTypeName",
    "PhysicalOperator",
]

OperatorTypeName: TypeAlias = Literal[
    "linear",
    "embedding",
    "attention",
    "self_attention",
    "cross_attention",
    "paged_attention",
    "flash_attention",
    "layernorm",
    "rmsnorm",
    "groupnorm",
    "relu",
    "gelu",
    "silu",
    "softmax",
    "fused_qkv_projection",
    "fused_silu_mul",
    "fused_rmsnorm",
    "fused_linear_gelu",
    "sample",
    "greedy_sample",
    "top_k_sample",
    "top_p_sample",
    "custom",
]
"""Wire values of :class:`OperatorType`."""


class OperatorType(StrEnum):
    """Logical operator of a model graph."""

    LINEAR = "linear"
    EMBEDDING = "embedding"
    ATTENTION = "attention"
    SELF_ATTENTION = "self_attention"
    CROSS_ATTENTION = "cross_attention"
    PAGED_ATTENTION = "paged_attention"
    FLASH_ATTENTION = "flash_attention"
    LAYERNORM = "layernorm"
    RMSNORM = "rmsnorm"
    GROUPNORM = "groupnorm"
    RELU = "relu"
    GELU = "gelu"
    SILU = "silu"
    SOFTMAX = "softmax"
    FUSED_QKV_PROJECTION = "fused_qkv_projection"
    FUSED_SILU_MUL = "fused_silu_mul"
    FUSED_RMSNORM = "fused_rmsnorm"
    FUSED_LINEAR_GELU = "fused_linear_gelu"
    SAMPLE = "sample"
    GREEDY_SAMPLE = "greedy_sample"
    TOP_K_SAMPLE = "top_k_sample"
    TOP_P_SAMPLE = "top_p_sample"
    CUSTOM = "custom"


class OperatorConstraint(TypedDict, closed=True):
    """Hardware and workload conditions; every unset field means "any"."""

    device_type: NotRequired[str | None]
    """Device type, e.g. ``"cuda"``, ``"cpu"``, ``"npu"``."""
    dtype: NotRequired[DTypeName | DType | None]
    """Data type."""
    min_compute_capability: NotRequired[str | None]
    """Minimum compute capability, e.g. ``"8.0"`` for CUDA."""
    kernel_kind: NotRequired[KernelKindName | KernelKind | None]
    """Kernel category."""
    min_batch_size: NotRequired[Annotated[int, Ge(1)] | None]
    """Smallest batch size (>= 1), <= ``max_batch_size``."""
    max_batch_size: NotRequired[Annotated[int, Ge(1)] | None]
    """Largest batch size (>= 1)."""
    custom_constraints: NotRequired[JSONObject | None]
    """Backend-specific conditions."""


register_defaults(
    OperatorConstraint,
    {
        "device_type": None,
        "dtype": None,
        "min_compute_capability": None,
        "kernel_kind": None,
        "min_batch_size": None,
        "max_batch_size": None,
        "custom_constraints": None,
    },
)


@register_invariant(OperatorConstraint)
def _batch_range(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``min_batch_size <= max_batch_size`` when both are set."""
    low, high = value.get("min_batch_size"), value.get("max_batch_size")
    if low is not None and high is not None and low > high:
        yield ("min_batch_size",), f"expected min_batch_size <= max_batch_size ({high}), got {low}"


class LogicalOperator(TypedDict, closed=True):
    """An operator of the model graph, independent of any kernel."""

    op_type: OperatorTypeName | OperatorType
    """Operator type."""
    name: str
    """Operator name in the graph."""
    input_shapes: list[list[int]]
    """Shape of each input tensor (JSON arrays; tuples in the original)."""
    output_shape: list[int]
    """Shape of the output tensor (a JSON array; a tuple in the original)."""
    params: NotRequired[JSONObject]
    """Operator parameters (dimensions …)."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(LogicalOperator, {"params": {}, "metadata": {}})


class PhysicalOperator(TypedDict, closed=True):
    """A kernel implementation on one backend and device."""

    kernel_name: str
    """Kernel implementation name."""
    backend: str
    """Backend provider, e.g. ``"cuda"``, ``"ascend"``, ``"cpu"``."""
    device: DeviceStr
    """Target device, e.g. ``"cuda:0"`` or ``"cpu"``."""
    dtype: DTypeName | DType
    """Data type the kernel computes in."""
    kernel_kind: KernelKindName | KernelKind
    """Kernel category."""
    priority: NotRequired[int]
    """Selection priority; higher is preferred."""
    constraints: NotRequired[OperatorConstraint | None]
    """Conditions the kernel needs."""
    metadata: NotRequired[JSONObject]
    """Backend-specific metadata."""


register_defaults(PhysicalOperator, {"priority": 0, "constraints": None, "metadata": {}})


class OperatorMapping(TypedDict, closed=True):
    """A logical operator type mapped to a physical kernel."""

    logical_op_type: OperatorTypeName | OperatorType
    """Logical operator type mapped."""
    physical_kernel: str
    """Kernel implementation name."""
    backend: str
    """Backend provider."""
    device: DeviceStr
    """Target device."""
    dtype: DTypeName | DType
    """Data type."""
    constraints: NotRequired[OperatorConstraint | None]
    """Conditions under which the mapping applies."""
    priority: NotRequired[int]
    """Selection priority; higher is preferred."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(OperatorMapping, {"constraints": None, "priority": 0, "metadata": {}})


@dataclass(frozen=True)
class OperatorRegistryEntry:
    """A registered kernel: its description and, in process, the function that runs it.

    A dataclass rather than a TypedDict because it holds a Python callable, which has no
    JSON form; it never travels on the wire (snapshots carry ``physical_op`` only).
    """

    physical_op: PhysicalOperator
    """The kernel's description."""
    kernel_callable: Callable[..., Any] | None = None
    """The function running the kernel; ``None`` for a description-only registration."""
    registration_metadata: dict[str, Any] = field(default_factory=dict)
    """Who registered it, when, why (free-form)."""


class OperatorRegistryQuery(TypedDict, closed=True):
    """What a caller needs a kernel for; every unset field means "any"."""

    op_type: OperatorTypeName | OperatorType
    """Logical operator type."""
    device: NotRequired[DeviceStr | None]
    """Target device."""
    dtype: NotRequired[DTypeName | DType | None]
    """Data type."""
    backend: NotRequired[str | None]
    """Backend provider."""
    constraints: NotRequired[OperatorConstraint | None]
    """The caller's conditions, matched against each kernel's constraints."""


register_defaults(
    OperatorRegistryQuery,
    {"device": None, "dtype": None, "backend": None, "constraints": None},
)


class OperatorRegistrySnapshot(TypedDict, closed=True):
    """The state of an operator registry at one moment."""

    total_operators: int
    """Number of registered kernels."""
    operators_by_type: NotRequired[dict[str, int]]
    """Registered kernels per logical operator type."""
    operators_by_backend: NotRequired[dict[str, int]]
    """Registered kernels per backend."""
    registered_operators: NotRequired[list[PhysicalOperator]]
    """Every registered kernel."""
    active_mappings: NotRequired[list[OperatorMapping]]
    """Every logical-to-physical mapping in effect."""
    metadata: NotRequired[JSONObject]
    """Registry metadata."""


register_defaults(
    OperatorRegistrySnapshot,
    {
        "operators_by_type": {},
        "operators_by_backend": {},
        "registered_operators": [],
        "active_mappings": [],
        "metadata": {},
    },
)


@runtime_checkable
class OperatorRegistry(Protocol):
    """Maps logical operator types to registered physical kernels.

    A registration is identified by its mapping's ``logical_op_type``, ``physical_kernel``,
    ``backend``, ``device`` and ``dtype``. Lookups prefer higher ``priority``, then earlier
    registration, among the kernels whose fields and constraints match the query.
    """

    def register(
        self, op_type: OperatorTypeName | OperatorType, entry: OperatorRegistryEntry
    ) -> OperatorMapping:
        """Register ``entry`` as an implementation of ``op_type``; returns the new mapping.

        Raises ``ValueError`` when the same registration exists already.
        """
        ...

    def unregister(self, mapping: OperatorMapping) -> None:
        """Remove the registration ``mapping`` identifies (as :meth:`register` returned it).

        Raises ``LookupError`` when there is none.
        """
        ...

    def lookup(self, query: OperatorRegistryQuery) -> OperatorRegistryEntry | None:
        """The preferred kernel matching ``query``, or ``None`` when none matches."""
        ...

    def snapshot(self) -> OperatorRegistrySnapshot:
        """The registry's current state."""
        ...

    # builtins.list: evaluated lazily (PEP 649), a bare ``list`` here names this method.
    def list(
        self, query: OperatorRegistryQuery | None = None
    ) -> builtins.list[OperatorRegistryEntry]:
        """Every kernel matching ``query`` (all kernels when ``None``), preferred first."""
        ...


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side("request", LogicalOperator)

list_keys_in_help(globals())
