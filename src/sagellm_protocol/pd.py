"""Prefill/decode separation: engine roles, dispatch plans and KV transfers between engines."""

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._key_help import list_keys_in_help
from ._registry import Factory, register_defaults, register_wire_side
from .constraints import NonNegativeFloat, NonNegativeInt, PositiveInt, UUIDStr

__all__ = [
    "EngineRole",
    "EngineRoleName",
    "KVTransferRequest",
    "KVTransferResult",
    "KVTransferState",
    "KVTransferStateName",
    "PDDispatchPlan",
]

EngineRoleName: TypeAlias = Literal["prefill", "decode", "hybrid"]
"""Wire values of :class:`EngineRole`."""


class EngineRole(StrEnum):
    """What an engine does: prefill only, decode only, or both."""

    PREFILL = "prefill"
    DECODE = "decode"
    HYBRID = "hybrid"


KVTransferStateName: TypeAlias = Literal["pending", "in_progress", "done", "failed"]
"""Wire values of :class:`KVTransferState`."""


class KVTransferState(StrEnum):
    """Progress of a KV transfer between engines."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"


def _new_uuid() -> str:
    # uuid pulls in platform and _uuid; only a default that is actually filled needs them.
    import uuid

    return str(uuid.uuid4())


class PDDispatchPlan(TypedDict, closed=True):
    """Which prefill and decode engines serve a request, and the KV channel between them.

    The two engine ids may be equal: a hybrid engine can be given both phases.
    """

    request_id: str
    """The request being dispatched."""
    trace_id: str
    """Distributed tracing identifier."""
    plan_id: NotRequired[UUIDStr]
    """Unique id of this plan; a fresh UUID when absent."""
    prefill_engine_id: str
    """Engine running the prefill phase."""
    decode_engine_id: str
    """Engine running the decode phase."""
    kv_channel_id: str
    """Channel the KV cache travels on from prefill to decode."""
    prefill_rank: NonNegativeInt
    """Communication rank of the prefill engine (>= 0)."""
    decode_rank: NonNegativeInt
    """Communication rank of the decode engine (>= 0)."""


register_defaults(PDDispatchPlan, {"plan_id": Factory(_new_uuid)})


class KVTransferRequest(TypedDict, closed=True):
    """Move one request's KV cache from the prefill engine to the decode engine."""

    transfer_id: NotRequired[UUIDStr]
    """Unique id of this transfer; a fresh UUID when absent."""
    request_id: str
    """The request whose KV cache moves."""
    trace_id: str
    """Distributed tracing identifier."""
    src_engine_id: str
    """Sending (prefill) engine."""
    dst_engine_id: str
    """Receiving (decode) engine."""
    src_rank: NonNegativeInt
    """Communication rank of the sender (>= 0)."""
    dst_rank: NonNegativeInt
    """Communication rank of the receiver (>= 0)."""
    num_layers: PositiveInt
    """Layers of KV cache to move (> 0)."""
    num_tokens: PositiveInt
    """Tokens of KV cache to move (> 0)."""
    num_heads: PositiveInt
    """Attention heads per layer (> 0)."""
    head_dim: PositiveInt
    """Dimension of each head (> 0)."""
    dtype: NotRequired[str]
    """Element type of the KV tensors as a framework dtype name, e.g. ``"float16"``
    (not a :class:`~sagellm_protocol.backend.DType` value)."""


register_defaults(KVTransferRequest, {"transfer_id": Factory(_new_uuid), "dtype": "float16"})


class KVTransferResult(TypedDict, closed=True):
    """Outcome of a :class:`KVTransferRequest`."""

    transfer_id: UUIDStr
    """The transfer this reports on."""
    request_id: str
    """The request whose KV cache moved."""
    state: NotRequired[KVTransferStateName | KVTransferState]
    """Where the transfer stands."""
    bytes_transferred: NotRequired[NonNegativeInt]
    """Bytes moved so far (>= 0)."""
    duration_ms: NotRequired[NonNegativeFloat]
    """Time the transfer took (ms, >= 0)."""
    error: NotRequired[str | None]
    """What went wrong, when the transfer failed."""


register_defaults(
    KVTransferResult,
    {"state": "done", "bytes_transferred": 0, "duration_ms": 0.0, "error": None},
)


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side("request", KVTransferRequest)
register_wire_side(
    "response",
    KVTransferResult,
    PDDispatchPlan,
)

list_keys_in_help(globals())
