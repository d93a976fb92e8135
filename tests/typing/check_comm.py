"""Static checks of sagellm_protocol.comm (run under mypy, never executed)."""

from typing_extensions import assert_type

from sagellm_protocol.comm import (
    CollectiveRequest,
    CollectiveResponse,
    CommBackend,
    CommGroupInfo,
    P2PRecvResponse,
    P2PSendRequest,
    P2PSendResponse,
    ReduceOp,
)
from sagellm_protocol.testing.comm import LoopbackCommBackend

group: CommGroupInfo = {"group_id": "tp0", "backend": "nccl", "world_size": 2, "ranks": [0, 1]}
request: CollectiveRequest = {
    "request_id": "r",
    "trace_id": "t",
    "group_id": "tp0",
    "op": "all_reduce",
    "reduce_op": ReduceOp.AVG,
}
send: P2PSendRequest = {
    "request_id": "r",
    "trace_id": "t",
    "group_id": "tp0",
    "src_rank": 0,
    "dst_rank": 1,
    "nbytes": 8,
}

missing: CommGroupInfo = {"group_id": "g", "backend": "gloo", "world_size": 1}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
wrong_type: CommGroupInfo = {"group_id": "g", "backend": "gloo", "world_size": "1", "ranks": [0]}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
unknown: CommGroupInfo = {
    "group_id": "g",
    "backend": "gloo",
    "world_size": 1,
    "ranks": [0],
    "rank": 0,  # pyright: ignore[reportAssignmentType]
}  # type: ignore[typeddict-unknown-key]
typo: CollectiveRequest = {"request_id": "r", "trace_id": "t", "group_id": "g", "op": "allreduce"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]

backend: CommBackend[list[float]] = LoopbackCommBackend()
value, response = backend.all_reduce([1.0], request)
assert_type(value, list[float] | None)
assert_type(response, CollectiveResponse)
gathered, _ = backend.all_gather([1.0], request)
assert_type(gathered, list[list[float]] | None)
assert_type(backend.send([1.0], send), P2PSendResponse)
assert_type(backend.create_group(group), CommGroupInfo)
wrong_payload: CommBackend[str] = LoopbackCommBackend()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class MissingBarrier:
    def init(self, rank: int, world_size: int) -> CommGroupInfo:
        raise NotImplementedError

    def destroy(self) -> None:
        raise NotImplementedError

    def rank(self) -> int:
        raise NotImplementedError

    def world_size(self) -> int:
        raise NotImplementedError

    def create_group(self, group: CommGroupInfo) -> CommGroupInfo:
        raise NotImplementedError

    def destroy_group(self, group_id: str) -> None:
        raise NotImplementedError

    def all_reduce(
        self, tensor: bytes, request: CollectiveRequest
    ) -> tuple[bytes | None, CollectiveResponse]:
        raise NotImplementedError

    def all_gather(
        self, tensor: bytes, request: CollectiveRequest
    ) -> tuple[list[bytes] | None, CollectiveResponse]:
        raise NotImplementedError

    def broadcast(
        self, tensor: bytes, request: CollectiveRequest
    ) -> tuple[bytes | None, CollectiveResponse]:
        raise NotImplementedError

    def reduce_scatter(
        self, chunks: list[bytes], request: CollectiveRequest
    ) -> tuple[bytes | None, CollectiveResponse]:
        raise NotImplementedError

    def send(self, tensor: bytes, request: P2PSendRequest) -> P2PSendResponse:
        raise NotImplementedError

    def recv(self, request: object) -> tuple[bytes | None, P2PRecvResponse]:
        raise NotImplementedError


class AsyncBarrier(MissingBarrier):
    async def barrier(self, request: CollectiveRequest) -> CollectiveResponse:
        raise NotImplementedError


class SyncBarrier(MissingBarrier):
    def barrier(self, request: CollectiveRequest) -> CollectiveResponse:
        raise NotImplementedError


no_barrier: CommBackend[bytes] = MissingBarrier()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
async_barrier: CommBackend[bytes] = AsyncBarrier()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
complete: CommBackend[bytes] = SyncBarrier()
