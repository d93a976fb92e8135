"""A loopback :class:`~sagellm_protocol.comm.CommBackend`: N simulated ranks in one process.

Each rank is a :class:`LoopbackCommBackend`; ranks that share a :class:`LoopbackWorld`
communicate through it. Payloads are lists of numbers (8 bytes per value, as float64 on a
real wire). A collective completes when every member of the group has called it — run the
ranks in threads — and a rank that waits longer than the timeout gets a ``"timeout"``
response. A world of one rank needs no threads.
"""

import copy
import functools
import math
import operator
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .._defaults import with_defaults
from .._tree.analyse import analyze
from .._tree.nodes import TypedDictNode
from ..comm import (
    CollectiveOpName,
    CollectiveRequest,
    CollectiveResponse,
    CommBackendType,
    CommBackendTypeName,
    CommGroupInfo,
    CommStatusName,
    P2PRecvRequest,
    P2PRecvResponse,
    P2PSendRequest,
    P2PSendResponse,
)

__all__ = ["ITEM_BYTES", "WORLD_GROUP_ID", "LoopbackCommBackend", "LoopbackWorld"]

ITEM_BYTES: Final = 8
"""Bytes each payload value counts for (``nbytes`` of a send is ``8 * len(values)``)."""

WORLD_GROUP_ID: Final = "world"
"""``group_id`` of the group of all ranks, created by ``init()``."""

_REDUCERS: Final[dict[str, Callable[[list[float]], float]]] = {
    "sum": math.fsum,
    "max": max,
    "min": min,
    "prod": math.prod,
    "avg": lambda column: math.fsum(column) / len(column),
    "band": lambda column: functools.reduce(operator.and_, column),
    "bor": lambda column: functools.reduce(operator.or_, column),
    "bxor": lambda column: functools.reduce(operator.xor, column),
}
_BITWISE: Final = frozenset({"band", "bor", "bxor"})


class _Mismatch(Exception):
    """The ranks' inputs to one collective do not fit together."""


@dataclass
class _Contribution:
    op: CollectiveOpName
    payload: Any
    reduce_op: str
    root: int | None


@dataclass
class _Round:
    """One collective call on a group: every member's input, then every member's output."""

    waiting_for: int
    contributions: dict[int, _Contribution] = field(default_factory=dict)
    results: dict[int, Any] = field(default_factory=dict)
    error: str | None = None
    done: bool = False


class LoopbackWorld:
    """The shared state of the ranks of one simulated world: groups, pending calls, mailboxes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._size: int | None = None
        self._joined: set[int] = set()
        self._groups: dict[str, CommGroupInfo] = {}
        self._rounds: dict[tuple[str, int], _Round] = {}
        self._mailboxes: dict[tuple[str, int, int, int], deque[list[float]]] = {}


class LoopbackCommBackend:
    """One rank of a :class:`LoopbackWorld`, implementing ``CommBackend[list[float]]``.

    ``async_op`` is honoured by completing the operation before returning, which the
    protocol allows; responses then say ``"completed"``.
    """

    def __init__(
        self,
        world: LoopbackWorld | None = None,
        backend: CommBackendTypeName | CommBackendType = "custom",
    ) -> None:
        self._world = LoopbackWorld() if world is None else world
        self._backend = backend
        self._rank: int | None = None
        self._calls: dict[str, int] = {}

    def init(self, rank: int, world_size: int) -> CommGroupInfo:
        """Join the world as ``rank``; the first rank to join fixes ``world_size``."""
        if self._rank is not None:
            raise RuntimeError(f"comm backend already initialized as rank {self._rank}")
        if world_size < 1:
            raise ValueError(f"expected world_size >= 1, got {world_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"expected 0 <= rank < world_size ({world_size}), got {rank}")
        world = self._world
        with world._cond:
            if world._size is None:
                world._size = world_size
                everyone: CommGroupInfo = {
                    "group_id": WORLD_GROUP_ID,
                    "backend": self._backend,
                    "world_size": world_size,
                    "ranks": list(range(world_size)),
                }
                world._groups[WORLD_GROUP_ID] = with_defaults(CommGroupInfo, everyone)
            elif world._size != world_size:
                raise ValueError(
                    f"expected world_size {world._size} of this world, got {world_size}"
                )
            if rank in world._joined:
                raise ValueError(f"rank {rank} already joined this world")
            world._joined.add(rank)
            self._rank = rank
            return _copy_group(world._groups[WORLD_GROUP_ID])

    def destroy(self) -> None:
        """Leave the world; the last rank to leave resets it."""
        world = self._world
        with world._cond:
            if self._rank is not None:
                world._joined.discard(self._rank)
            if not world._joined:
                world._size = None
                world._groups.clear()
                world._rounds.clear()
                world._mailboxes.clear()
        self._rank = None
        self._calls.clear()

    def rank(self) -> int:
        """This backend's global rank."""
        if self._rank is None:
            raise RuntimeError("comm backend is not initialized")
        return self._rank

    def world_size(self) -> int:
        """Number of ranks in the world."""
        self.rank()
        assert self._world._size is not None  # set by the init() that set the rank
        return self._world._size

    def create_group(self, group: CommGroupInfo) -> CommGroupInfo:
        """Create the group, or join the identical group another rank created."""
        world_size = self.world_size()
        _check_invariants(CommGroupInfo, group)
        outside = [rank for rank in group["ranks"] if not 0 <= rank < world_size]
        if outside:
            raise ValueError(f"expected ranks in [0, {world_size}), got {outside}")
        complete = with_defaults(CommGroupInfo, group)
        with self._world._cond:
            existing = self._world._groups.setdefault(group["group_id"], complete)
            if existing != complete:
                raise ValueError(
                    f"comm group {group['group_id']!r} already exists as {dict(existing)}"
                )
        return _copy_group(complete)

    def destroy_group(self, group_id: str) -> None:
        """Remove the group for every rank."""
        self.rank()
        with self._world._cond:
            if self._world._groups.pop(group_id, None) is None:
                raise LookupError(f"unknown comm group {group_id!r}")
        self._calls.pop(group_id, None)

    def all_reduce(
        self, tensor: list[float], request: CollectiveRequest
    ) -> tuple[list[float] | None, CollectiveResponse]:
        """Element-wise ``reduce_op`` of every member's ``tensor``."""
        return self._collective("all_reduce", list(tensor), request, len(tensor))

    def all_gather(
        self, tensor: list[float], request: CollectiveRequest
    ) -> tuple[list[list[float]] | None, CollectiveResponse]:
        """Every member's ``tensor``, in the group's ``ranks`` order."""
        return self._collective("all_gather", list(tensor), request, len(tensor))

    def broadcast(
        self, tensor: list[float], request: CollectiveRequest
    ) -> tuple[list[float] | None, CollectiveResponse]:
        """The root's ``tensor`` on every member."""
        return self._collective("broadcast", list(tensor), request, len(tensor))

    def reduce_scatter(
        self, chunks: list[list[float]], request: CollectiveRequest
    ) -> tuple[list[float] | None, CollectiveResponse]:
        """Chunk ``i`` reduced over the group, on the ``i``-th member."""
        group = self._group(request["group_id"])
        if len(chunks) != group["world_size"]:
            raise ValueError(
                f"expected one chunk per member ({group['world_size']}), got {len(chunks)}"
            )
        payload = [list(chunk) for chunk in chunks]
        return self._collective("reduce_scatter", payload, request, sum(map(len, chunks)))

    def barrier(self, request: CollectiveRequest) -> CollectiveResponse:
        """Wait for every member."""
        return self._collective("barrier", None, request, 0)[1]

    def send(self, tensor: list[float], request: P2PSendRequest) -> P2PSendResponse:
        """Deliver ``tensor`` to the receiver's mailbox; never waits for the receiver."""
        start = time.perf_counter()
        self._check_p2p(P2PSendRequest, request, "src_rank")
        nbytes = ITEM_BYTES * len(tensor)
        if request["nbytes"] != nbytes:
            raise ValueError(
                f"expected nbytes == {nbytes} ({len(tensor)} values of {ITEM_BYTES} bytes), "
                f"got {request['nbytes']}"
            )
        world = self._world
        with world._cond:
            world._mailboxes.setdefault(_mailbox(request), deque()).append(list(tensor))
            world._cond.notify_all()
        return {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "status": "completed",
            "elapsed_ms": _ms_since(start),
            "bytes_sent": nbytes,
            "error_message": None,
        }

    def recv(self, request: P2PRecvRequest) -> tuple[list[float] | None, P2PRecvResponse]:
        """Take the oldest matching message, waiting up to the timeout for one."""
        start = time.perf_counter()
        group = self._check_p2p(P2PRecvRequest, request, "dst_rank")
        timeout_ms = _timeout_ms(request, group)
        world, key = self._world, _mailbox(request)
        with world._cond:
            arrived = world._cond.wait_for(lambda: world._mailboxes.get(key), timeout_ms / 1000)
            message = world._mailboxes[key].popleft() if arrived else None
        value: list[float] | None = None
        status: CommStatusName = "completed"
        error = None
        received = 0
        if message is None:
            status = "timeout"
            error = (
                f"timed out after {timeout_ms:g} ms waiting for rank {request['src_rank']} "
                f"(tag {request.get('tag', 0)})"
            )
        else:
            received = ITEM_BYTES * len(message)
            if received == request["expected_nbytes"]:
                value = message
            else:
                status = "failed"
                error = f"expected {request['expected_nbytes']} bytes, got {received}"
        return value, {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "status": status,
            "elapsed_ms": _ms_since(start),
            "bytes_received": received,
            "error_message": error,
        }

    def _group(self, group_id: str) -> CommGroupInfo:
        me = self.rank()
        with self._world._cond:
            group = self._world._groups.get(group_id)
        if group is None:
            raise LookupError(f"unknown comm group {group_id!r}")
        if me not in group["ranks"]:
            raise ValueError(
                f"rank {me} is not a member of comm group {group_id!r} (ranks {group['ranks']})"
            )
        return group

    def _check_p2p(
        self, tp: type, request: P2PSendRequest | P2PRecvRequest, own_key: str
    ) -> CommGroupInfo:
        group = self._group(request["group_id"])
        _check_invariants(tp, request)
        me = self.rank()
        own = request["src_rank"] if own_key == "src_rank" else request["dst_rank"]
        if own != me:
            raise ValueError(f"expected {own_key} == this rank ({me}), got {own}")
        peer = request["dst_rank"] if own_key == "src_rank" else request["src_rank"]
        if peer not in group["ranks"]:
            raise ValueError(
                f"rank {peer} is not a member of comm group {group['group_id']!r} "
                f"(ranks {group['ranks']})"
            )
        return group

    def _collective(
        self, op: CollectiveOpName, payload: Any, request: CollectiveRequest, values: int
    ) -> tuple[Any, CollectiveResponse]:
        start = time.perf_counter()
        if request["op"] != op:
            raise ValueError(f"expected op {op!r} for {op}(), got {request['op']!r}")
        group = self._group(request["group_id"])
        me, ranks = self.rank(), group["ranks"]
        root = None
        if op == "broadcast":
            root = request.get("root_rank")
            root = group["root_rank"] if root is None else root
            if root not in ranks:
                raise ValueError(
                    f"expected root_rank among the ranks of comm group {group['group_id']!r} "
                    f"({ranks}), got {root}"
                )
        contribution = _Contribution(op, payload, str(request.get("reduce_op", "sum")), root)
        timeout_ms = _timeout_ms(request, group)
        # Members match calls by their position in the group's call sequence, like NCCL.
        call = self._calls[group["group_id"]] = self._calls.get(group["group_id"], 0) + 1
        key = (group["group_id"], call)
        world = self._world
        status: CommStatusName = "completed"
        with world._cond:
            round_ = world._rounds.setdefault(key, _Round(waiting_for=len(ranks)))
            if round_.done:
                status = "failed"
            else:
                round_.contributions[me] = contribution
                if len(round_.contributions) == len(ranks):
                    _finish(round_, ranks)
                    world._cond.notify_all()
                elif not world._cond.wait_for(lambda: round_.done, timeout_ms / 1000):
                    missing = [rank for rank in ranks if rank not in round_.contributions]
                    round_.error = f"timed out after {timeout_ms:g} ms waiting for ranks {missing}"
                    round_.done = True
                    world._cond.notify_all()  # members still waiting fail now, not at their timeout
                    status = "timeout"
            if status == "completed" and round_.error is not None:
                status = "failed"
            result = round_.results.get(me)
            round_.waiting_for -= 1
            if round_.waiting_for == 0:
                del world._rounds[key]
        return result, {
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "op": op,
            "status": status,
            "elapsed_ms": _ms_since(start),
            "bytes_transferred": ITEM_BYTES * values if status == "completed" else 0,
            "error_message": round_.error,
            "metadata": {},
        }


def _finish(round_: _Round, ranks: list[int]) -> None:
    """Compute every member's result, or the reason there is none."""
    inputs = [round_.contributions[rank] for rank in ranks]
    first = inputs[0]
    try:
        for rank, contribution in zip(ranks, inputs, strict=True):
            for name in ("op", "reduce_op", "root"):
                if getattr(contribution, name) != getattr(first, name):
                    raise _Mismatch(
                        f"expected the same {name} on every rank ({getattr(first, name)!r}), "
                        f"got {getattr(contribution, name)!r} from rank {rank}"
                    )
        payloads = [contribution.payload for contribution in inputs]
        if first.op == "reduce_scatter":
            outputs = [
                _reduce(first.reduce_op, [chunks[index] for chunks in payloads], ranks)
                for index in range(len(ranks))
            ]
            round_.results = dict(zip(ranks, outputs, strict=True))
        elif first.op == "all_reduce":
            reduced = _reduce(first.reduce_op, payloads, ranks)
            round_.results = {rank: list(reduced) for rank in ranks}
        elif first.op == "all_gather":
            round_.results = {rank: [list(p) for p in payloads] for rank in ranks}
        elif first.op == "broadcast":
            assert first.root is not None  # a broadcast contribution always names its root
            source = payloads[ranks.index(first.root)]
            _same_lengths(payloads, ranks)
            round_.results = {rank: list(source) for rank in ranks}
    except _Mismatch as mismatch:
        round_.error = str(mismatch)
    round_.done = True


def _same_lengths(vectors: list[list[float]], ranks: list[int]) -> None:
    expected = len(vectors[0])
    for rank, vector in zip(ranks, vectors, strict=True):
        if len(vector) != expected:
            raise _Mismatch(
                f"expected {expected} values from every rank, got {len(vector)} from rank {rank}"
            )


def _reduce(reduce_op: str, vectors: list[list[float]], ranks: list[int]) -> list[float]:
    _same_lengths(vectors, ranks)
    if reduce_op in _BITWISE:
        for rank, vector in zip(ranks, vectors, strict=True):
            for value in vector:
                if type(value) is not int:
                    raise _Mismatch(
                        f"expected integers for {reduce_op}, got {value!r} from rank {rank}"
                    )
    reducer = _REDUCERS[reduce_op]
    return [reducer(list(column)) for column in zip(*vectors, strict=True)]


def _check_invariants(tp: type, value: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` for the first cross-field rule of ``tp`` that ``value`` breaks."""
    node = analyze(tp)
    assert isinstance(node, TypedDictNode)
    for rule in node.invariants:
        for path, message in rule.check(value):
            where = ".".join(map(str, path))
            raise ValueError(f"invalid {tp.__name__}.{where}: {message}")


def _copy_group(group: CommGroupInfo) -> CommGroupInfo:
    """A copy the caller may change without changing the world's group."""
    return copy.deepcopy(group)


def _mailbox(request: P2PSendRequest | P2PRecvRequest) -> tuple[str, int, int, int]:
    return request["group_id"], request["src_rank"], request["dst_rank"], request.get("tag", 0)


def _timeout_ms(
    request: CollectiveRequest | P2PSendRequest | P2PRecvRequest, group: CommGroupInfo
) -> float:
    timeout = request.get("timeout_ms")
    # Stored groups carry every default (``with_defaults``), so ``timeout_ms`` is present.
    return group["timeout_ms"] if timeout is None else timeout


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000
