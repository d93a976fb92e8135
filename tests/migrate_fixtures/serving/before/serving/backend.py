"""Backend capabilities: methods of the original that are functions here."""

from sagellm_protocol.backend_types import CapabilityDescriptor, DType


def cpu() -> CapabilityDescriptor:
    return CapabilityDescriptor(device_type="cpu", supported_dtypes=[DType.FP32])


def runs(cap: CapabilityDescriptor, dtype: DType) -> bool:
    try:
        cap.require_dtype(dtype, "matmul")
    except NotImplementedError:
        return False
    return cap.supports_dtype(dtype)
