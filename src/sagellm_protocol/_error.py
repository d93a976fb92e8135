"""The protocol's error vocabulary: :class:`Error`, its codes, shared by every layer.

It imports nothing from the package but the enum base and the registry, so the validator can
return the protocol's own error (``ValidationError.to_error()``) without importing the protocol
types; :mod:`~sagellm_protocol.core` re-exports all three names.
"""

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._enum import StrEnum
from ._registry import register_defaults

__all__ = ["Error", "ErrorCode", "ErrorCodeName"]

ErrorCodeName: TypeAlias = Literal[
    "invalid_argument",
    "resource_exhausted",
    "unavailable",
    "deadline_exceeded",
    "not_implemented",
    "kv_transfer_failed",
    "comm_timeout",
    "comm_group_invalid",
    "distributed_runtime_error",
    "operator_not_found",
    "invalid_operator_mapping",
    "operator_registration_failed",
    "comm_backend_not_supported",
    "comm_rank_mismatch",
    "comm_group_not_found",
    "comm_collective_failed",
    "comm_p2p_failed",
    "kv_prefetch_failed",
    "kv_qos_constraint_violated",
    "kv_priority_queue_full",
    "compression_not_supported",
    "quantization_calibration_failed",
    "speculative_decoding_failed",
]
"""Wire values of :class:`ErrorCode`."""


class ErrorCode(StrEnum):
    """Protocol error codes."""

    INVALID_ARGUMENT = "invalid_argument"
    RESOURCE_EXHAUSTED = "resource_exhausted"
    UNAVAILABLE = "unavailable"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    NOT_IMPLEMENTED = "not_implemented"
    KV_TRANSFER_FAILED = "kv_transfer_failed"
    COMM_TIMEOUT = "comm_timeout"
    COMM_GROUP_INVALID = "comm_group_invalid"
    DISTRIBUTED_RUNTIME_ERROR = "distributed_runtime_error"
    OPERATOR_NOT_FOUND = "operator_not_found"
    INVALID_OPERATOR_MAPPING = "invalid_operator_mapping"
    OPERATOR_REGISTRATION_FAILED = "operator_registration_failed"
    COMM_BACKEND_NOT_SUPPORTED = "comm_backend_not_supported"
    COMM_RANK_MISMATCH = "comm_rank_mismatch"
    COMM_GROUP_NOT_FOUND = "comm_group_not_found"
    COMM_COLLECTIVE_FAILED = "comm_collective_failed"
    COMM_P2P_FAILED = "comm_p2p_failed"
    KV_PREFETCH_FAILED = "kv_prefetch_failed"
    KV_QOS_CONSTRAINT_VIOLATED = "kv_qos_constraint_violated"
    KV_PRIORITY_QUEUE_FULL = "kv_priority_queue_full"
    COMPRESSION_NOT_SUPPORTED = "compression_not_supported"
    QUANTIZATION_CALIBRATION_FAILED = "quantization_calibration_failed"
    SPECULATIVE_DECODING_FAILED = "speculative_decoding_failed"


class Error(TypedDict, closed=True):
    """A protocol error, safe to show to callers (no sensitive detail)."""

    code: ErrorCodeName | ErrorCode
    """What went wrong."""
    message: str
    """A human-readable description without sensitive information."""
    retryable: NotRequired[bool | None]
    """Whether the same request may succeed if retried; ``None`` when unknown."""


register_defaults(Error, {"retryable": None})
