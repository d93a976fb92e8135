"""LoopbackCommBackend: real collectives over simulated ranks in threads."""

import threading
import typing
from collections.abc import Callable

import pytest

from sagellm_protocol.comm import CollectiveRequest, CommBackend, CommGroupInfo
from sagellm_protocol.testing.comm import (
    ITEM_BYTES,
    WORLD_GROUP_ID,
    LoopbackCommBackend,
    LoopbackWorld,
)

T = typing.TypeVar("T")


def world(size: int) -> list[LoopbackCommBackend]:
    shared = LoopbackWorld()
    backends = [LoopbackCommBackend(shared, backend="gloo") for _ in range(size)]
    for rank, backend in enumerate(backends):
        backend.init(rank, size)
    return backends


def run(backends: list[LoopbackCommBackend], step: Callable[[LoopbackCommBackend], T]) -> list[T]:
    """Run ``step`` on every rank at once, one thread per rank; results in rank order."""
    results: list[typing.Any] = [None] * len(backends)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            results[index] = step(backends[index])
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(backends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def request(op: str, group_id: str = WORLD_GROUP_ID, **extra: typing.Any) -> CollectiveRequest:
    return typing.cast(
        CollectiveRequest,
        {"request_id": f"r-{op}", "trace_id": "t", "group_id": group_id, "op": op, **extra},
    )


def test_is_a_comm_backend() -> None:
    backend: CommBackend[list[float]] = LoopbackCommBackend()
    assert isinstance(backend, CommBackend)


def test_init_returns_world_group() -> None:
    backend = LoopbackCommBackend()
    assert backend.init(0, 1) == {
        "group_id": "world",
        "backend": "custom",
        "world_size": 1,
        "ranks": [0],
        "root_rank": 0,
        "timeout_ms": 30000.0,
        "metadata": {},
    }
    assert (backend.rank(), backend.world_size()) == (0, 1)


def test_init_errors() -> None:
    backend = LoopbackCommBackend()
    with pytest.raises(ValueError, match=r"^expected 0 <= rank < world_size \(2\), got 2$"):
        backend.init(2, 2)
    with pytest.raises(ValueError, match=r"^expected world_size >= 1, got 0$"):
        backend.init(0, 0)
    backend.init(0, 2)
    with pytest.raises(RuntimeError, match=r"^comm backend already initialized as rank 0$"):
        backend.init(1, 2)
    other = LoopbackCommBackend(backend._world)
    with pytest.raises(ValueError, match=r"^expected world_size 2 of this world, got 3$"):
        other.init(1, 3)
    with pytest.raises(ValueError, match=r"^rank 0 already joined this world$"):
        other.init(0, 2)


def test_uninitialized_and_destroyed() -> None:
    backend = LoopbackCommBackend()
    with pytest.raises(RuntimeError, match=r"^comm backend is not initialized$"):
        backend.rank()
    backend.init(0, 1)
    backend.destroy()
    backend.destroy()
    with pytest.raises(RuntimeError, match=r"^comm backend is not initialized$"):
        backend.all_reduce([1.0], request("all_reduce"))
    assert backend.init(0, 3)["ranks"] == [0, 1, 2]  # the emptied world was reset


def test_single_rank_collectives() -> None:
    (backend,) = world(1)
    assert backend.all_reduce([1.0, 2.0], request("all_reduce"))[0] == [1.0, 2.0]
    assert backend.all_gather([3.0], request("all_gather"))[0] == [[3.0]]
    assert backend.broadcast([4.0], request("broadcast"))[0] == [4.0]
    assert backend.reduce_scatter([[5.0]], request("reduce_scatter"))[0] == [5.0]
    assert backend.barrier(request("barrier"))["status"] == "completed"


@pytest.mark.parametrize(
    ("reduce_op", "expected"),
    [
        ("sum", [6, 60]),
        ("prod", [6, 6000]),
        ("max", [3, 30]),
        ("min", [1, 10]),
        ("avg", [2.0, 20.0]),
        ("band", [0, 0]),
        ("bor", [3, 30]),
        ("bxor", [0, 0]),
    ],
)
def test_all_reduce(reduce_op: str, expected: list[float]) -> None:
    backends = world(3)
    results = run(
        backends,
        lambda b: b.all_reduce(
            [b.rank() + 1, (b.rank() + 1) * 10], request("all_reduce", reduce_op=reduce_op)
        ),
    )
    for value, response in results:
        assert value == expected
        assert response["status"] == "completed"
        assert response["op"] == "all_reduce"
        assert response["bytes_transferred"] == 2 * ITEM_BYTES
        assert response["error_message"] is None
        assert response["elapsed_ms"] >= 0
        assert (response["request_id"], response["trace_id"]) == ("r-all_reduce", "t")


def test_all_gather_and_broadcast_and_reduce_scatter() -> None:
    backends = world(3)
    gathered = run(backends, lambda b: b.all_gather([float(b.rank())], request("all_gather")))
    assert [value for value, _ in gathered] == [[[0.0], [1.0], [2.0]]] * 3

    broadcast = run(
        backends,
        lambda b: b.broadcast([float(b.rank())] * 2, request("broadcast", root_rank=2)),
    )
    assert [value for value, _ in broadcast] == [[2.0, 2.0]] * 3

    scattered = run(
        backends,
        lambda b: b.reduce_scatter([[1.0], [10.0 * b.rank()], [100.0]], request("reduce_scatter")),
    )
    assert [value for value, _ in scattered] == [[3.0], [30.0], [300.0]]


def test_subgroup_uses_global_ranks_and_group_root() -> None:
    backends = world(4)
    group: CommGroupInfo = {
        "group_id": "tp1",
        "backend": "gloo",
        "world_size": 2,
        "ranks": [3, 1],
        "root_rank": 3,
    }
    members = [backends[3], backends[1]]
    created = run(members, lambda b: b.create_group(group))
    assert created[0] == {**group, "timeout_ms": 30000.0, "metadata": {}}
    results = run(members, lambda b: b.broadcast([float(b.rank())], request("broadcast", "tp1")))
    assert [value for value, _ in results] == [[3.0], [3.0]]
    gathered = run(members, lambda b: b.all_gather([float(b.rank())], request("all_gather", "tp1")))
    assert gathered[0][0] == [[3.0], [1.0]]  # in the group's ranks order
    with pytest.raises(
        ValueError, match=r"^rank 0 is not a member of comm group 'tp1' \(ranks \[3, 1\]\)$"
    ):
        backends[0].barrier(request("barrier", "tp1"))


def test_broadcast_root_must_be_member() -> None:
    backends = world(3)
    group: CommGroupInfo = {"group_id": "g", "backend": "gloo", "world_size": 2, "ranks": [1, 2]}
    backends[1].create_group(group)
    with pytest.raises(
        ValueError,
        match=r"^expected root_rank among the ranks of comm group 'g' \(\[1, 2\]\), got 0$",
    ):
        backends[1].broadcast([1.0], request("broadcast", "g"))


def test_group_errors() -> None:
    backends = world(2)
    with pytest.raises(LookupError, match=r"^unknown comm group 'nope'$"):
        backends[0].all_reduce([1.0], request("all_reduce", "nope"))
    with pytest.raises(LookupError, match=r"^unknown comm group 'nope'$"):
        backends[0].destroy_group("nope")
    bad: CommGroupInfo = {"group_id": "g", "backend": "gloo", "world_size": 2, "ranks": [0, 0]}
    with pytest.raises(
        ValueError, match=r"^invalid CommGroupInfo.ranks.1: expected distinct ranks, got 0 again$"
    ):
        backends[0].create_group(bad)
    outside: CommGroupInfo = {"group_id": "g", "backend": "gloo", "world_size": 2, "ranks": [0, 5]}
    with pytest.raises(ValueError, match=r"^expected ranks in \[0, 2\), got \[5\]$"):
        backends[0].create_group(outside)
    good: CommGroupInfo = {"group_id": "g", "backend": "gloo", "world_size": 1, "ranks": [0]}
    backends[0].create_group(good)
    backends[1].create_group(good)  # joining the identical group is fine
    with pytest.raises(ValueError, match=r"^comm group 'g' already exists as "):
        backends[1].create_group({**good, "ranks": [1]})
    backends[0].destroy_group("g")
    with pytest.raises(LookupError, match=r"^unknown comm group 'g'$"):
        backends[0].barrier(request("barrier", "g"))


def test_op_must_match_method() -> None:
    (backend,) = world(1)
    with pytest.raises(
        ValueError, match=r"^expected op 'all_reduce' for all_reduce\(\), got 'broadcast'$"
    ):
        backend.all_reduce([1.0], request("broadcast"))
    with pytest.raises(ValueError, match=r"^expected one chunk per member \(1\), got 2$"):
        backend.reduce_scatter([[1.0], [2.0]], request("reduce_scatter"))


def test_mismatched_inputs_fail_on_every_rank() -> None:
    backends = world(2)
    results = run(backends, lambda b: b.all_reduce([1.0] * (b.rank() + 1), request("all_reduce")))
    for value, response in results:
        assert value is None
        assert response["status"] == "failed"
        assert response["bytes_transferred"] == 0
        assert response["error_message"] == "expected 1 values from every rank, got 2 from rank 1"
    results = run(
        backends,
        lambda b: b.all_reduce([0.5], request("all_reduce", reduce_op="band")),
    )
    assert results[0][1]["error_message"] == "expected integers for band, got 0.5 from rank 0"
    results = run(
        backends,
        lambda b: b.all_reduce([1], request("all_reduce", reduce_op=["sum", "max"][b.rank()])),
    )
    assert results[1][1]["error_message"] == (
        "expected the same reduce_op on every rank ('sum'), got 'max' from rank 1"
    )


def test_timeout_when_a_member_never_arrives() -> None:
    backends = world(2)
    value, response = backends[0].all_reduce([1.0], request("all_reduce", timeout_ms=1.0))
    assert value is None
    assert response["status"] == "timeout"
    assert response["error_message"] == "timed out after 1 ms waiting for ranks [1]"
    value, response = backends[1].all_reduce([1.0], request("all_reduce"))
    assert value is None
    assert response["status"] == "failed"
    assert response["error_message"] == "timed out after 1 ms waiting for ranks [1]"
    # The next call of both ranks is a fresh round.
    results = run(backends, lambda b: b.all_reduce([2.0], request("all_reduce")))
    assert [value for value, _ in results] == [[4.0], [4.0]]


def p2p(src: int, dst: int, **extra: typing.Any) -> typing.Any:
    return {
        "request_id": "p",
        "trace_id": "t",
        "group_id": WORLD_GROUP_ID,
        "src_rank": src,
        "dst_rank": dst,
        **extra,
    }


def test_send_recv() -> None:
    backends = world(2)
    sent = backends[0].send([1.0, 2.0], p2p(0, 1, nbytes=16, tag=7))
    assert sent["status"] == "completed"
    assert sent["bytes_sent"] == 16
    backends[0].send([3.0], p2p(0, 1, nbytes=8))
    value, received = backends[1].recv(p2p(0, 1, expected_nbytes=8))
    assert value == [3.0]  # tag 0 matches the second send
    value, received = backends[1].recv(p2p(0, 1, expected_nbytes=16, tag=7))
    assert value == [1.0, 2.0]
    assert (received["status"], received["bytes_received"], received["error_message"]) == (
        "completed",
        16,
        None,
    )


def test_recv_waits_for_a_send_in_another_thread() -> None:
    backends = world(2)

    def step(b: LoopbackCommBackend) -> typing.Any:
        if b.rank() == 0:
            return b.send([9.0], p2p(0, 1, nbytes=8))
        return b.recv(p2p(0, 1, expected_nbytes=8))

    assert run(backends, step)[1][0] == [9.0]


def test_recv_timeout_and_size_mismatch() -> None:
    backends = world(2)
    value, response = backends[1].recv(p2p(0, 1, expected_nbytes=8, timeout_ms=1.0, tag=3))
    assert value is None
    assert response["status"] == "timeout"
    assert response["error_message"] == "timed out after 1 ms waiting for rank 0 (tag 3)"
    backends[0].send([1.0, 2.0], p2p(0, 1, nbytes=16))
    value, response = backends[1].recv(p2p(0, 1, expected_nbytes=8))
    assert value is None
    assert (response["status"], response["error_message"]) == ("failed", "expected 8 bytes, got 16")


def test_p2p_errors() -> None:
    backends = world(2)
    with pytest.raises(
        ValueError,
        match=r"^invalid P2PSendRequest.dst_rank: expected dst_rank != src_rank \(0\), got 0$",
    ):
        backends[0].send([1.0], p2p(0, 0, nbytes=8))
    with pytest.raises(ValueError, match=r"^expected src_rank == this rank \(0\), got 1$"):
        backends[0].send([1.0], p2p(1, 0, nbytes=8))
    with pytest.raises(ValueError, match=r"^expected dst_rank == this rank \(0\), got 1$"):
        backends[0].recv(p2p(0, 1, expected_nbytes=8))
    with pytest.raises(ValueError, match=r"^expected nbytes == 16 \(2 values of 8 bytes\), got 8$"):
        backends[0].send([1.0, 2.0], p2p(0, 1, nbytes=8))
    with pytest.raises(
        ValueError, match=r"^rank 5 is not a member of comm group 'world' \(ranks \[0, 1\]\)$"
    ):
        backends[0].send([1.0], p2p(0, 5, nbytes=8))
