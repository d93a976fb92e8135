"""The analysed type tree: derived data on the nodes, registrations, defaults over the tree."""

import copy
import gc
from typing import Annotated, Any

import pytest
from annotated_types import Ge, MinLen
from typing_extensions import NotRequired, TypedDict

from sagellm_protocol import Request, Response, StreamEvent, invariants, with_defaults
from sagellm_protocol._registry import register_defaults, register_invariant
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.kv.operations import KVCacheFreeResponse, KVCacheMigrateResponse
from sagellm_protocol.validation import collect_issues, validate
from sagellm_protocol.validation._compile import _COMPILED

UUID = "123e4567-e89b-42d3-a456-426614174000"
OTHER_UUID = "123e4567-e89b-42d3-a456-426614174001"


def test_with_defaults_keeps_a_dict_of_errors_a_dict_of_errors() -> None:
    value = {
        "request_id": "r",
        "trace_id": "t",
        "success": False,
        "errors": {UUID: {"code": "unavailable", "message": "x"}},
    }
    before = copy.deepcopy(value)
    completed = with_defaults(KVCacheFreeResponse, value)  # type: ignore[arg-type]
    assert completed["errors"] == {UUID: {"code": "unavailable", "message": "x", "retryable": None}}
    assert collect_issues(KVCacheFreeResponse, completed) == []
    assert value == before


def test_with_defaults_completes_migrate_responses_inside_their_lists_and_dicts() -> None:
    value = {
        "request_id": "r",
        "trace_id": "t",
        "success": True,
        "handle_mapping": {UUID: OTHER_UUID},
        "errors": {UUID: {"code": "unavailable", "message": "x"}},
    }
    completed = with_defaults(KVCacheMigrateResponse, value)  # type: ignore[arg-type]
    assert completed["handle_mapping"] == {UUID: OTHER_UUID}
    assert collect_issues(KVCacheMigrateResponse, completed) == []


def test_with_defaults_picks_the_tagged_option_of_a_union() -> None:
    class Holder(TypedDict, closed=True):  # type: ignore[call-arg]
        event: StreamEvent

    end = {
        "request_id": "r",
        "trace_id": "t",
        "engine_id": "e",
        "event": "end",
        "content": "",
        "finish_reason": "stop",
        "output_tokens": [],
        "metrics": {"ttft_ms": 1.0, "throughput_tps": 1.0, "peak_mem_mb": 0, "error_rate": 0.0},
    }
    completed = with_defaults(Holder, {"event": end})
    assert completed["event"]["metrics"]["tbt_ms"] == 0.0  # the end event's Metrics completed
    assert "content_tokens" not in completed["event"]  # no key of the delta option added
    assert collect_issues(Holder, completed) == []


def test_derived_data_lives_on_nodes_so_a_freed_node_takes_it_along() -> None:
    # Forms with unhashable metadata are analysed afresh each time: each new node must get
    # its own checker and description, even when it reuses a freed node's memory.
    for round_number in range(300):
        assert collect_issues(Annotated[int, Ge(1), []], -1) == [
            ((), "range", "expected an int >= 1, got -1")
        ]
        assert collect_issues(Annotated[str, MinLen(3), []], "a") == [
            ((), "length", "expected a str of length >= 3, got a str of length 1")
        ]
        if round_number % 50 == 0:
            gc.collect()


def test_invariants_lists_each_rule_with_what_it_says() -> None:
    rules = invariants(Request)
    assert list(rules) == ["_request_prompt_or_messages", "_request_ranks"]
    assert rules["_request_ranks"] == (
        "rank < world_size, tp_rank < tp_size, pp_rank < pp_size, each when both are set."
    )
    assert invariants(Response) == {
        "_finish_reason_matches_error": (
            '``finish_reason`` is ``"error"`` exactly when ``error`` is present and not ``None``.'
        )
    }
    with pytest.raises(TypeError, match=r"invariants\(\) takes a protocol TypedDict, got 3"):
        invariants(3)  # type: ignore[arg-type]


def test_a_registration_after_the_first_analysis_raises() -> None:
    class Late(TypedDict):
        low: int
        high: NotRequired[int]

    validate(Late, {"low": 1})
    with pytest.raises(RuntimeError) as caught:

        @register_invariant(Late)
        def _ordered(value: Any) -> Any:
            yield (), "never registered"

    assert str(caught.value) == (
        "cannot register the invariant '_ordered' for "
        "test_a_registration_after_the_first_analysis_raises.<locals>.Late: the type was "
        "already analysed (validated, completed or compiled), so the rule would not apply "
        "everywhere; register beside the type, before its first use"
    )
    with pytest.raises(RuntimeError, match="cannot register defaults for"):
        register_defaults(Late, {"high": 2})
    assert invariants(Late) == {}


def test_a_registration_before_the_first_analysis_applies_everywhere() -> None:
    class Early(TypedDict):
        low: int
        high: NotRequired[int]

    register_defaults(Early, {"high": 10})

    @register_invariant(Early, holds=lambda v: v["low"] <= v.get("high", 10))
    def _ordered(value: Any) -> Any:
        """low <= high."""
        if value["low"] > value.get("high", 10):
            yield ("low",), "expected low <= high"

    assert collect_issues(Early, {"low": 11}) == [(("low",), "invariant", "expected low <= high")]
    assert with_defaults(Early, {"low": 1}) == {"low": 1, "high": 10}
    assert invariants(Early) == {"_ordered": "low <= high."}
    assert _COMPILED.peek(analyze(Early)) is not None


def test_a_quick_predicate_that_declines_leaves_the_decision_to_the_check() -> None:
    from sagellm_protocol import ChatMessage
    from sagellm_protocol.validation._compile import fast_checker

    compiled = fast_checker(analyze(ChatMessage))
    assert compiled({"role": "user", "content": "hi"})  # settled by the quick predicate
    # A tool message has a third key: the predicate declines and the per-role check decides.
    assert compiled({"role": "tool", "content": "42", "tool_call_id": "call-1"})
    assert not compiled({"role": "tool", "content": "42", "name": "calc"})
    assert collect_issues(ChatMessage, {"role": "tool", "content": "42", "name": "calc"}) == [
        (
            ("tool_call_id",),
            "invariant",
            "expected a tool_call_id on a 'tool' message, got no 'tool_call_id' key",
        )
    ]


_LIMIT = 10


def test_a_quick_predicate_of_ones_own_is_called_and_settles_the_common_case() -> None:
    """Only the package's own predicates are inlined (from notes written at build time, see
    test_source_notes.py); any other is called, and the check runs only where it is false."""

    class Quick(TypedDict):
        low: int
        high: NotRequired[int]

    asked: list[object] = []
    checked: list[object] = []

    def below_limit(value: Any) -> bool:
        asked.append(value)
        return value["low"] < _LIMIT

    def check(value: Any) -> Any:
        checked.append(value)
        if value["low"] >= _LIMIT:
            yield ("low",), f"expected low < {_LIMIT}"

    register_invariant(Quick, holds=below_limit)(check)
    fine, broken = {"low": 1}, {"low": 11, "high": 12}
    assert validate(Quick, fine) is fine
    assert (asked, checked) == ([fine], [])
    assert collect_issues(Quick, broken) == [(("low",), "invariant", "expected low < 10")]
    assert asked[1:] == [broken]
    assert checked[-1] == broken
