"""Distributed communication: groups, collectives, point-to-point transfers, the comm backend.

Ranks are global ranks of the world (``0 <= rank < world_size``); a group lists the global
ranks of its members. Durations are milliseconds, sizes bytes, bandwidths GB/s.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Literal, Protocol, TypeAlias, TypeVar, runtime_checkable

from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import InvariantViolation, register_defaults, register_invariant, register_wire_side
from .constraints import JSONObject, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

__all__ = [
    "CollectiveOp",
    "CollectiveOpName",
    "CollectiveRequest",
    "CollectiveResponse",
    "CommBackend",
    "CommBackendType",
    "CommBackendTypeName",
    "CommGroupInfo",
    "CommOperationMetrics",
    "CommStatus",
    "CommStatusName",
    "CommTopologyDescriptor",
    "P2PRecvRequest",
    "P2PRecvResponse",
    "P2PSendRequest",
    "P2PSendResponse",
    "ReduceOp",
    "ReduceOpName",
    "TopologyType",
    "TopologyTypeName",
]

CommBackendTypeName: TypeAlias = Literal["nccl", "hccl", "gloo", "mpi", "custom"]
"""Wire values of :class:`CommBackendType`."""


class CommBackendType(StrEnum):
    """Communication library behind a group."""

    NCCL = "nccl"
    HCCL = "hccl"
    GLOO = "gloo"
    MPI = "mpi"
    CUSTOM = "custom"


ReduceOpName: TypeAlias = Literal["sum", "max", "min", "prod", "band", "bor", "bxor", "avg"]
"""Wire values of :class:`ReduceOp`."""


class ReduceOp(StrEnum):
    """Element-wise reduction of a reducing collective."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"
    PROD = "prod"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    AVG = "avg"


CollectiveOpName: TypeAlias = Literal[
    "all_reduce",
    "all_gather",
    "reduce_scatter",
    "broadcast",
    "reduce",
    "all_to_all",
    "barrier",
    "send",
    "recv",
]
"""Wire values of :class:`CollectiveOp`."""


class CollectiveOp(StrEnum):
    """Communication primitive."""

    ALL_REDUCE = "all_reduce"
    ALL_GATHER = "all_gather"
    REDUCE_SCATTER = "reduce_scatter"
    BROADCAST = "broadcast"
    REDUCE = "reduce"
    ALL_TO_ALL = "all_to_all"
    BARRIER = "barrier"
    SEND = "send"
    RECV = "recv"


CommStatusName: TypeAlias = Literal[
    "pending", "in_progress", "completed", "failed", "timeout", "cancelled"
]
"""Wire values of :class:`CommStatus`."""


class CommStatus(StrEnum):
    """State of a communication operation."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


TopologyTypeName: TypeAlias = Literal["ring", "tree", "mesh", "hybrid", "fully_connected"]
"""Wire values of :class:`TopologyType`."""


class TopologyType(StrEnum):
    """Interconnect topology of a cluster."""

    RING = "ring"
    TREE = "tree"
    MESH = "mesh"
    HYBRID = "hybrid"
    FULLY_CONNECTED = "fully_connected"


class CommGroupInfo(TypedDict, closed=True):
    """A communication group: ``world_size`` distinct global ranks."""

    group_id: str
    """Unique group identifier."""
    backend: CommBackendTypeName | CommBackendType
    """Communication library of the group."""
    world_size: PositiveInt
    """Number of members (> 0), equal to ``len(ranks)``."""
    ranks: list[int]
    """Global ranks of the members, distinct."""
    root_rank: NotRequired[NonNegativeInt]
    """Default root (global rank) of broadcast/reduce; not required to be a member."""
    timeout_ms: NotRequired[PositiveFloat]
    """Default operation timeout (ms, > 0)."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(CommGroupInfo, {"root_rank": 0, "timeout_ms": 30000.0, "metadata": {}})


def _distinct_ranks(value: dict[str, Any]) -> None:
    """Repair for generated groups: distinct ranks, as many as ``world_size``."""
    ranks = list(dict.fromkeys(value["ranks"])) or [0]
    value["ranks"], value["world_size"] = ranks, len(ranks)


@register_invariant(CommGroupInfo, repair=_distinct_ranks)
def _group_ranks(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``len(ranks) == world_size`` and the ranks are distinct.

    ``root_rank`` is deliberately not checked against ``ranks``: the original default 0 is
    emitted for every group, including groups without global rank 0 (e.g. a second
    tensor-parallel group ``[4, 5, 6, 7]``), so the rule would reject valid original payloads.
    Backends check the root when a broadcast/reduce actually uses it.
    """
    ranks, world_size = value["ranks"], value["world_size"]
    if len(ranks) != world_size:
        yield ("ranks",), f"expected len(ranks) == world_size ({world_size}), got {len(ranks)}"
    seen: set[int] = set()
    for index, rank in enumerate(ranks):
        if rank in seen:
            yield ("ranks", index), f"expected distinct ranks, got {rank} again"
            break
        seen.add(rank)


class CollectiveRequest(TypedDict, closed=True):
    """A collective operation over a group."""

    request_id: str
    """Unique request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    group_id: str
    """The group to run on."""
    op: CollectiveOpName | CollectiveOp
    """The primitive to run."""
    reduce_op: NotRequired[ReduceOpName | ReduceOp]
    """Reduction of all_reduce/reduce_scatter/reduce."""
    root_rank: NotRequired[NonNegativeInt | None]
    """Root (global rank) of broadcast/reduce; ``None`` uses the group's ``root_rank``."""
    async_op: NotRequired[bool]
    """Whether the caller asks for a non-blocking operation."""
    timeout_ms: NotRequired[PositiveFloat | None]
    """Timeout (ms, > 0) overriding the group's; ``None`` uses the group's."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    CollectiveRequest,
    {"reduce_op": "sum", "root_rank": None, "async_op": False, "timeout_ms": None, "metadata": {}},
)


class CollectiveResponse(TypedDict, closed=True):
    """The outcome of a collective operation on one rank."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    op: CollectiveOpName | CollectiveOp
    """The primitive that ran."""
    status: CommStatusName | CommStatus
    """Operation state."""
    elapsed_ms: NotRequired[NonNegativeFloat]
    """Time the operation took on this rank (ms)."""
    bytes_transferred: NotRequired[NonNegativeInt]
    """Bytes moved (bytes)."""
    error_message: NotRequired[str | None]
    """What went wrong, when the operation did not complete."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    CollectiveResponse,
    {"elapsed_ms": 0.0, "bytes_transferred": 0, "error_message": None, "metadata": {}},
)


class P2PSendRequest(TypedDict, closed=True):
    """A point-to-point send from ``src_rank`` to a different ``dst_rank``."""

    request_id: str
    """Unique request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    group_id: str
    """The group both ranks belong to."""
    src_rank: NonNegativeInt
    """Sending global rank."""
    dst_rank: NonNegativeInt
    """Receiving global rank, != ``src_rank``."""
    tag: NotRequired[NonNegativeInt]
    """Message tag matching a send to a receive."""
    nbytes: PositiveInt
    """Payload size (bytes, > 0)."""
    async_op: NotRequired[bool]
    """Whether the caller asks for a non-blocking send."""
    timeout_ms: NotRequired[PositiveFloat | None]
    """Timeout (ms, > 0); ``None`` uses the group's."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    P2PSendRequest,
    {"tag": 0, "async_op": False, "timeout_ms": None, "metadata": {}},
)


class P2PSendResponse(TypedDict, closed=True):
    """The outcome of a point-to-point send."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    status: CommStatusName | CommStatus
    """Operation state."""
    elapsed_ms: NotRequired[NonNegativeFloat]
    """Time the send took (ms)."""
    bytes_sent: NotRequired[NonNegativeInt]
    """Bytes sent (bytes)."""
    error_message: NotRequired[str | None]
    """What went wrong, when the send did not complete."""


register_defaults(P2PSendResponse, {"elapsed_ms": 0.0, "bytes_sent": 0, "error_message": None})


class P2PRecvRequest(TypedDict, closed=True):
    """A point-to-point receive on ``dst_rank`` from a different ``src_rank``."""

    request_id: str
    """Unique request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    group_id: str
    """The group both ranks belong to."""
    src_rank: NonNegativeInt
    """Sending global rank."""
    dst_rank: NonNegativeInt
    """Receiving global rank, != ``src_rank``."""
    tag: NotRequired[NonNegativeInt]
    """Message tag matching a send to a receive."""
    expected_nbytes: PositiveInt
    """Expected payload size (bytes, > 0)."""
    async_op: NotRequired[bool]
    """Whether the caller asks for a non-blocking receive."""
    timeout_ms: NotRequired[PositiveFloat | None]
    """Timeout (ms, > 0); ``None`` uses the group's."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    P2PRecvRequest,
    {"tag": 0, "async_op": False, "timeout_ms": None, "metadata": {}},
)


@register_invariant(P2PSendRequest)
@register_invariant(P2PRecvRequest)
def _p2p_distinct_ranks(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``src_rank != dst_rank``: a rank does not send to itself."""
    src_rank, dst_rank = value["src_rank"], value["dst_rank"]
    if src_rank == dst_rank:
        yield ("dst_rank",), f"expected dst_rank != src_rank ({src_rank}), got {dst_rank}"


class P2PRecvResponse(TypedDict, closed=True):
    """The outcome of a point-to-point receive."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    status: CommStatusName | CommStatus
    """Operation state."""
    elapsed_ms: NotRequired[NonNegativeFloat]
    """Time the receive took (ms)."""
    bytes_received: NotRequired[NonNegativeInt]
    """Bytes received (bytes)."""
    error_message: NotRequired[str | None]
    """What went wrong, when the receive did not complete."""


register_defaults(P2PRecvResponse, {"elapsed_ms": 0.0, "bytes_received": 0, "error_message": None})


class CommOperationMetrics(TypedDict, closed=True):
    """Measured cost of one communication operation."""

    op: CollectiveOpName | CollectiveOp
    """The primitive measured."""
    group_id: str
    """The group it ran on."""
    elapsed_ms: NonNegativeFloat
    """Duration (ms)."""
    bytes_transferred: NonNegativeInt
    """Bytes moved (bytes)."""
    bandwidth_gbps: NotRequired[NonNegativeFloat]
    """Measured bandwidth (GB/s)."""
    bus_bandwidth_gbps: NotRequired[NonNegativeFloat]
    """Bus bandwidth (GB/s)."""
    algo_bandwidth_gbps: NotRequired[NonNegativeFloat]
    """Algorithm bandwidth (GB/s)."""


register_defaults(
    CommOperationMetrics,
    {"bandwidth_gbps": 0.0, "bus_bandwidth_gbps": 0.0, "algo_bandwidth_gbps": 0.0},
)


class CommTopologyDescriptor(TypedDict, closed=True):
    """Interconnect topology of a cluster and the backend recommended for it."""

    topology_type: TopologyTypeName | TopologyType
    """Topology kind."""
    num_nodes: PositiveInt
    """Number of nodes (> 0)."""
    gpus_per_node: NotRequired[PositiveInt]
    """Accelerators per node (> 0)."""
    intra_node_bandwidth_gbps: NotRequired[NonNegativeFloat]
    """Bandwidth within a node (GB/s)."""
    inter_node_bandwidth_gbps: NotRequired[NonNegativeFloat]
    """Bandwidth between nodes (GB/s)."""
    backend: CommBackendTypeName | CommBackendType
    """Recommended communication library."""
    metadata: NotRequired[JSONObject]
    """Extension metadata."""


register_defaults(
    CommTopologyDescriptor,
    {
        "gpus_per_node": 1,
        "intra_node_bandwidth_gbps": 0.0,
        "inter_node_bandwidth_gbps": 0.0,
        "metadata": {},
    },
)

TensorT = TypeVar("TensorT")


@runtime_checkable
class CommBackend(Protocol[TensorT]):
    """A communication library bound to one rank of a world, moving ``TensorT`` payloads.

    Synchronous, like the libraries behind it (NCCL, HCCL, Gloo and MPI calls block or hand
    back a work handle) and like sibling packages' backends today: compute workers call it
    without an event loop. A request's ``async_op`` asks for a non-blocking operation; a
    backend may still complete it before returning, and the response ``status`` says which.

    Every rank of a group makes the same calls on it in the same order. Misuse raises
    (``RuntimeError`` before :meth:`init` or after :meth:`destroy`, ``LookupError`` for an
    unknown group, ``ValueError`` for a bad request); an operation that ran but did not
    complete (a peer never arrived, mismatched inputs) returns a response whose ``status`` is
    ``"timeout"`` or ``"failed"`` with an ``error_message``, and ``None`` for the result.
    """

    def init(self, rank: int, world_size: int) -> CommGroupInfo:
        """Join the world as global ``rank`` of ``world_size`` (> 0) ranks.

        Returns the world group (all ranks). Raises ``ValueError`` for a rank outside
        ``[0, world_size)``, and ``RuntimeError`` when already initialized.
        """
        ...

    def destroy(self) -> None:
        """Leave the world and forget this rank's groups; safe to call twice."""
        ...

    def rank(self) -> int:
        """This backend's global rank. Raises ``RuntimeError`` when not initialized."""
        ...

    def world_size(self) -> int:
        """Number of ranks in the world. Raises ``RuntimeError`` when not initialized."""
        ...

    def create_group(self, group: CommGroupInfo) -> CommGroupInfo:
        """Create (or join the identical existing) group; returns it with defaults filled in.

        Raises ``ValueError`` when its ranks are not distinct ranks of the world, do not
        number ``world_size``, or a different group already has that ``group_id``.
        """
        ...

    def destroy_group(self, group_id: str) -> None:
        """Remove a group. Raises ``LookupError`` for an unknown group."""
        ...

    def all_reduce(
        self, tensor: TensorT, request: CollectiveRequest
    ) -> tuple[TensorT | None, CollectiveResponse]:
        """Reduce ``tensor`` element-wise over the group with ``reduce_op``; every member
        gets the result. ``request["op"]`` must be ``"all_reduce"``."""
        ...

    def all_gather(
        self, tensor: TensorT, request: CollectiveRequest
    ) -> tuple[list[TensorT] | None, CollectiveResponse]:
        """Collect every member's ``tensor``, in the order of the group's ``ranks``.
        ``request["op"]`` must be ``"all_gather"``."""
        ...

    def broadcast(
        self, tensor: TensorT, request: CollectiveRequest
    ) -> tuple[TensorT | None, CollectiveResponse]:
        """Every member gets the root's ``tensor``; the others pass a same-sized buffer.
        ``request["op"]`` must be ``"broadcast"``."""
        ...

    def reduce_scatter(
        self, chunks: list[TensorT], request: CollectiveRequest
    ) -> tuple[TensorT | None, CollectiveResponse]:
        """``chunks`` holds one chunk per member (in ``ranks`` order); member ``i`` gets chunk
        ``i`` reduced over the group with ``reduce_op``. ``request["op"]`` must be
        ``"reduce_scatter"``."""
        ...

    def barrier(self, request: CollectiveRequest) -> CollectiveResponse:
        """Return once every member reached the barrier. ``request["op"]`` must be
        ``"barrier"``."""
        ...

    def send(self, tensor: TensorT, request: P2PSendRequest) -> P2PSendResponse:
        """Send ``tensor`` (``nbytes`` bytes) from this rank (``src_rank``) to ``dst_rank``."""
        ...

    def recv(self, request: P2PRecvRequest) -> tuple[TensorT | None, P2PRecvResponse]:
        """Receive the next ``tag``-matching message from ``src_rank`` on this rank
        (``dst_rank``), of ``expected_nbytes`` bytes."""
        ...


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side("response", CommOperationMetrics)
register_wire_side("both", CommTopologyDescriptor)

list_keys_in_help(globals())
