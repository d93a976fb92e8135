"""responses: OpenAI's Responses API types and the stream rules of its events.

Payloads are ``tests/data/openai-responses`` (each file's source in ``SOURCES.txt``): OpenAI's
published examples and a response recorded from the live API. Each one's verdict is compared
with the official SDK's own models.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseStreamEvent as SDKStreamEvent
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from sagellm_protocol import (
    ChatCompletionAudioParam,
    ResponsesRequest,
    ResponsesResponse,
    ResponsesStreamEvent,
    ValidationError,
    collect_issues,
    stream_checker,
    validate,
    validate_stream,
)

DATA = Path(__file__).parent.parent / "data" / "openai-responses"
SDK_EVENT: Any = TypeAdapter(SDKStreamEvent)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _messages(tp: Any, value: Any) -> list[str]:
    return [
        f"{'.'.join(map(str, issue.path))}: {issue.message}" for issue in collect_issues(tp, value)
    ]


def _sdk_accepts(parse: Any, value: Any) -> bool:
    try:
        parse(value)
    except PydanticError:
        return False
    return True


# --- Captured payloads ------------------------------------------------------------------------

HOSTED_TOOLS = {
    "openapi__request__file_search.json",
    "openapi__request__web_search.json",
    "openapi__response__file_search.json",
    "openapi__response__web_search.json",
}
"""Payloads with OpenAI's hosted tools, which the types do not declare."""


@pytest.mark.parametrize("path", sorted(DATA.glob("*__request__*.json")), ids=lambda p: p.name)
def test_published_requests_validate_unless_hosted_tools(path: Path) -> None:
    issues = _messages(ResponsesRequest, _load(path))
    if path.name in HOSTED_TOOLS:
        assert issues[0].startswith("tools.0.type: expected 'function', got ")
    else:
        assert issues == []


@pytest.mark.parametrize("path", sorted(DATA.glob("*__response__*.json")), ids=lambda p: p.name)
def test_published_responses_agree_with_the_sdk(path: Path) -> None:
    value = _load(path)
    issues = _messages(ResponsesResponse, value)
    sdk_accepts = _sdk_accepts(SDKResponse.model_validate, value)
    if path.name in HOSTED_TOOLS:  # the SDK's verdict differs by example (one is stale)
        assert issues[0].startswith(
            "output.0.type: expected one of 'message', 'function_call', 'reasoning', got "
        )
    else:
        assert (not issues) == sdk_accepts, issues


def test_a_published_response_without_usage_details_is_rejected_like_the_sdk_does() -> None:
    value = _load(DATA / "openapi__response__functions.json")
    assert _messages(ResponsesResponse, value) == [
        "usage.input_tokens_details: required key is missing"
    ]


DECLARED_EVENTS = {
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseErrorEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseInProgressEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseReasoningTextDeltaEvent",
    "ResponseReasoningTextDoneEvent",
    "ResponseRefusalDeltaEvent",
    "ResponseRefusalDoneEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseCompletedEvent",
    "ResponseFailedEvent",
    "ResponseIncompleteEvent",
}
"""The SDK event types the union declares; the others are hosted tools', audio's, summaries'."""


@pytest.mark.parametrize("path", sorted(DATA.glob("*__event__*.json")), ids=lambda p: p.name)
def test_published_events_agree_with_the_sdk_on_declared_types(path: Path) -> None:
    value = _load(path)
    issues = _messages(ResponsesStreamEvent, value)
    if path.stem.split("__")[-1] in DECLARED_EVENTS:
        assert (not issues) == _sdk_accepts(SDK_EVENT.validate_python, value), issues
    else:
        assert len(issues) == 1
        assert issues[0].startswith("type: expected one of 'response.created', ")
        assert f", got {value['type']!r}" in issues[0]


def test_published_text_events_without_logprobs_are_rejected_like_the_sdk_does() -> None:
    value = _load(DATA / "openapi__event__ResponseTextDeltaEvent.json")
    assert _messages(ResponsesStreamEvent, value) == ["logprobs: required key is missing"]


def _modernised(event: Any, index: int) -> Any:
    """The keys the current SDK requires that the published stream predates, added."""
    event = {**event, "sequence_number": index}
    if event["type"].startswith("response.output_text."):
        event["logprobs"] = []
    usage = event.get("response", {}).get("usage")
    if usage is not None:
        details = {"input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}
        details["output_tokens_details"] = {"reasoning_tokens": 0}
        event["response"] = {**event["response"], "usage": {**usage, **details}}
    return event


def test_the_published_stream_breaks_only_the_rule_its_elided_deltas_break() -> None:
    lines = (DATA / "openapi__stream__streaming.sse").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
    assert _stream_issues(events)[0] == "[0]sequence_number: required key is missing"
    modern = [_modernised(event, index) for index, event in enumerate(events)]
    for event in modern:
        SDK_EVENT.validate_python(event)
    # The example shows one delta ("Hi") and "..." for the others.
    assert _stream_issues(modern) == [
        "[5]text: expected the deltas joined (2 characters), got 37 characters"
    ]


def test_the_live_response_validates_and_the_sdk_reads_the_same_text() -> None:
    value = _load(DATA / "oaipy__response__output_text.json")
    validate(ResponsesResponse, value)
    text = value["output"][0]["content"][0]["text"]
    assert SDKResponse.model_validate(value).output_text == text


# --- Invariants -------------------------------------------------------------------------------


def test_generated_parts_only_in_assistant_messages() -> None:
    body: Any = {
        "model": "m",
        "input": [{"role": "user", "content": [{"type": "output_text", "text": "hi"}]}],
    }
    assert _messages(ResponsesRequest, body) == [
        "input.0.content.0.type: expected 'output_text' parts only in 'assistant' messages, "
        "got a 'user' message"
    ]
    body["input"][0]["role"] = "assistant"
    assert _messages(ResponsesRequest, body) == []


def _response(**fields: Any) -> Any:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "m",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "completed"}, []),
        ({"status": "failed"}, ["error: expected an error when status is 'failed', got none"]),
        (
            {"status": "completed", "error": {"code": "server_error", "message": "x"}},
            ["error: expected error only when status is 'failed', got status 'completed'"],
        ),
        (
            {"status": "completed", "incomplete_details": {"reason": "max_output_tokens"}},
            [
                "incomplete_details: expected incomplete_details only when status is "
                "'incomplete', got status 'completed'"
            ],
        ),
        ({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}, []),
    ],
)
def test_status_is_explained(fields: Any, expected: list[str]) -> None:
    assert _messages(ResponsesResponse, _response(**fields)) == expected


def test_lifecycle_events_carry_their_status() -> None:
    event = {"type": "response.completed", "sequence_number": 3, "response": _response()}
    assert _messages(ResponsesStreamEvent, event) == [
        "response.status: expected 'completed' in a 'response.completed' event, got None"
    ]


# --- Stream rules -----------------------------------------------------------------------------


def _item(status: str = "in_progress", text: str | None = None) -> Any:
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": []}]
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def _stream(text: str = "Hello") -> list[Any]:
    place = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": text, "annotations": []}
    events: list[Any] = [
        {"type": "response.created", "response": _response(status="in_progress")},
        {"type": "response.in_progress", "response": _response(status="in_progress")},
        {"type": "response.output_item.added", "output_index": 0, "item": _item()},
        {"type": "response.content_part.added", **place, "part": {**part, "text": ""}},
        {"type": "response.output_text.delta", **place, "delta": "Hel", "logprobs": []},
        {"type": "response.output_text.delta", **place, "delta": "lo", "logprobs": []},
        {"type": "response.output_text.done", **place, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **place, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": _item("completed", text)},
        {"type": "response.completed", "response": _response(status="completed")},
    ]
    return [{**event, "sequence_number": index} for index, event in enumerate(events)]


def _stream_issues(events: list[Any]) -> list[str]:
    try:
        validate_stream(ResponsesStreamEvent, events)
    except ValidationError as error:
        return [f"[{i.path[0]}]{'.'.join(map(str, i.path[1:]))}: {i.message}" for i in error.issues]
    return []


def test_a_whole_stream_keeps_the_rules_and_the_sdk_parses_every_event() -> None:
    events = _stream()
    assert _stream_issues(events) == []
    parsed = [SDK_EVENT.validate_python(event) for event in events]
    assert [event.type for event in parsed] == [event["type"] for event in events]


def _with(events: list[Any], index: int, **fields: Any) -> list[Any]:
    return [*events[:index], {**events[index], **fields}, *events[index + 1 :]]


STREAM = _stream()


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (
            _with(STREAM, 5, sequence_number=4),
            ["[5]sequence_number: expected a sequence_number above 4, got 4"],
        ),
        (STREAM[1:], ["[0]type: expected 'response.created' first, got 'response.in_progress'"]),
        (
            [*STREAM[:1], *STREAM],
            [
                "[1]sequence_number: expected a sequence_number above 0, got 0",
                "[1]type: expected one 'response.created', got another",
            ],
        ),
        (STREAM[:-1], ["[9]: expected a terminal event after [8], got the stream's end"]),
        (
            [*STREAM, {**STREAM[-1], "sequence_number": 10}],
            ["[10]: expected nothing after the terminal event at [9], got 'response.completed'"],
        ),
        (
            _with(STREAM, 6, text="Help"),
            ["[6]text: expected the deltas joined (5 characters), got 4 characters"],
        ),
        (
            _with(STREAM, 1, response=_response(id="resp_2", status="in_progress")),
            ["[1]response.id: expected the stream's response id 'resp_1', got 'resp_2'"],
        ),
        (
            [*STREAM[:2], *STREAM[3:]],
            [
                "[2]output_index: expected output item 0 added before "
                "'response.content_part.added'",
                "[3]output_index: expected output item 0 added before 'response.output_text.delta'",
                "[4]output_index: expected output item 0 added before 'response.output_text.delta'",
                "[5]output_index: expected output item 0 added before 'response.output_text.done'",
                "[6]output_index: expected output item 0 added before 'response.content_part.done'",
                "[7]output_index: expected output item 0 added before 'response.output_item.done'",
            ],
        ),
        (
            [*STREAM[:8], *STREAM[9:]],
            ["[8]type: expected output items [0] done before 'response.completed', got none"],
        ),
        (
            [*STREAM[:7], {**STREAM[4], "sequence_number": 7}, *STREAM[8:]],
            ["[7]: expected no 'response.output_text.delta' after its text's done event, got one"],
        ),
        ([], ["[0]: expected a 'response.created' event, got an empty stream"]),
    ],
)
def test_each_stream_rule_names_the_event(events: list[Any], expected: list[str]) -> None:
    assert _stream_issues(events) == expected


def test_a_failed_stream_may_leave_its_item_open() -> None:
    failed = _response(status="failed", error={"code": "server_error", "message": "boom"})
    events = [*STREAM[:5], {"type": "response.failed", "sequence_number": 5, "response": failed}]
    assert _stream_issues(events) == []


def test_the_checker_raises_at_the_first_broken_rule() -> None:
    checker = stream_checker(ResponsesStreamEvent)
    for event in STREAM[:6]:
        checker.feed(event)
    with pytest.raises(ValidationError, match="expected the deltas joined"):
        checker.feed({**STREAM[6], "text": "Hi"})


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {"role": "user", "content": [{"type": "input_txt", "text": "x"}]},
            "input.0.content.0.type: expected one of 'input_text', 'input_image', 'input_file', "
            "'output_text', 'refusal', got 'input_txt' (did you mean 'input_text'?)",
        ),
        ({"role": "user"}, "input.0.content: required key is missing"),
        (
            {"type": "function_call", "call_id": "c", "name": "f"},
            "input.0.arguments: required key is missing",
        ),
        (
            {"type": "function_call_output", "output": "18 C"},
            "input.0.call_id: required key is missing",
        ),
    ],
)
def test_an_input_item_is_checked_as_the_kind_it_plausibly_is(item: Any, expected: str) -> None:
    # Input items have no tag key every kind carries (a message may leave out its type), so
    # the issue comes from the kind whose literals and required keys the item has.
    assert _messages(ResponsesRequest, {"model": "m", "input": [item]}) == [expected]


def test_a_union_with_a_plain_dict_option_is_not_narrowed() -> None:
    # voice is str | FunctionCallOption | dict[str, Any]: {} is a valid dict, though no
    # FunctionCallOption.
    assert _messages(ChatCompletionAudioParam, {"format": "wav", "voice": {}}) == []
    assert _messages(ChatCompletionAudioParam, {"format": "wav", "voice": 1}) == [
        "voice: expected a str or a FunctionCallOption object or a dict[str, Any], got 1"
    ]
