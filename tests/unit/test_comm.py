"""comm: defaults, cross-field invariants (enum values: test_spec_conformance)."""

import typing

import pytest

from sagellm_protocol import comm, defaults
from sagellm_protocol._registry import INVARIANTS


def test_group_defaults() -> None:
    assert defaults(comm.CommGroupInfo) == {"root_rank": 0, "timeout_ms": 30000.0, "metadata": {}}


def violations(tp: type, value: dict[str, typing.Any]) -> list[typing.Any]:
    return [v for check in INVARIANTS[tp] for v in check(value)]


def group(ranks: list[int], world_size: int, **extra: typing.Any) -> dict[str, typing.Any]:
    return {"group_id": "g", "backend": "gloo", "world_size": world_size, "ranks": ranks, **extra}


@pytest.mark.parametrize(
    "value",
    [
        group([0], 1),
        group([0, 1, 2, 3], 4),
        group([7, 3, 5], 3),
        # root_rank is not checked against ranks: the original default 0 is emitted for
        # groups that lack global rank 0.
        group([4, 5, 6, 7], 4, root_rank=0),
    ],
)
def test_group_invariants_hold(value: dict[str, typing.Any]) -> None:
    assert violations(comm.CommGroupInfo, value) == []


def test_group_size_mismatch() -> None:
    assert violations(comm.CommGroupInfo, group([0, 1, 2], 4)) == [
        (("ranks",), "expected len(ranks) == world_size (4), got 3")
    ]


def test_group_duplicate_ranks_reported_once() -> None:
    assert violations(comm.CommGroupInfo, group([0, 1, 1, 0, 1], 5)) == [
        (("ranks", 2), "expected distinct ranks, got 1 again")
    ]


def test_group_both_rules_broken() -> None:
    assert violations(comm.CommGroupInfo, group([2, 2], 3)) == [
        (("ranks",), "expected len(ranks) == world_size (3), got 2"),
        (("ranks", 1), "expected distinct ranks, got 2 again"),
    ]


@pytest.mark.parametrize("tp", [comm.P2PSendRequest, comm.P2PRecvRequest])
def test_p2p_distinct_ranks(tp: type) -> None:
    base = {"request_id": "r", "trace_id": "t", "group_id": "g", "nbytes": 8}
    assert violations(tp, {**base, "src_rank": 0, "dst_rank": 1}) == []
    assert violations(tp, {**base, "src_rank": 3, "dst_rank": 3}) == [
        (("dst_rank",), "expected dst_rank != src_rank (3), got 3")
    ]


def test_comm_backend_is_runtime_checkable() -> None:
    class Partial:
        def init(self, rank: int, world_size: int) -> None: ...

    assert not isinstance(Partial(), comm.CommBackend)
