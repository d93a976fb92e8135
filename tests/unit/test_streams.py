"""Stream rules: validate_stream(), stream_checker(), their registration and the corpus."""

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from stream_samples import STREAMS, chat_stream, chunks_of, echo_stream

from sagellm_protocol import (
    ChatCompletionStreamResponse,
    CompletionResponse,
    Issue,
    ResponsesStreamEvent,
    StreamEvent,
    StreamEventDelta,
    ValidationError,
    json_schema,
    stream_checker,
    validate_stream,
)
from sagellm_protocol._registry import STREAM_RULES


def issues_of(tp: Any, events: list[Any]) -> list[Issue]:
    with pytest.raises(ValidationError) as caught:
        validate_stream(tp, events)
    return caught.value.issues


# ---------------------------------------------------------------------------------------------
# Protocol v0.1


def test_a_valid_stream_passes_and_comes_back_as_the_same_events() -> None:
    events = echo_stream()
    kept = validate_stream(StreamEvent, events)
    assert kept == events
    assert all(one is other for one, other in zip(kept, events, strict=True))


def test_a_failed_request_may_end_right_after_its_start() -> None:
    start, *_, end = echo_stream()
    failed = {
        **end,
        "content": "",
        "output_tokens": [],
        "finish_reason": "error",
        "error": {"code": "unavailable", "message": "boom", "retryable": False},
    }
    assert validate_stream(StreamEvent, [start, failed]) == [start, failed]


def test_a_delta_before_the_start() -> None:
    start, delta, *rest = echo_stream()
    assert issues_of(StreamEvent, [delta, start, *rest]) == [
        Issue((0, "event"), "sequence", "expected 'start' first, got 'delta'")
    ]


def test_a_second_start() -> None:
    events = echo_stream()
    events.insert(2, events[0])
    assert issues_of(StreamEvent, events) == [
        Issue((2, "event"), "sequence", "expected one 'start', got another after [0]")
    ]


def test_a_delta_after_the_end() -> None:
    events = echo_stream()
    events.append(events[1])
    assert issues_of(StreamEvent, events) == [
        Issue((5,), "sequence", "expected nothing after the end at [4], got 'delta'")
    ]


def test_a_second_end() -> None:
    events = echo_stream()
    events.append(events[-1])
    assert issues_of(StreamEvent, events) == [
        Issue((5,), "sequence", "expected nothing after the end at [4], got 'end'")
    ]


def test_a_stream_without_its_end_is_an_issue_one_past_the_last_event() -> None:
    events = echo_stream()[:-1]
    assert issues_of(StreamEvent, events) == [
        Issue((4,), "sequence", "expected an 'end' event after [3], got the stream's end")
    ]


def test_an_empty_stream() -> None:
    assert issues_of(StreamEvent, []) == [
        Issue((0,), "sequence", "expected a 'start' event, got an empty stream")
    ]


@pytest.mark.parametrize("key", ["request_id", "trace_id", "engine_id"])
def test_an_identity_that_changes(key: str) -> None:
    events = echo_stream()
    events[2] = {**events[2], key: "other"}
    first = events[0][key]
    assert issues_of(StreamEvent, events) == [
        Issue((2, key), "sequence", f"expected {first!r} as in [0], got 'other'")
    ]


def test_an_end_whose_content_is_not_the_deltas_joined() -> None:
    events = echo_stream()
    events[-1] = {**events[-1], "content": "a b C"}
    assert issues_of(StreamEvent, events) == [
        Issue(
            (4, "content"),
            "sequence",
            "expected the deltas' text joined (5 characters), got 5 characters, "
            "differing from character 5",
        )
    ]


def test_an_end_whose_tokens_are_not_the_deltas_concatenated() -> None:
    events = echo_stream()
    events[-1] = {**events[-1], "output_tokens": events[-1]["output_tokens"][:2]}
    assert issues_of(StreamEvent, events) == [
        Issue(
            (4, "output_tokens"),
            "sequence",
            "expected the deltas' tokens joined (3 tokens), got 2 tokens, differing from token 3",
        )
    ]


def test_an_event_invalid_on_its_own_is_reported_at_its_index_and_left_out_of_the_rules() -> None:
    events = echo_stream()
    events[1] = {**events[1], "content_tokens": "x"}
    assert issues_of(StreamEvent, events) == [
        Issue((1, "content_tokens"), "type", "expected a list[int], got 'x'"),
        Issue(
            (4, "content"),
            "sequence",
            "expected the deltas' text joined (3 characters), got 5 characters, "
            "differing from character 1",
        ),
        Issue(
            (4, "output_tokens"),
            "sequence",
            "expected the deltas' tokens joined (2 tokens), got 3 tokens, differing from token 1",
        ),
    ]


def test_the_callers_events_are_not_changed() -> None:
    events = echo_stream()
    events[-1] = {**events[-1], "content": "x"}
    before = copy.deepcopy(events)
    issues_of(StreamEvent, events)
    assert events == before


# ---------------------------------------------------------------------------------------------
# The incremental checker


def test_the_checker_returns_each_event_and_raises_at_the_first_certain_issue() -> None:
    events = echo_stream()
    stream = stream_checker(StreamEvent)
    assert [stream.feed(event) for event in events[:3]] == events[:3]
    with pytest.raises(ValidationError) as caught:
        stream.feed({**events[3], "engine_id": "e-2"})
    assert caught.value.issues == [
        Issue((3, "engine_id"), "sequence", "expected 'e-1' as in [0], got 'e-2'")
    ]
    assert stream.count == 4


def test_the_checker_reports_an_invalid_event_with_its_index() -> None:
    stream = stream_checker(StreamEvent)
    with pytest.raises(ValidationError) as caught:
        stream.feed({"event": "delta"})
    assert caught.value.issues[0] == Issue((0, "request_id"), "missing", "required key is missing")


def test_close_raises_for_a_stream_without_its_end() -> None:
    stream = stream_checker(StreamEvent)
    for event in echo_stream()[:-1]:
        stream.feed(event)
    with pytest.raises(ValidationError) as caught:
        stream.close()
    assert str(caught.value) == "[4]: expected an 'end' event after [3], got the stream's end"


def test_close_of_a_whole_stream_is_quiet() -> None:
    stream = stream_checker(StreamEvent)
    for event in echo_stream():
        stream.feed(event)
    stream.close()


def test_the_checker_keeps_no_events_only_what_the_end_carries() -> None:
    stream = stream_checker(StreamEvent)
    start, delta, *_ = echo_stream()
    stream.feed(start)
    for _ in range(1000):
        stream.feed(dict(delta))
    state: Any = stream._state  # the only state: its sizes are those of the end's text and tokens
    assert sorted(state.__slots__) == ["end_at", "identity", "pieces", "started_at", "tokens"]
    assert len(state.tokens) == 1000
    assert sum(map(len, state.pieces)) == 2000
    assert sys.getsizeof(state.pieces) < 2 * sys.getsizeof([None] * 1000)


def test_types_without_stream_rules_are_refused() -> None:
    with pytest.raises(TypeError) as caught:
        stream_checker(StreamEventDelta)
    assert str(caught.value) == (
        f"no stream rules for {StreamEventDelta!r}; streams of: "
        "ChatCompletionStreamResponse, CompletionResponse, ResponsesStreamEvent, StreamEvent"
    )


def test_rules_are_registered_beside_their_types_with_names_and_descriptions() -> None:
    names = {form: [rule.name for rule in STREAM_RULES[form].rules] for form in STREAM_RULES}
    assert names == {
        StreamEvent: [
            "one_start_first",
            "one_end_last",
            "same_identity",
            "end_content_joins_deltas",
            "end_tokens_join_deltas",
        ],
        ChatCompletionStreamResponse: [
            "same_identity",
            "one_finish_per_choice",
            "usage_chunk_last",
            "dense_choice_indexes",
            "role_first",
            "tool_call_fragments",
        ],
        CompletionResponse: [
            "same_identity",
            "one_finish_per_choice",
            "usage_chunk_last",
            "dense_choice_indexes",
        ],
        ResponsesStreamEvent: [
            "sequence_numbers_increase",
            "created_first",
            "one_terminal_last",
            "same_response",
            "item_events_inside_item",
            "items_done_before_end",
            "deltas_join_to_done",
        ],
    }
    assert STREAM_RULES[StreamEvent].rules[2].description == (
        "request_id, trace_id and engine_id are the same in every event."
    )


# ---------------------------------------------------------------------------------------------
# OpenAI chat chunks


@pytest.mark.parametrize("path", sorted(STREAMS.glob("*.sse")), ids=lambda path: path.name[:8])
def test_the_recorded_openai_streams_pass_unchanged(path: Path) -> None:
    chunks = chunks_of(path)
    before = copy.deepcopy(chunks)
    assert validate_stream(ChatCompletionStreamResponse, chunks) == before
    assert chunks == before


@pytest.mark.parametrize("key", ["id", "model", "created"])
def test_a_chunk_identity_that_changes(key: str) -> None:
    chunks = chat_stream()
    first = chunks[0][key]
    chunks[3] = {**chunks[3], key: "x" if key != "created" else 1}
    got = "'x'" if key != "created" else "1"
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue((3, key), "sequence", f"expected {first!r} as in [0], got {got}")
    ]


def test_a_first_delta_without_the_role() -> None:
    chunks = chat_stream()
    chunks[0]["choices"][0]["delta"].pop("role")
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue(
            (0, "choices", 0, "delta", "role"),
            "sequence",
            "expected 'assistant' on choice 0's first delta, got None",
        )
    ]


def test_a_second_finish_reason() -> None:
    chunks = chat_stream()
    finish = next(
        i for i, c in enumerate(chunks) if c["choices"] and c["choices"][0]["finish_reason"]
    )
    chunks.insert(finish + 1, chunks[finish])
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue(
            (finish + 1, "choices", 0),
            "sequence",
            f"expected nothing for choice 0 after its finish at [{finish}]",
        )
    ]


def test_a_choice_without_its_finish_reason() -> None:
    chunks = [c for c in chat_stream() if not (c["choices"] and c["choices"][0]["finish_reason"])]
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue(
            (len(chunks),),
            "sequence",
            "expected a finish_reason for choice 0, got the stream's end",
        )
    ]


def test_a_chunk_after_the_usage_only_chunk() -> None:
    chunks = chat_stream()
    chunks.append(chunks[-1])
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue(
            (len(chunks) - 1,),
            "sequence",
            f"expected the usage-only chunk at [{len(chunks) - 2}] last, got a chunk",
        )
    ]


def test_choice_indexes_with_a_gap() -> None:
    chunks = chat_stream()
    for chunk in chunks:
        for choice in chunk["choices"]:
            choice["index"] = 1
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue((len(chunks),), "sequence", "expected choice indexes 0 to 0, got [1]")
    ]


def test_a_tool_call_whose_first_fragment_has_no_name() -> None:
    chunks = chat_stream()
    first = chunks[1]["choices"][0]["delta"]["tool_calls"][0]
    assert first["id"] is not None
    first["function"].pop("name")
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue(
            (1, "choices", 0, "delta", "tool_calls", 0),
            "sequence",
            "expected id, type and function.name on tool call 0's first fragment, got no name",
        )
    ]


def test_a_later_tool_call_fragment_that_repeats_its_id() -> None:
    chunks = chat_stream()
    chunks[2]["choices"][0]["delta"]["tool_calls"][0]["id"] = "call_again"
    assert issues_of(ChatCompletionStreamResponse, chunks) == [
        Issue(
            (2, "choices", 0, "delta", "tool_calls", 0),
            "sequence",
            "expected only index and function.arguments on a later fragment of tool call 0, got id",
        )
    ]


# ---------------------------------------------------------------------------------------------
# Legacy text completion chunks


def completion_stream() -> list[Any]:
    base = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m"}
    return [
        {**base, "choices": [{"index": 0, "text": "a", "finish_reason": None}]},
        {**base, "choices": [{"index": 1, "text": "b", "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "text": "", "finish_reason": "stop"}]},
        {**base, "choices": [{"index": 1, "text": "", "finish_reason": "length"}]},
    ]


def test_a_valid_completion_stream_passes() -> None:
    chunks = completion_stream()
    assert validate_stream(CompletionResponse, chunks) == chunks


def test_a_completion_choice_after_its_finish() -> None:
    chunks = completion_stream()
    chunks.append(chunks[0])
    assert issues_of(CompletionResponse, chunks) == [
        Issue(
            (4, "choices", 0), "sequence", "expected nothing for choice 0 after its finish at [2]"
        )
    ]


def test_a_completion_stream_with_an_id_that_changes() -> None:
    chunks = completion_stream()
    chunks[1] = {**chunks[1], "id": "cmpl-2"}
    assert issues_of(CompletionResponse, chunks) == [
        Issue((1, "id"), "sequence", "expected 'cmpl-1' as in [0], got 'cmpl-2'")
    ]


def test_the_json_schema_lists_the_stream_rules() -> None:
    rules = json_schema(StreamEvent)["x-stream-rules"]
    assert list(rules) == [rule.name for rule in STREAM_RULES[StreamEvent].rules]
    assert rules["end_tokens_join_deltas"] == (
        "The end's output_tokens are the deltas' content_tokens concatenated."
    )
    assert "x-stream-rules" not in json_schema(StreamEventDelta)
