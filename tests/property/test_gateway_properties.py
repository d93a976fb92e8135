"""Properties of the gateway conversions over values generated from the types.

Every output validates against its type (and parses in the official SDK where it has a model);
a conversion that cannot carry its input raises ConversionError with a valid protocol Error
naming a field of the input; round trips keep what both sides carry.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion import Completion
from typeguard import suppress_type_checks

from sagellm_protocol import (
    ConversionError,
    Error,
    Request,
    Response,
    chat_request_to_request,
    completion_request_to_request,
    encode_sse,
    error_to_openai,
    openai_to_error,
    response_to_chat_completion,
    response_to_completion,
    stream_to_chat_chunks,
    stream_to_completion_chunks,
    validate,
)
from sagellm_protocol.core import StreamEvent, StreamEventDelta, StreamEventEnd, StreamEventStart
from sagellm_protocol.gateway import (
    astream_to_chat_chunks,
    astream_to_completion_chunks,
    unknown_keys,
)
from sagellm_protocol.openai import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    CompletionRequest,
    CompletionResponse,
    OpenAIErrorResponse,
)
from sagellm_protocol.testing.strategies import from_type
from sagellm_protocol.validation import ValidationError, validate_stream

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
IDS = {"request_id": "req", "trace_id": "trace"}


def _attempt(convert: Any, body: Any) -> tuple[Any, Error | None]:
    try:
        with suppress_type_checks():  # typeguard treats the open TypedDicts as closed
            return convert(body, **IDS), None
    except ConversionError as error:
        return None, error.error


def _check_rejection(error: Error, body: Any) -> None:
    assert validate(Error, error) is error
    assert error["code"] in ("invalid_argument", "not_implemented")
    assert error["message"].split(":")[0] in body


@SETTINGS
@given(from_type(ChatCompletionRequest))
def test_chat_requests_become_valid_requests_or_named_rejections(body: Any) -> None:
    request, error = _attempt(chat_request_to_request, body)
    if error is not None:
        _check_rejection(error, body)
        return
    assert request is not None
    assert validate(Request, request) is request
    assert request["messages"] == body["messages"]
    assert request["model"] == body["model"]


@SETTINGS
@given(from_type(CompletionRequest))
def test_completion_requests_become_valid_requests_or_named_rejections(body: Any) -> None:
    request, error = _attempt(completion_request_to_request, body)
    if error is not None:
        _check_rejection(error, body)
        return
    assert validate(Request, request) is request


@SETTINGS
@given(from_type(Response), st.integers(0, 2**31))
def test_responses_become_valid_answers_the_sdk_parses(response: Any, created: int) -> None:
    if response.get("error") is not None:
        _, error = _attempt(lambda r, **_: response_to_chat_completion(r, model="m"), response)
        assert error == response["error"]
        return
    chat = response_to_chat_completion(response, model="m", created=created)
    assert validate(ChatCompletionResponse, chat) is chat
    parsed = ChatCompletion.model_validate(chat)
    assert parsed.choices[0].message.content == response["output_text"]
    if response.get("prompt_tokens") is not None:
        assert parsed.usage is not None
        assert parsed.usage.completion_tokens == len(response["output_tokens"])
    completion = response_to_completion(response, model="m", created=created)
    assert validate(CompletionResponse, completion) is completion
    assert Completion.model_validate(completion).choices[0].text == response["output_text"]


@st.composite
def _streams(draw: st.DrawFn) -> list[Any]:
    start = draw(from_type(StreamEventStart))
    same = {key: start[key] for key in ("request_id", "trace_id", "engine_id")}
    deltas = [
        {**delta, **same} for delta in draw(st.lists(from_type(StreamEventDelta), max_size=4))
    ]
    end = {**draw(from_type(StreamEventEnd)), **same}
    end["content"] = "".join(delta["content"] for delta in deltas)
    end["output_tokens"] = [token for delta in deltas for token in delta["content_tokens"]]
    return [start, *deltas, end]


@SETTINGS
@given(_streams(), st.booleans())
def test_streams_become_valid_chunks(events: list[Any], include_usage: bool) -> None:
    failed = events[-1].get("error") is not None
    chunks: list[Any] = []
    converted = stream_to_chat_chunks(events, model="m", include_usage=include_usage)
    error: Error | None = None
    try:
        chunks.extend(converted)
    except ConversionError as exc:
        error = exc.error
    assert error == (events[-1]["error"] if failed else None)
    for chunk in chunks:
        assert validate(ChatCompletionStreamResponse, chunk) is chunk
        ChatCompletionChunk.model_validate(chunk)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "".join(event["content"] for event in events[1:-1])
    if not failed:
        lines = list(encode_sse(chunks))
        assert len(lines) == len(chunks) + 1
        for chunk in stream_to_completion_chunks(events, model="m"):
            assert validate(CompletionResponse, chunk) is chunk


@SETTINGS
@given(from_type(Error))
def test_errors_round_trip_through_openai_bodies(error: Any) -> None:
    status, body = error_to_openai(error)
    assert validate(OpenAIErrorResponse, body) is body
    assert 400 <= status < 600
    back = openai_to_error(status, body)
    assert validate(Error, back) is back
    assert back["code"] == str(error["code"])
    assert back["message"] == error["message"]


_IDENTITY = ("request_id", "trace_id", "engine_id")


@st.composite
def _maybe_broken_streams(draw: st.DrawFn) -> list[Any]:
    """Valid streams (without a failed end), then some edits that may break the stream rules:
    an event dropped, repeated or moved, an identity changed, the end's text changed."""
    events = [dict(event) for event in draw(_streams())]
    events[-1].update(finish_reason="stop", error=None)
    for _ in range(draw(st.integers(0, 3))):
        if not events:
            break
        at = draw(st.integers(0, len(events) - 1))
        edit = draw(st.sampled_from(["drop", "repeat", "move", "identity", "text"]))
        if edit == "drop":
            del events[at]
        elif edit == "repeat":
            events.insert(at, events[at])
        elif edit == "move":
            events.insert(draw(st.integers(0, len(events) - 1)), events.pop(at))
        elif edit == "identity":
            events[at] = {**events[at], draw(st.sampled_from(_IDENTITY)): "other"}
        elif events[at]["event"] != "start":
            events[at] = {**events[at], "content": events[at]["content"] + "x"}
    return events


def _outcome(convert: Callable[..., Iterable[Any]], events: list[Any]) -> list[Any] | None:
    """The converter's issues, or ``None`` when it converted the whole stream."""
    try:
        with suppress_type_checks():
            list(convert(events, model="m"))
    except ValidationError as error:
        return error.issues
    return None


@SETTINGS
@given(_maybe_broken_streams())
def test_converters_and_validate_stream_agree(events: list[Any]) -> None:
    try:
        validate_stream(StreamEvent, events)
        expected = None
    except ValidationError as error:
        # A converter stops at the first event the rules reject: that event's issues.
        first = error.issues[0].path[0]
        expected = [issue for issue in error.issues if issue.path[0] == first]
    assert _outcome(stream_to_chat_chunks, events) == expected
    assert _outcome(stream_to_completion_chunks, events) == expected


async def _arrive(events: list[Any]) -> AsyncIterator[Any]:
    for event in events:
        await asyncio.sleep(0)
        yield event


async def _drain(chunks: AsyncIterator[Any]) -> list[Any]:
    return [chunk async for chunk in chunks]


@SETTINGS
@given(_streams(), st.booleans())
def test_async_converters_give_the_sync_chunks(events: list[Any], include_usage: bool) -> None:
    events[-1] = {**events[-1], "finish_reason": "stop", "error": None}
    pairs = [
        (stream_to_chat_chunks, astream_to_chat_chunks),
        (stream_to_completion_chunks, astream_to_completion_chunks),
    ]
    for sync, asynchronous in pairs:
        options: Any = {"model": "m", "include_usage": include_usage, "created": 1}
        expected = list(sync(events, **options))
        assert asyncio.run(_drain(asynchronous(_arrive(events), **options))) == expected


_DECLARED_CHAT_KEYS = frozenset(
    ChatCompletionRequest.__required_keys__ | ChatCompletionRequest.__optional_keys__
)


@SETTINGS
@given(
    from_type(ChatCompletionRequest),
    st.text(min_size=1, max_size=12).filter(lambda key: key not in _DECLARED_CHAT_KEYS),
)
def test_unknown_keys_name_exactly_the_undeclared_ones(body: Any, extra: str) -> None:
    assert unknown_keys(ChatCompletionRequest, body) == []  # generated from declared keys only
    issues = unknown_keys(ChatCompletionRequest, {**body, extra: 1})
    assert [(issue.path, issue.code) for issue in issues] == [((extra,), "extra")]
    with suppress_type_checks(), pytest.raises(ValidationError) as caught:
        chat_request_to_request({**body, extra: 1}, **IDS, reject_unknown_keys=True)
    assert caught.value.issues == issues
