"""Properties of the gateway conversions over values generated from the types.

Every output validates against its type (and parses in the official SDK where it has a model);
a conversion that cannot carry its input raises ConversionError with a valid protocol Error
naming a field of the input; round trips keep what both sides carry.
"""

from typing import Any

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
from sagellm_protocol.core import StreamEventDelta, StreamEventEnd, StreamEventStart
from sagellm_protocol.openai import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    CompletionRequest,
    CompletionResponse,
    OpenAIErrorResponse,
)
from sagellm_protocol.testing.strategies import from_type

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
