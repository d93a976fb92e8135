"""Static checks of the heterogeneous-scheduling, PD-separation and port types (never executed)."""

from typing import Any, Literal

from typing_extensions import assert_type

from sagellm_protocol import defaults, with_defaults
from sagellm_protocol.hetero import (
    DeviceClass,
    HeteroSchedulingHint,
    KVOffloadSpec,
    KVOffloadStats,
    KVOffloadTrigger,
)
from sagellm_protocol.pd import (
    EngineRole,
    EngineRoleName,
    KVTransferRequest,
    KVTransferResult,
    KVTransferState,
    PDDispatchPlan,
)
from sagellm_protocol.ports import SAGELLM_GATEWAY_PORT, SageLLMPorts, SagePorts

# --- valid values ----------------------------------------------------------------------------

hint: HeteroSchedulingHint = {"preferred_device": DeviceClass.NPU, "kv_offload_threshold": 0.9}
json_hint: HeteroSchedulingHint = {"preferred_device": "cpu", "extra": {"pool": "a"}}
spec: KVOffloadSpec = {
    "handle_id": "h-1",
    "src_device": "cuda:0",
    "dst_device": "cpu",
    "trigger": KVOffloadTrigger.MEMORY_PRESSURE,
}
stats: KVOffloadStats = {"offloads_triggered": 3, "nvme_restore_failures": 0}
plan: PDDispatchPlan = {
    "request_id": "r",
    "trace_id": "t",
    "prefill_engine_id": "p0",
    "decode_engine_id": "d0",
    "kv_channel_id": "c0",
    "prefill_rank": 0,
    "decode_rank": 1,
}
result: KVTransferResult = {
    "transfer_id": "00000000-0000-0000-0000-000000000001",
    "request_id": "r",
    "state": KVTransferState.DONE,
}
role: EngineRoleName = EngineRole.PREFILL.value
gateway_port: int = SAGELLM_GATEWAY_PORT
assert_type(SageLLMPorts.SAGELLM_GATEWAY, Literal[8889])
assert_type(SagePorts.SAGELLM_ENGINE_PORT, Literal[8902])

# --- defaults keep the type ------------------------------------------------------------------

assert_type(with_defaults(PDDispatchPlan, plan), PDDispatchPlan)
assert_type(with_defaults(KVOffloadSpec, spec), KVOffloadSpec)
assert_type(defaults(KVOffloadStats), dict[str, Any])

# --- what must fail --------------------------------------------------------------------------

no_dst: KVOffloadSpec = {"handle_id": "h", "src_device": "cpu"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
typo_device: HeteroSchedulingHint = {"preferred_device": "gpu"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
unknown_key: KVOffloadStats = {"offloads": 1}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
wrong_type: KVTransferRequest = {
    "request_id": "r",
    "trace_id": "t",
    "src_engine_id": "p0",
    "dst_engine_id": "d0",
    "src_rank": "0",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    "dst_rank": 1,
    "num_layers": 32,
    "num_tokens": 128,
    "num_heads": 8,
    "head_dim": 128,
}
bad_state: KVTransferResult = {
    "transfer_id": "00000000-0000-0000-0000-000000000001",
    "request_id": "r",
    "state": "finished",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
}
