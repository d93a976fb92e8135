"""The element-type vocabulary shared by the backend and the KV cache.

It imports nothing from the package but the enum base, so :mod:`~sagellm_protocol.backend`
can import the KV types at run time while :mod:`~sagellm_protocol.kv.enums` re-exports
:class:`DType` from here: both names are one class, and no import cycle hides the KV types
from ``typing.get_type_hints``.
"""

from typing import Literal, TypeAlias

from ._enum import StrEnum

__all__ = ["DType", "DTypeName"]

DTypeName: TypeAlias = Literal["fp32", "fp16", "bf16", "fp8", "int8", "int4"]
"""Wire values of :class:`DType`."""


class DType(StrEnum):
    """Element types of tensors and KV-cache blocks."""

    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"
