"""InMemoryOperatorRegistry: registration, priority-ordered lookups honouring constraints."""

import typing

import pytest

from sagellm_protocol.operators import (
    OperatorConstraint,
    OperatorRegistry,
    OperatorRegistryEntry,
    OperatorRegistryQuery,
    PhysicalOperator,
)
from sagellm_protocol.testing.operators import InMemoryOperatorRegistry


def kernel(name: str, device: str = "cuda:0", **extra: typing.Any) -> OperatorRegistryEntry:
    physical = {
        "kernel_name": name,
        "backend": "cuda" if device.startswith("cuda") else "cpu",
        "device": device,
        "dtype": "fp16",
        "kernel_kind": "attention",
        **extra,
    }
    return OperatorRegistryEntry(typing.cast(PhysicalOperator, physical), kernel_callable=len)


def names(entries: list[OperatorRegistryEntry]) -> list[str]:
    return [entry.physical_op["kernel_name"] for entry in entries]


def query(**fields: typing.Any) -> OperatorRegistryQuery:
    return typing.cast(OperatorRegistryQuery, {"op_type": "attention", **fields})


def test_is_an_operator_registry() -> None:
    registry: OperatorRegistry = InMemoryOperatorRegistry()
    assert isinstance(registry, OperatorRegistry)


def test_register_returns_mapping_and_rejects_duplicates() -> None:
    registry = InMemoryOperatorRegistry()
    constraints: OperatorConstraint = {"min_batch_size": 2}
    mapping = registry.register("attention", kernel("fa", priority=5, constraints=constraints))
    assert mapping == {
        "logical_op_type": "attention",
        "physical_kernel": "fa",
        "backend": "cuda",
        "device": "cuda:0",
        "dtype": "fp16",
        "constraints": {"min_batch_size": 2},
        "priority": 5,
        "metadata": {},
    }
    with pytest.raises(
        ValueError,
        match=r"^operator already registered: 'fa' for attention on backend 'cuda', "
        r"device 'cuda:0', dtype fp16$",
    ):
        registry.register("attention", kernel("fa"))
    registry.register("linear", kernel("fa"))  # another op type is another registration
    with pytest.raises(ValueError, match=r"^invalid device string 'CUDA:0'"):
        registry.register("attention", kernel("x", device="CUDA:0"))


def test_unregister() -> None:
    registry = InMemoryOperatorRegistry()
    mapping = registry.register("attention", kernel("fa"))
    registry.unregister(mapping)
    assert registry.list() == []
    with pytest.raises(
        LookupError,
        match=r"^no operator registered: 'fa' for attention on backend 'cuda', "
        r"device 'cuda:0', dtype fp16$",
    ):
        registry.unregister(mapping)


def test_lookup_prefers_priority_then_registration_order() -> None:
    registry = InMemoryOperatorRegistry()
    registry.register("attention", kernel("first", priority=1))
    registry.register("attention", kernel("second", priority=1, device="cuda:1"))
    registry.register("attention", kernel("best", priority=9, device="cuda:2"))
    registry.register("attention", kernel("low", priority=-1, device="cuda:3"))
    registry.register("linear", kernel("other", priority=100))
    assert names(registry.list(query())) == ["best", "first", "second", "low"]
    found = registry.lookup(query())
    assert found is not None
    assert found.physical_op["kernel_name"] == "best"
    assert found.kernel_callable is len
    assert registry.lookup(query(op_type="softmax")) is None


def test_device_dtype_backend_matching() -> None:
    registry = InMemoryOperatorRegistry()
    registry.register("attention", kernel("gpu0", device="cuda:0"))
    registry.register("attention", kernel("anygpu", device="cuda"))
    registry.register("attention", kernel("host", device="cpu"))
    assert names(registry.list(query(device="cuda:1"))) == ["anygpu"]
    assert names(registry.list(query(device="cuda:0"))) == ["gpu0", "anygpu"]
    assert names(registry.list(query(device="cuda"))) == ["gpu0", "anygpu"]
    assert names(registry.list(query(backend="cpu"))) == ["host"]
    assert names(registry.list(query(dtype="fp16", device="cpu"))) == ["host"]
    assert names(registry.list(query(dtype="bf16"))) == []


def test_constraints_are_honoured() -> None:
    registry = InMemoryOperatorRegistry()
    registry.register(
        "attention",
        kernel(
            "sm90",
            priority=10,
            constraints={"min_compute_capability": "9.0", "custom_constraints": {"paged": True}},
        ),
    )
    registry.register(
        "attention",
        kernel("small", priority=5, constraints={"min_batch_size": 1, "max_batch_size": 8}),
    )
    registry.register("attention", kernel("generic"))
    registry.register("attention", kernel("matmul", kernel_kind="matmul"))

    def match(caller: OperatorConstraint) -> list[str]:
        return names(registry.list(query(constraints=caller)))

    assert match({}) == ["sm90", "small", "generic", "matmul"]
    assert match({"min_compute_capability": "8.0"}) == ["small", "generic", "matmul"]
    assert match({"min_compute_capability": "10.0"}) == ["sm90", "small", "generic", "matmul"]
    assert match({"max_batch_size": 64}) == ["sm90", "generic", "matmul"]
    assert match({"min_batch_size": 2, "max_batch_size": 8}) == [
        "sm90",
        "small",
        "generic",
        "matmul",
    ]
    assert match({"kernel_kind": "matmul"}) == ["matmul"]
    assert match({"device_type": "cpu"}) == []
    assert match({"dtype": "fp16", "device_type": "cuda"}) == [
        "sm90",
        "small",
        "generic",
        "matmul",
    ]
    assert match({"custom_constraints": {"paged": False}}) == ["small", "generic", "matmul"]
    found = registry.lookup(query(constraints={"max_batch_size": 4, "kernel_kind": "attention"}))
    assert found is not None
    assert found.physical_op["kernel_name"] == "sm90"


def test_snapshot() -> None:
    registry = InMemoryOperatorRegistry()
    first = registry.register("attention", kernel("fa"))
    registry.register("attention", kernel("naive", device="cpu"))
    registry.register("linear", kernel("gemm"))
    snapshot = registry.snapshot()
    assert snapshot["total_operators"] == 3
    assert snapshot["operators_by_type"] == {"attention": 2, "linear": 1}
    assert snapshot["operators_by_backend"] == {"cuda": 2, "cpu": 1}
    assert [op["kernel_name"] for op in snapshot["registered_operators"]] == [
        "fa",
        "naive",
        "gemm",
    ]
    assert snapshot["active_mappings"][0] == first
    assert snapshot["metadata"] == {}
    snapshot["active_mappings"].clear()
    assert registry.snapshot()["total_operators"] == 3
