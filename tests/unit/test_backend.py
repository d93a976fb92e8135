"""Backend types: device strings, dtypes, capabilities and their helpers, the protocols."""

import re
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typeguard import suppress_type_checks
from typing_extensions import get_type_hints

from sagellm_protocol import backend, defaults
from sagellm_protocol.backend import (
    BackendProvider,
    CapabilityDescriptor,
    DType,
    DTypeName,
    Event,
    KernelKind,
    KernelKindName,
    Stream,
    format_device_str,
    parse_device_str,
    require_collective,
    require_dtype,
    require_graph_exec,
    supports_collective,
    supports_dtype,
    supports_kernel,
)
from sagellm_protocol.constraints import DEVICE_FORMAT


def exactly(message: str) -> str:
    """A ``match`` pattern accepting ``message`` and nothing else."""
    return f"^{re.escape(message)}\\Z"


EXPECTED = "expected 'type' or 'type:index' with a lower-case type and an index >= 0"


def test_device_type_constants() -> None:
    assert (
        backend.DEVICE_TYPE_CPU,
        backend.DEVICE_TYPE_CUDA,
        backend.DEVICE_TYPE_NPU,
        backend.DEVICE_TYPE_ASCEND,
        backend.DEVICE_TYPE_ROCM,
        backend.DEVICE_TYPE_XPU,
    ) == ("cpu", "cuda", "npu", "ascend", "rocm", "xpu")


@pytest.mark.parametrize(
    ("device", "parsed"),
    [
        ("cuda:0", ("cuda", 0)),  # measured
        ("cpu", ("cpu", None)),  # measured
        ("npu:12", ("npu", 12)),
        ("ascend:7", ("ascend", 7)),
        ("my_dev2:3", ("my_dev2", 3)),
    ],
)
def test_parse_device_str(device: str, parsed: tuple[str, int | None]) -> None:
    assert parse_device_str(device) == parsed


@pytest.mark.parametrize(
    "device",
    # "", "cuda:-1" and "CUDA:0" were accepted by the original (a defect).
    ["", "CUDA:0", "cuda:-1", "cuda:0:1", " cuda", "cuda:01", "cuda:", ":0", "cuda: 0", "2cuda"],
)
def test_parse_device_str_rejects(device: str) -> None:
    with pytest.raises(ValueError, match=exactly(f"invalid device string {device!r}: {EXPECTED}")):
        parse_device_str(device)


def test_parse_device_str_message_example() -> None:
    with pytest.raises(
        ValueError,
        match=exactly(
            "invalid device string 'CUDA:0': expected 'type' or 'type:index' with a lower-case "
            "type and an index >= 0"
        ),
    ):
        parse_device_str("CUDA:0")


@pytest.mark.parametrize(
    ("device_type", "device_id", "device"),
    [("cuda", 0, "cuda:0"), ("cpu", None, "cpu"), ("npu", 15, "npu:15")],
)
def test_format_device_str(device_type: str, device_id: int | None, device: str) -> None:
    assert format_device_str(device_type, device_id) == device
    assert parse_device_str(device) == (device_type, device_id)


def test_format_device_str_default_index() -> None:
    assert format_device_str("xpu") == "xpu"


@pytest.mark.parametrize("device_type", ["CUDA", "cuda:0", "", " cuda", "cu da", "2cuda"])
def test_format_device_str_rejects_type(device_type: str) -> None:
    with pytest.raises(
        ValueError,
        match=exactly(
            f"invalid device type {device_type!r}: expected a lower-case name such as 'cuda'"
        ),
    ):
        format_device_str(device_type, 0)


@pytest.mark.parametrize("device_id", [-1, True, 1.0, "1"])
def test_format_device_str_rejects_index(device_id: Any) -> None:
    # Ill-typed indexes on purpose: what a caller without mypy gets.
    with (
        suppress_type_checks(),
        pytest.raises(
            ValueError, match=exactly(f"invalid device index {device_id!r}: expected an int >= 0")
        ),
    ):
        format_device_str("cuda", device_id)


@given(st.text(alphabet="abcXYZ_09:- ", max_size=8))
def test_parse_agrees_with_the_validators_format(device: str) -> None:
    """parse_device_str accepts exactly what DEVICE_FORMAT (validate()'s rule) accepts."""
    try:
        device_type, device_id = parse_device_str(device)
    except ValueError:
        assert not DEVICE_FORMAT.matches(device)
    else:
        assert DEVICE_FORMAT.matches(device)
        assert format_device_str(device_type, device_id) == device


@given(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), st.none() | st.integers(0, 10**6))
def test_format_then_parse_round_trips(device_type: str, device_id: int | None) -> None:
    assert parse_device_str(format_device_str(device_type, device_id)) == (device_type, device_id)


def test_enums() -> None:
    assert [m.value for m in DType] == ["fp32", "fp16", "bf16", "fp8", "int8", "int4"]
    assert [m.value for m in DType] == list(get_args(DTypeName))
    assert [m.value for m in KernelKind] == [
        "matmul",
        "attention",
        "fusion",
        "layernorm",
        "softmax",
        "embedding",  # an extension of Protocol v0.1 (docs/migrating.md, "Keys real callers send")
    ]
    assert [m.value for m in KernelKind] == list(get_args(KernelKindName))


def test_capability_descriptor_shape_and_defaults() -> None:
    assert CapabilityDescriptor.__required_keys__ == frozenset()
    assert CapabilityDescriptor.__closed__ is True
    assert defaults(CapabilityDescriptor) == {
        "device_name": None,
        "device_type": "unknown",
        "compute_capability": None,
        "total_memory_bytes": None,
        "available_memory_bytes": None,
        "supported_dtypes": [],
        "supported_kernels": [],
        "has_stream": False,
        "has_event": False,
        "has_collective": False,
        "has_graph_exec": False,
        "supported_collectives": [],
        "has_kv_block_copy": False,
        "has_kv_block_migrate": False,
        "max_memory_mb": None,
        "max_batch_size": None,
        "max_sequence_length": None,
    }
    assert list(get_type_hints(CapabilityDescriptor)) == list(defaults(CapabilityDescriptor))


CUDA: CapabilityDescriptor = {
    "device_type": "cuda",
    "supported_dtypes": ["fp16", DType.BF16],
    "supported_kernels": [KernelKind.ATTENTION, "matmul"],
    "has_collective": True,
    "supported_collectives": ["all_reduce", "all_gather"],
    "has_graph_exec": True,
}


def test_supports_dtype_is_list_membership() -> None:
    assert supports_dtype(CUDA, "fp16")
    assert supports_dtype(CUDA, DType.FP16)
    assert supports_dtype(CUDA, "bf16")
    assert not supports_dtype(CUDA, DType.INT4)
    assert not supports_dtype({}, "fp32")  # absent: the default empty list


def test_supports_kernel_is_list_membership() -> None:
    assert supports_kernel(CUDA, "attention")
    assert supports_kernel(CUDA, KernelKind.MATMUL)
    assert not supports_kernel(CUDA, "softmax")
    assert not supports_kernel({}, "matmul")


def test_supports_collective() -> None:
    assert supports_collective(CUDA, "all_reduce")
    assert not supports_collective(CUDA, "broadcast")
    assert not supports_collective({}, "all_reduce")


def test_supports_collective_needs_has_collective() -> None:
    """The original ignored has_collective (a defect): a backend without collectives has none."""
    cap: CapabilityDescriptor = {"has_collective": False, "supported_collectives": ["all_reduce"]}
    assert not supports_collective(cap, "all_reduce")
    assert not supports_collective({"supported_collectives": ["all_reduce"]}, "all_reduce")


def test_require_dtype() -> None:
    require_dtype(CUDA, "fp16", "matmul")
    with pytest.raises(NotImplementedError) as info:
        require_dtype(CUDA, DType.INT4, "matmul")
    assert str(info.value) == (
        "backend 'cuda' does not support dtype 'int4' for matmul; "
        "supported dtypes: ['fp16', 'bf16']"
    )


def test_require_dtype_without_device_type() -> None:
    with pytest.raises(NotImplementedError) as info:
        require_dtype({}, "fp32", "kv_block_alloc")
    assert str(info.value) == (
        "backend 'unknown' does not support dtype 'fp32' for kv_block_alloc; supported dtypes: []"
    )


def test_require_collective() -> None:
    require_collective(CUDA, "all_gather")
    with pytest.raises(NotImplementedError) as info:
        require_collective(CUDA, "broadcast")
    assert str(info.value) == (
        "backend 'cuda' does not support collective 'broadcast'; "
        "supported collectives: ['all_reduce', 'all_gather']"
    )


def test_require_collective_without_has_collective() -> None:
    cap: CapabilityDescriptor = {"device_type": "cpu", "supported_collectives": ["all_reduce"]}
    with pytest.raises(NotImplementedError) as info:
        require_collective(cap, "all_reduce")
    assert str(info.value) == (
        "backend 'cpu' does not support collective 'all_reduce'; "
        "supported collectives: [] (has_collective is false)"
    )


def test_require_graph_exec() -> None:
    require_graph_exec(CUDA)
    with pytest.raises(NotImplementedError) as info:
        require_graph_exec({"device_type": "npu"})
    assert str(info.value) == (
        "backend 'npu' does not support graph execution (has_graph_exec is false)"
    )


class _NoKernels:
    """A backend missing ``get_kernel``."""

    def capability(self) -> CapabilityDescriptor:
        return {}


def test_protocols_are_runtime_checkable() -> None:
    assert not isinstance(_NoKernels(), BackendProvider)
    assert not isinstance(object(), Stream)
    assert not isinstance(object(), Event)


def test_protocol_members() -> None:
    def members(protocol: type) -> set[str]:
        return {name for name in vars(protocol) if not name.startswith("_")}

    assert members(BackendProvider) == {
        "capability",
        "create_stream",
        "create_event",
        "kv_block_alloc",
        "kv_block_free",
        "kv_block_copy",
        "kv_block_migrate",
        "memory_stats",
        "get_kernel",
    }
    assert members(Stream) == {"synchronize", "query", "record_event", "wait_event"}
    assert members(Event) == {"synchronize", "query", "elapsed_ms"}


def test_kv_signature_types_resolve_once_kv_is_imported() -> None:
    """KVBlock/KVPoolStats are type-checking imports (kv imports DType from here)."""
    from sagellm_protocol.kv.types import KVBlock, KVPoolStats

    namespace = {"KVBlock": KVBlock, "KVPoolStats": KVPoolStats}
    hints = get_type_hints(BackendProvider.kv_block_migrate, localns=namespace)
    assert hints["block"] is KVBlock
    assert hints["return"] is KVBlock
    assert get_type_hints(BackendProvider.memory_stats, localns=namespace)["return"] is KVPoolStats
