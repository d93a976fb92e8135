"""Prefill/decode separation types: keys, bounds, defaults (fresh UUIDs)."""

import json
import uuid
from typing import Any, get_args

import annotated_types
import pytest
from typing_extensions import get_type_hints

from sagellm_protocol import defaults, with_defaults
from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.constraints import UUID_FORMAT
from sagellm_protocol.pd import (
    EngineRole,
    EngineRoleName,
    KVTransferRequest,
    KVTransferResult,
    KVTransferState,
    KVTransferStateName,
    PDDispatchPlan,
)
from sagellm_protocol.validation import is_valid, validate


def test_enums() -> None:
    assert [m.value for m in EngineRole] == ["prefill", "decode", "hybrid"]
    assert [m.value for m in EngineRole] == list(get_args(EngineRoleName))
    assert [m.value for m in KVTransferState] == ["pending", "in_progress", "done", "failed"]
    assert [m.value for m in KVTransferState] == list(get_args(KVTransferStateName))


def bounds(tp: Any, key: str) -> list[Any]:
    hint = get_type_hints(tp, include_extras=True)[key]
    while not hasattr(hint, "__metadata__"):
        (hint,) = get_args(hint)
    return list(hint.__metadata__)


def assert_fresh_uuid(make: Any) -> None:
    first, second = make(), make()
    assert first != second
    for value in (first, second):
        assert type(value) is str
        assert str(uuid.UUID(value)) == value
        assert uuid.UUID(value).version == 4
        assert UUID_FORMAT.matches(value)


def test_pd_dispatch_plan() -> None:
    assert list(get_type_hints(PDDispatchPlan)) == [
        "request_id",
        "trace_id",
        "plan_id",
        "prefill_engine_id",
        "decode_engine_id",
        "kv_channel_id",
        "prefill_rank",
        "decode_rank",
    ]
    assert PDDispatchPlan.__optional_keys__ == frozenset({"plan_id"})
    assert PDDispatchPlan.__closed__ is True
    assert bounds(PDDispatchPlan, "plan_id") == [UUID_FORMAT]
    assert bounds(PDDispatchPlan, "prefill_rank") == [annotated_types.Ge(0)]
    assert bounds(PDDispatchPlan, "decode_rank") == [annotated_types.Ge(0)]
    assert_fresh_uuid(lambda: defaults(PDDispatchPlan)["plan_id"])


def test_with_defaults_fills_a_fresh_plan_id() -> None:
    plan: PDDispatchPlan = {
        "request_id": "r1",
        "trace_id": "t1",
        "prefill_engine_id": "p0",
        "decode_engine_id": "d0",
        "kv_channel_id": "c0",
        "prefill_rank": 0,
        "decode_rank": 1,
    }
    completed = with_defaults(PDDispatchPlan, plan)
    assert "plan_id" not in plan
    assert UUID_FORMAT.matches(completed["plan_id"])
    assert list(completed) == list(get_type_hints(PDDispatchPlan))
    assert json.loads(json.dumps(completed)) == completed


def test_kv_transfer_request() -> None:
    assert list(get_type_hints(KVTransferRequest)) == [
        "transfer_id",
        "request_id",
        "trace_id",
        "src_engine_id",
        "dst_engine_id",
        "src_rank",
        "dst_rank",
        "num_layers",
        "num_tokens",
        "num_heads",
        "head_dim",
        "dtype",
    ]
    assert KVTransferRequest.__optional_keys__ == frozenset({"transfer_id", "dtype"})
    assert KVTransferRequest.__closed__ is True
    for key in ("src_rank", "dst_rank"):
        assert bounds(KVTransferRequest, key) == [annotated_types.Ge(0)]
    for key in ("num_layers", "num_tokens", "num_heads", "head_dim"):
        assert bounds(KVTransferRequest, key) == [annotated_types.Gt(0)]
    registered = defaults(KVTransferRequest)
    assert registered["dtype"] == "float16"
    assert_fresh_uuid(lambda: defaults(KVTransferRequest)["transfer_id"])


def test_kv_transfer_result() -> None:
    assert list(get_type_hints(KVTransferResult)) == [
        "transfer_id",
        "request_id",
        "state",
        "bytes_transferred",
        "duration_ms",
        "error",
    ]
    assert KVTransferResult.__required_keys__ == frozenset({"transfer_id", "request_id"})
    assert KVTransferResult.__closed__ is True
    assert bounds(KVTransferResult, "transfer_id") == [UUID_FORMAT]
    assert defaults(KVTransferResult) == {
        "state": "done",
        "bytes_transferred": 0,
        "duration_ms": 0.0,
        "error": None,
    }


@pytest.mark.parametrize("tp", [PDDispatchPlan, KVTransferRequest, KVTransferResult])
def test_no_cross_field_rules(tp: Any) -> None:
    """None is clearly right: a hybrid engine may hold both phases (equal engine ids), and
    the original sets ``state`` and ``error`` independently."""
    assert tp not in INVARIANTS


def test_transfer_ids_must_be_uuids() -> None:
    result: KVTransferResult = {"transfer_id": str(uuid.uuid4()), "request_id": "r1"}
    assert validate(KVTransferResult, result) is result
    assert not is_valid(KVTransferResult, {**result, "transfer_id": "t-1"})
