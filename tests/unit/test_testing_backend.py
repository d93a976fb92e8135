"""CPUBackendProvider: a real in-memory implementation of BackendProvider."""

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from typeguard import suppress_type_checks

from sagellm_protocol.backend import (
    BackendProvider,
    CapabilityDescriptor,
    DType,
    Event,
    KernelKind,
    Stream,
    require_collective,
    require_graph_exec,
    supports_collective,
    supports_dtype,
    supports_kernel,
)
from sagellm_protocol.constraints import UUID_FORMAT
from sagellm_protocol.kv.types import KVBlock, KVPoolStats
from sagellm_protocol.testing.backend import CPUBackendProvider, CPUEvent, CPUStream
from sagellm_protocol.validation import is_valid, validate


def exactly(message: str) -> str:
    """A ``match`` pattern accepting ``message`` and nothing else."""
    return f"^{re.escape(message)}\\Z"


def fake_clock(*times: float) -> Iterator[float]:
    yield from times


@pytest.fixture
def provider() -> CPUBackendProvider:
    return CPUBackendProvider(capacity_tokens=100, max_blocks=3, kv_elements_per_token=4)


def test_satisfies_the_protocols(provider: CPUBackendProvider) -> None:
    assert isinstance(provider, BackendProvider)
    assert isinstance(provider.create_stream(), Stream)
    assert isinstance(provider.create_event(), Event)


def test_capability(provider: CPUBackendProvider) -> None:
    cap = provider.capability()
    assert cap == {
        "device_name": "cpu",
        "device_type": "cpu",
        "compute_capability": None,
        "total_memory_bytes": 1600,  # 100 tokens x 4 elements x 4 bytes (fp32)
        "available_memory_bytes": 1600,
        "supported_dtypes": ["fp32", "fp16", "bf16"],
        "supported_kernels": ["matmul", "softmax"],
        "has_stream": True,
        "has_event": True,
        "has_collective": False,
        "has_graph_exec": False,
        "supported_collectives": [],
        "has_kv_block_copy": True,
        "has_kv_block_migrate": True,
        "max_memory_mb": 0,
        "max_batch_size": None,
        "max_sequence_length": 100,
    }
    assert json.loads(json.dumps(cap)) == cap
    assert supports_dtype(cap, DType.BF16)
    assert not supports_dtype(cap, "int8")
    assert supports_kernel(cap, "softmax")
    assert not supports_collective(cap, "all_reduce")
    with pytest.raises(NotImplementedError, match=r"^backend 'cpu' does not support collective"):
        require_collective(cap, "all_reduce")
    with pytest.raises(NotImplementedError, match=r"^backend 'cpu' does not support graph"):
        require_graph_exec(cap)


def test_capability_is_a_new_dict(provider: CPUBackendProvider) -> None:
    provider.capability()["supported_dtypes"].append("int4")
    assert provider.capability()["supported_dtypes"] == ["fp32", "fp16", "bf16"]


def test_alloc(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(10, "fp16")
    handle = block["handle"]
    assert UUID_FORMAT.matches(handle["handle_id"])
    assert uuid.UUID(handle["handle_id"]).version == 4
    assert block["block_id"] == 0
    assert block["block_size"] == 10
    assert block["size_bytes"] == 80  # 10 tokens x 4 elements x 2 bytes
    assert handle["num_tokens"] == 10
    assert (handle["token_start"], handle["token_end"]) == (0, 10)
    assert handle["dtype"] == "fp16"
    assert handle["device"] == "cpu"
    assert handle["memory_tier"] == "cpu"
    assert handle["state"] == "allocated"
    assert handle["created_at"] == handle["last_access"]
    assert provider.read_block(block) == bytes(80)
    assert provider.kv_block_alloc(1, DType.FP32)["block_id"] == 1


@pytest.mark.parametrize(("dtype", "size"), [("fp32", 160), ("bf16", 80)])
def test_alloc_sizes(provider: CPUBackendProvider, dtype: str, size: int) -> None:
    assert provider.kv_block_alloc(10, DType(dtype))["size_bytes"] == size


def test_alloc_rejects_bad_token_counts(provider: CPUBackendProvider) -> None:
    for bad in (0, -1, True):
        with pytest.raises(
            ValueError, match=exactly(f"num_tokens must be an int > 0, got {bad!r}")
        ):
            provider.kv_block_alloc(bad, "fp16")


def test_alloc_rejects_unsupported_dtype(provider: CPUBackendProvider) -> None:
    with pytest.raises(NotImplementedError) as info:
        provider.kv_block_alloc(4, "int4")
    assert str(info.value) == (
        "backend 'cpu' does not support dtype 'int4' for kv_block_alloc; "
        "supported dtypes: ['fp32', 'fp16', 'bf16']"
    )


def test_alloc_out_of_tokens(provider: CPUBackendProvider) -> None:
    provider.kv_block_alloc(60, "fp16")
    with pytest.raises(MemoryError) as info:
        provider.kv_block_alloc(41, "fp16")
    assert str(info.value) == (
        "cannot allocate a KV block of 41 tokens: 40 of 100 tokens and 2 of 3 blocks free"
    )
    assert provider.memory_stats()["alloc_fail_count"] == 1
    provider.kv_block_alloc(40, "fp16")  # exactly what is left


def test_alloc_out_of_blocks(provider: CPUBackendProvider) -> None:
    for _ in range(3):
        provider.kv_block_alloc(1, "fp16")
    with pytest.raises(MemoryError) as info:
        provider.kv_block_alloc(1, "fp16")
    assert str(info.value) == (
        "cannot allocate a KV block of 1 tokens: 97 of 100 tokens and 0 of 3 blocks free"
    )


def test_memory_stats_follow_allocations(provider: CPUBackendProvider) -> None:
    def stats() -> dict[str, object]:
        snapshot = dict(provider.memory_stats())
        assert isinstance(snapshot.pop("timestamp"), float)
        return snapshot

    before = stats()
    assert before == {
        "total_tokens": 100,
        "allocated_tokens": 0,
        "available_tokens": 100,
        "total_bytes": 1600,
        "allocated_bytes": 0,
        "available_bytes": 1600,
        "total_blocks": 3,
        "allocated_blocks": 0,
        "free_blocks": 3,
        "pinned_blocks": 0,
        "alloc_count": 0,
        "free_count": 0,
        "alloc_fail_count": 0,
        "pin_count": 0,
        "unpin_count": 0,
    }
    first = provider.kv_block_alloc(10, "fp16")
    provider.kv_block_alloc(5, "fp32")
    assert stats() == {
        **before,
        "allocated_tokens": 15,
        "available_tokens": 85,
        "allocated_bytes": 160,
        "available_bytes": 1440,
        "allocated_blocks": 2,
        "free_blocks": 1,
        "alloc_count": 2,
    }
    provider.kv_block_free(first)
    after_free = stats()
    assert (after_free["allocated_tokens"], after_free["allocated_bytes"]) == (5, 80)
    assert (after_free["allocated_blocks"], after_free["free_blocks"]) == (1, 2)
    assert (after_free["alloc_count"], after_free["free_count"]) == (2, 1)
    assert provider.capability()["available_memory_bytes"] == 1520


def test_free_twice(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(4, "fp16")
    provider.kv_block_free(block)
    handle_id = block["handle"]["handle_id"]
    with pytest.raises(
        ValueError, match=exactly(f"KV block 0 (handle {handle_id}) was already freed")
    ):
        provider.kv_block_free(block)
    assert provider.memory_stats()["free_count"] == 1


def test_free_unknown_block(provider: CPUBackendProvider) -> None:
    other = CPUBackendProvider().kv_block_alloc(4, "fp16")
    handle_id = other["handle"]["handle_id"]
    message = f"unknown KV block 0 (handle {handle_id}): not allocated by this backend"
    with pytest.raises(ValueError, match=exactly(message)):
        provider.kv_block_free(other)


def test_same_id_other_handle_is_unknown(provider: CPUBackendProvider) -> None:
    """A freed id with another handle is a stranger, not a double free."""
    block = provider.kv_block_alloc(4, "fp16")
    provider.kv_block_free(block)
    forged: KVBlock = {**block, "handle": {**block["handle"], "handle_id": str(uuid.uuid4())}}
    with pytest.raises(ValueError, match=r"^unknown KV block 0 "):
        provider.kv_block_free(forged)


def test_returned_dicts_do_not_alias_state(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(4, "fp16")
    block["block_size"] = 99
    block["handle"]["device"] = "cuda:0"
    assert provider.memory_stats()["allocated_tokens"] == 4
    assert provider.kv_block_migrate(block, "cpu")["handle"]["device"] == "cpu"


def test_copy_moves_bytes(provider: CPUBackendProvider) -> None:
    src = provider.kv_block_alloc(2, "fp16")  # 16 bytes
    dst = provider.kv_block_alloc(3, "fp16")  # 24 bytes
    provider.write_block(src, bytes(range(16)))
    provider.write_block(dst, b"\xff" * 24)
    provider.kv_block_copy(src, dst)
    assert provider.read_block(dst) == bytes(range(16)) + b"\xff" * 8
    assert provider.read_block(src) == bytes(range(16))


def test_copy_rejects_mismatches(provider: CPUBackendProvider) -> None:
    small = provider.kv_block_alloc(2, "fp16")
    big = provider.kv_block_alloc(3, "fp16")
    wide = provider.kv_block_alloc(3, "fp32")
    with pytest.raises(
        ValueError,
        match=exactly(
            "cannot copy KV block 1 (3 tokens) into KV block 0 (2 tokens): destination too small"
        ),
    ):
        provider.kv_block_copy(big, small)
    with pytest.raises(
        ValueError,
        match=exactly("cannot copy KV block 0 (fp16) into KV block 2 (fp32): dtypes differ"),
    ):
        provider.kv_block_copy(small, wide)
    provider.kv_block_free(big)
    with pytest.raises(ValueError, match=r"^KV block 1 \(handle .*\) was already freed$"):
        provider.kv_block_copy(big, small)


def test_migrate_between_cpu_devices(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(4, "fp16")
    provider.write_block(block, b"abc")
    same = provider.kv_block_migrate(block, "cpu")
    assert same["handle"]["last_access"] >= block["handle"]["last_access"]
    same["handle"]["last_access"] = block["handle"]["last_access"]
    assert same == block  # nothing to move but the access time
    moved = provider.kv_block_migrate(block, "cpu:1")
    assert moved["handle"]["device"] == "cpu:1"
    assert moved["handle"]["placement"] == "migrated"
    assert moved["block_id"] == block["block_id"]
    assert provider.read_block(moved) == b"abc" + bytes(29)
    assert provider.memory_stats()["allocated_blocks"] == 1


def test_migrate_rejects(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(4, "fp16")
    with pytest.raises(NotImplementedError) as info:
        provider.kv_block_migrate(block, "cuda:0")
    assert str(info.value) == (
        "backend 'cpu' cannot migrate KV blocks to 'cuda:0': it only reaches 'cpu' devices"
    )
    with pytest.raises(ValueError, match=r"^invalid device string 'CPU'"):
        provider.kv_block_migrate(block, "CPU")
    provider.kv_block_free(block)
    with pytest.raises(ValueError, match=r"was already freed$"):
        provider.kv_block_migrate(block, "cpu")


def test_write_block_bounds(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(1, "fp16")  # 8 bytes
    with pytest.raises(
        ValueError, match=exactly("cannot write 9 bytes at offset 0 into a block of 8 bytes")
    ):
        provider.write_block(block, b"123456789")
    provider.write_block(block, b"xy", offset=6)
    assert provider.read_block(block) == bytes(6) + b"xy"


def test_events_time_with_the_clock() -> None:
    clock = fake_clock(10.0, 10.25, 11.0)
    provider = CPUBackendProvider(clock=lambda: next(clock))
    stream = provider.create_stream()
    start, end = provider.create_event(), provider.create_event()
    assert isinstance(start, CPUEvent)
    assert start.recorded_at is None
    stream.record_event(start)
    stream.record_event(end)
    assert end.elapsed_ms(start) == 250.0
    assert start.elapsed_ms(end) == -250.0
    stream.record_event(end)  # re-recording moves the event
    assert end.elapsed_ms(start) == 1000.0
    stream.wait_event(end)
    stream.synchronize()
    end.synchronize()
    assert stream.query() is True
    assert end.query() is True


def test_elapsed_needs_recorded_events(provider: CPUBackendProvider) -> None:
    start, end = provider.create_event(), provider.create_event()
    provider.create_stream().record_event(end)
    with pytest.raises(RuntimeError) as info:
        end.elapsed_ms(start)
    assert str(info.value) == "elapsed_ms() needs both events to have been recorded"


class _ForeignEvent:
    def synchronize(self) -> None:
        pass

    def query(self) -> bool:
        return True

    def elapsed_ms(self, start: Event) -> float:
        return 0.0


def test_foreign_events_are_rejected(provider: CPUBackendProvider) -> None:
    stream, event = provider.create_stream(), provider.create_event()
    assert isinstance(stream, CPUStream)
    message = "expected an event of CPUBackendProvider, got _ForeignEvent"
    for call in (
        lambda: stream.record_event(_ForeignEvent()),
        lambda: stream.wait_event(_ForeignEvent()),
        lambda: event.elapsed_ms(_ForeignEvent()),
    ):
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == message


def test_kernels(provider: CPUBackendProvider) -> None:
    matmul = provider.get_kernel("matmul")
    assert matmul([[1.0, 2.0], [3.0, 4.0]], [[5.0], [6.0]]) == [[17.0], [39.0]]
    softmax = provider.get_kernel(KernelKind.SOFTMAX)
    assert softmax([0.0, 0.0]) == [0.5, 0.5]
    assert softmax([1000.0, 1000.0]) == [0.5, 0.5]  # no overflow
    with pytest.raises(
        ValueError, match=exactly("matmul shapes do not match: rows of a must have 2 columns")
    ):
        matmul([[1.0]], [[1.0], [2.0]])


def test_unknown_kernel(provider: CPUBackendProvider) -> None:
    with pytest.raises(KeyError) as info:
        provider.get_kernel("attention")
    assert info.value.args == (
        "backend 'cpu' has no kernel 'attention'; available: ['matmul', 'softmax']",
    )


def test_register_kernel_shows_in_capability(provider: CPUBackendProvider) -> None:
    def attention(*args: object) -> str:
        return "attended"

    provider.register_kernel("attention", attention)
    assert provider.get_kernel("attention") is attention
    assert provider.capability()["supported_kernels"] == ["matmul", "attention", "softmax"]


def test_providers_are_independent() -> None:
    first, second = CPUBackendProvider(), CPUBackendProvider()
    assert first.kv_block_alloc(4, "fp16")["block_id"] == 0
    assert second.kv_block_alloc(4, "fp16")["block_id"] == 0
    assert second.memory_stats()["allocated_blocks"] == 1


@pytest.mark.parametrize("name", ["capacity_tokens", "max_blocks", "kv_elements_per_token"])
@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_constructor_rejects(name: str, bad: object) -> None:
    with (
        suppress_type_checks(),
        pytest.raises(ValueError, match=exactly(f"{name} must be an int > 0, got {bad!r}")),
    ):
        CPUBackendProvider(**{name: bad})  # type: ignore[arg-type]


def test_outputs_are_valid_protocol_values(provider: CPUBackendProvider) -> None:
    block = provider.kv_block_alloc(4, "fp16")
    moved = provider.kv_block_migrate(block, "cpu:2")
    assert validate(KVBlock, block) is block
    assert validate(KVBlock, moved) is moved
    assert is_valid(KVPoolStats, provider.memory_stats())
    assert is_valid(CapabilityDescriptor, provider.capability())
