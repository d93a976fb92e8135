"""responses_gateway: Responses API bodies to Protocol v0.1 and back, read by the official SDK.

Request bodies are the ones the official SDK sends (captured through a mock transport) and
OpenAI's published examples (``tests/data/openai-responses``); answers are made by the
package's ``EchoEngine`` and parsed by the SDK's own models.
"""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai as sdk
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseStreamEvent as SDKStreamEvent
from pydantic import TypeAdapter
from typeguard import suppress_type_checks

from sagellm_protocol import (
    ConversionError,
    Request,
    ResponsesStreamEvent,
    ValidationError,
    aencode_responses_sse,
    astream_to_responses_events,
    encode_responses_sse,
    response_to_responses,
    responses_request_to_request,
    stream_to_responses_events,
    validate,
    validate_stream,
)
from sagellm_protocol.testing.engine import EchoEngine

DATA = Path(__file__).parent.parent / "data" / "openai-responses"
IDS: Any = {"request_id": "req-1", "trace_id": "trace-1"}
# typeguard (the suite's runtime checker) treats every TypedDict as closed, so bodies with
# vendor keys, hosted tools or extra item keys are converted with its checks suppressed.
SDK_EVENT: Any = TypeAdapter(SDKStreamEvent)
METRICS = {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 0, "error_rate": 0.0}


def _rejected(body: Any) -> str:
    with pytest.raises(ConversionError) as caught:
        responses_request_to_request(body, **IDS)
    assert caught.value.error["retryable"] is False
    return f"{caught.value.error['code']}: {caught.value.error['message']}"


# --- Requests ---------------------------------------------------------------------------------


def test_request_maps_every_field() -> None:
    body: Any = {
        "model": "m",
        "instructions": "Be brief.",
        "input": "Hello",
        "max_output_tokens": 64,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "repetition_penalty": 1.1,
        "seed": 7,
        "stop": ["\n"],
        "skip_special_tokens": False,
        "stream": True,
        "trace_id": "body-trace",
        "store": False,
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "tool_choice": "auto",
        "text": {"format": {"type": "json_object"}},
        "reasoning": {"effort": "low"},
        "metadata": {"k": "v"},
        "user": "u-1",
        "include": ["file_search_call.results"],
        "vendor_key": [1],
    }
    with suppress_type_checks():
        request = responses_request_to_request(body, **IDS)
    assert request == {
        "request_id": "req-1",
        "trace_id": "body-trace",
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
        ],
        "max_tokens": 64,
        "stream": True,
        "sampling_params": {
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 40,
            "repetition_penalty": 1.1,
            "seed": 7,
            "stop_sequences": ["\n"],
            "skip_special_tokens": False,
        },
        "metadata": {
            "openai": {
                key: body[key]
                for key in (
                    "store",
                    "tools",
                    "tool_choice",
                    "text",
                    "reasoning",
                    "metadata",
                    "user",
                    "include",
                    "vendor_key",
                )
            }
        },
    }
    validate(Request, request)
    request["metadata"]["openai"]["vendor_key"].append(2)  # type: ignore[index]
    assert body["vendor_key"] == [1]  # carried values are copies


def test_request_minimal_and_defaults() -> None:
    request = responses_request_to_request({"model": "m", "input": "hi"}, **IDS)
    assert request == {
        "request_id": "req-1",
        "trace_id": "trace-1",
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 16,
        "stream": False,
    }
    defaulted = responses_request_to_request({"model": "m"}, **IDS, default_max_tokens=256)
    assert defaulted["messages"] == []
    assert defaulted["max_tokens"] == 256


def test_input_items_become_chat_messages() -> None:
    body: Any = {
        "model": "m",
        "input": [
            {"role": "developer", "content": "Use tools."},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": "https://x/a.png", "detail": "low"},
                    {"type": "input_file", "file_id": "file-1", "filename": "a.pdf"},
                ],
            },
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "S"}]},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "phase": "commentary",
                "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}],
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "id": "fc1"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "two"}],
            },
            {
                "type": "reasoning",
                "id": "rs_2",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "Think"}],
            },
            {"type": "function_call", "call_id": "c3", "name": "h", "arguments": "[]"},
            {"type": "reasoning", "id": "rs_3", "summary": [{"type": "summary_text", "text": "T"}]},
        ],
    }
    with suppress_type_checks():
        request = responses_request_to_request(body, **IDS)
    assert request["messages"] == [
        {"role": "developer", "content": "Use tools."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}},
                {"type": "file", "file": {"file_id": "file-1", "filename": "a.pdf"}},
            ],
        },
        {
            "role": "assistant",
            "phase": "commentary",
            "content": [{"type": "text", "text": "Let me look."}],
            "reasoning": "S",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "two"}]},
        {
            "role": "assistant",
            "reasoning": "Think",
            "tool_calls": [
                {"id": "c3", "type": "function", "function": {"name": "h", "arguments": "[]"}}
            ],
        },
        {"role": "assistant", "reasoning": "T"},
    ]
    validate(Request, request)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"previous_response_id": "resp_1"},
            "not_implemented: previous_response_id: expected null (this gateway keeps no "
            "responses or conversations), got 'resp_1'",
        ),
        (
            {"conversation": "conv_1"},
            "not_implemented: conversation: expected null (this gateway keeps no responses or "
            "conversations), got 'conv_1'",
        ),
        (
            {"store": True},
            "not_implemented: store: expected false or null (this gateway keeps no responses or "
            "conversations), got True",
        ),
        (
            {"prompt": {"id": "pmpt_1"}},
            "not_implemented: prompt: expected null (this gateway keeps no prompt templates), "
            "got {'id': 'pmpt_1'}",
        ),
        (
            {"background": True},
            "not_implemented: background: expected false or null (responses are generated while "
            "the client waits), got True",
        ),
        (
            {"top_logprobs": 2},
            "not_implemented: top_logprobs: expected 0 or null (Protocol v0.1 responses carry no "
            "log probabilities), got 2",
        ),
        (
            {"include": ["file_search_call.results", "message.output_text.logprobs"]},
            "not_implemented: include[1]: expected no 'message.output_text.logprobs' (Protocol "
            "v0.1 responses carry no log probabilities)",
        ),
        (
            {"max_output_tokens": 0},
            "invalid_argument: max_output_tokens: expected an int > 0, got 0",
        ),
        (
            {"top_p": 0},
            "invalid_argument: top_p: expected a number in (0, 1] (the engine samples from a "
            "non-empty nucleus), got 0",
        ),
        (
            {"input": [{"id": "msg_1"}]},
            "not_implemented: input[0]: expected a message or call, not a reference (this "
            "gateway keeps no responses or conversations)",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "not_implemented: input[0].content[0].image_url: expected an image URL (the engine "
            "cannot read uploaded files by id), got none",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_url": "u"}]}]},
            "not_implemented: input[0].content[0].file_url: expected file_data or file_id (the "
            "engine does not fetch files), got a URL",
        ),
        (
            {
                "input": [
                    {"type": "reasoning", "id": "r", "summary": [], "encrypted_content": "gAAA"}
                ]
            },
            "not_implemented: input[0].encrypted_content: expected null (the engine cannot read "
            "another server's encrypted reasoning)",
        ),
    ],
)
def test_request_rejections_name_the_field(fields: Any, expected: str) -> None:
    assert _rejected({"model": "m", "input": "hi", **fields}) == expected


def test_invalid_request_raises_validation_error() -> None:
    with (
        pytest.raises(ValidationError, match=r"tools\[0\]\.type: expected 'function'"),
        suppress_type_checks(),
    ):
        responses_request_to_request(
            {"model": "m", "input": "hi", "tools": [{"type": "web_search"}]},  # type: ignore[typeddict-item]
            **IDS,
        )


OUTCOMES = {
    "openapi__request__file_input.json": (
        "not_implemented: input[0].content[1].file_url: expected file_data or file_id (the "
        "engine does not fetch files), got a URL"
    ),
    "openapi__request__file_search.json": "ValidationError",
    "openapi__request__web_search.json": "ValidationError",
}
"""Published requests the conversion does not take, and why; the others convert."""


@pytest.mark.parametrize("path", sorted(DATA.glob("*__request__*.json")), ids=lambda p: p.name)
def test_published_requests_convert_or_are_rejected_by_name(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    try:
        outcome = "converted"
        with suppress_type_checks():
            validate(Request, responses_request_to_request(body, **IDS))
    except ConversionError as error:
        outcome = f"{error.error['code']}: {error.error['message']}"
    except ValidationError:
        outcome = "ValidationError"
    assert outcome == OUTCOMES.get(path.name, "converted")


# --- Responses --------------------------------------------------------------------------------


def _response(**fields: Any) -> Any:
    return {
        **IDS,
        "output_text": "Hello!",
        "output_tokens": [1, 2],
        "prompt_tokens": 5,
        "finish_reason": "stop",
        "metrics": METRICS,
        **fields,
    }


BODY: Any = {"model": "m", "input": "hi", "instructions": "Be brief.", "temperature": 0.5}


def test_response_to_responses_parses_in_the_sdk() -> None:
    answer = response_to_responses(_response(), request=BODY, created_at=1700000000)
    completed_at = answer.pop("completed_at")
    assert isinstance(completed_at, int)
    assert answer == {
        "id": "resp_req-1",
        "object": "response",
        "created_at": 1700000000,
        "model": "m",
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_req-1",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}
                ],
            }
        ],
        "error": None,
        "incomplete_details": None,
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 7,
        },
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
        "metadata": {},
        "store": False,
        "previous_response_id": None,
        "background": False,
        "trace_id": "trace-1",
        "instructions": "Be brief.",
        "temperature": 0.5,
    }
    parsed = SDKResponse.model_validate(answer)
    assert parsed.output_text == "Hello!"
    assert parsed.status == "completed"


def test_a_length_finish_is_an_incomplete_response() -> None:
    answer = response_to_responses(
        _response(finish_reason="length", prompt_tokens=None), request=BODY
    )
    assert answer["status"] == "incomplete"
    assert answer["incomplete_details"] == {"reason": "max_output_tokens"}
    assert answer["output"][0]["status"] == "incomplete"
    assert answer["usage"] is None
    assert "completed_at" not in answer
    assert SDKResponse.model_validate(answer).incomplete_details.reason == "max_output_tokens"  # type: ignore[union-attr]


def test_a_failed_response_surfaces_its_error() -> None:
    error = {"code": "unavailable", "message": "engine down", "retryable": True}
    with pytest.raises(ConversionError) as caught:
        response_to_responses(_response(finish_reason="error", error=error), request=BODY)
    assert caught.value.error == error


# --- Streams ----------------------------------------------------------------------------------

START: Any = {"event": "start", "request_id": "r", "trace_id": "t", "engine_id": "e"}


def _delta(text: str) -> Any:
    return {**START, "event": "delta", "content": text, "content_tokens": [1]}


def _end(**fields: Any) -> Any:
    return {
        **START,
        "event": "end",
        "content": "Hello",
        "output_tokens": [1, 1],
        "prompt_tokens": 3,
        "finish_reason": "stop",
        "metrics": METRICS,
        **fields,
    }


def test_stream_to_responses_events() -> None:
    events = list(
        stream_to_responses_events(
            [START, _delta("Hel"), _delta("lo"), _end()], request=BODY, created_at=1
        )
    )
    assert [(event["sequence_number"], event["type"]) for event in events] == list(
        enumerate(
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed",
            ]
        )
    )
    validate_stream(ResponsesStreamEvent, events)
    parsed = [SDK_EVENT.validate_python(event) for event in events]
    assert "".join(e.delta for e in parsed if e.type == "response.output_text.delta") == "Hello"
    final = parsed[-1].response
    assert final.output_text == "Hello"
    assert final.usage.total_tokens == 5


def test_a_failed_stream_ends_with_response_failed() -> None:
    error = {"code": "resource_exhausted", "message": "KV cache full", "retryable": True}
    end = _end(content="Hel", output_tokens=[1], finish_reason="error", error=error)
    events = list(stream_to_responses_events([START, _delta("Hel"), end], request=BODY))
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"] == {
        "code": "rate_limit_exceeded",
        "message": "KV cache full",
    }
    validate_stream(ResponsesStreamEvent, events)
    assert SDK_EVENT.validate_python(events[-1]).response.status == "failed"


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([_delta("x")], "[0].event: expected 'start' first, got 'delta'"),
        ([START, _delta("x")], "[2]: expected an 'end' event after [1], got the stream's end"),
        (
            [START, _delta("Hel"), _end()],
            "[2].content: expected the deltas' text joined (3 characters), got 5 characters, "
            "differing from character 4\n[2].output_tokens: expected the deltas' tokens joined "
            "(1 tokens), got 2 tokens, differing from token 2",
        ),
    ],
)
def test_misordered_engine_streams_raise_validation_error(events: Any, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        list(stream_to_responses_events(events, request=BODY))
    assert str(caught.value) == expected


def test_encode_responses_sse() -> None:
    event = {"type": "response.output_text.delta", "sequence_number": 4, "delta": "é"}
    assert list(encode_responses_sse([event])) == [
        b"event: response.output_text.delta\n"
        b'data: {"type":"response.output_text.delta","sequence_number":4,"delta":"\xc3\xa9"}\n\n'
    ]


@given(st.lists(st.text(max_size=8), max_size=8), st.sampled_from(["stop", "length"]))
def test_any_engine_stream_gives_a_valid_responses_stream(pieces: list[str], finish: str) -> None:
    deltas = [_delta(piece) for piece in pieces]
    end = _end(content="".join(pieces), output_tokens=[1] * len(pieces), finish_reason=finish)
    events = list(stream_to_responses_events([START, *deltas, end], request=BODY))
    validate_stream(ResponsesStreamEvent, events)
    final = SDK_EVENT.validate_python(events[-1]).response
    assert final.output_text == "".join(pieces)
    assert final.status == ("completed" if finish == "stop" else "incomplete")


# --- The official SDK, end to end over a mock transport ---------------------------------------


def _echo(request: Request) -> tuple[Any, list[Any]]:
    async def run() -> tuple[Any, list[Any]]:
        engine = EchoEngine("e-1")
        await engine.start()
        response = await engine.execute(request)
        return response, [event async for event in engine.stream(request)]

    return asyncio.run(run())


def _client(sent: list[Any]) -> sdk.OpenAI:
    """A client whose transport converts each body, asks the echo engine, and answers."""

    def answer(http: httpx2.Request) -> httpx2.Response:
        body = json.loads(http.content)
        sent.append(body)
        request = responses_request_to_request(body, **IDS)
        response, events = _echo(request)
        if body.get("stream"):
            stream = stream_to_responses_events(events, request=body)
            content = b"".join(encode_responses_sse(stream))
            return httpx2.Response(
                200, content=content, headers={"content-type": "text/event-stream"}
            )
        return httpx2.Response(200, json=response_to_responses(response, request=body))

    return sdk.OpenAI(
        api_key="test",
        base_url="http://gateway.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        max_retries=0,
    )


WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": True,
}
SDK_CALLS: dict[str, dict[str, Any]] = {
    "text": {"input": "Tell me a story"},
    "instructions": {"instructions": "Be brief.", "input": "Tell me a story", "temperature": 0.3},
    "parts": {
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this image?"},
                    {
                        "type": "input_image",
                        "image_url": "https://example.com/a.png",
                        "detail": "auto",
                    },
                ],
            }
        ]
    },
    "tool_history": {
        "input": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": "{}",
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "18 C, clear"},
        ],
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": False,
    },
    "structured": {
        "input": "A JSON greeting",
        "text": {
            "format": {
                "type": "json_schema",
                "name": "greeting",
                "schema": {"type": "object", "properties": {"hi": {"type": "string"}}},
                "strict": True,
            }
        },
        "max_output_tokens": 32,
        "metadata": {"user": "u-1"},
        "store": False,
        "reasoning": {"effort": "low", "summary": "auto"},
    },
}


ECHOED = {
    "text": "Tell me a story",
    "instructions": "Tell me a story",
    "parts": "What is in this image?",
    "tool_history": "Weather in Paris?",
    "structured": "A JSON greeting",
}
"""What the echo engine answers to each call: the text of its last user message."""


@pytest.mark.parametrize("name", sorted(SDK_CALLS))
def test_the_sdk_round_trip(name: str) -> None:
    sent: list[Any] = []
    client = _client(sent)
    response = client.responses.create(model="echo", **SDK_CALLS[name])
    assert len(sent) == 1
    assert sent[0] == {"model": "echo", **SDK_CALLS[name]}  # the SDK sends the call's keys
    assert response.status == "completed"
    assert response.output_text == ECHOED[name]
    assert response.id == "resp_req-1"
    assert response.usage is not None


@pytest.mark.parametrize("name", sorted(SDK_CALLS))
def test_the_sdk_reads_every_streamed_event(name: str) -> None:
    sent: list[Any] = []
    client = _client(sent)
    stream: Callable[..., Any] = client.responses.create
    events = list(stream(model="echo", stream=True, **SDK_CALLS[name]))
    assert sent[0]["stream"] is True
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    joined = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert joined == events[-1].response.output_text == ECHOED[name]
    assert len([e for e in events if e.type == "response.output_text.delta"]) >= 1


# --- Async streams, broken engine streams, strictness -----------------------------------------


def test_the_async_converter_yields_each_event_as_its_engine_event_arrives() -> None:
    seen: list[str] = []

    async def engine() -> Any:
        for event in [START, _delta("Hel"), _delta("lo"), _end()]:
            seen.append(event["event"])
            yield event

    async def run() -> list[tuple[list[str], Any]]:
        stream = astream_to_responses_events(engine(), request=BODY)
        return [(list(seen), event) async for event in stream]

    arrivals = asyncio.run(run())
    # Each engine event's Responses events leave before the engine is asked for the next.
    assert [(read, event["type"]) for read, event in arrivals][3:6] == [
        (["start"], "response.content_part.added"),
        (["start", "delta"], "response.output_text.delta"),
        (["start", "delta", "delta"], "response.output_text.delta"),
    ]
    events = [event for _, event in arrivals]
    validate_stream(ResponsesStreamEvent, events)
    assert events == list(
        stream_to_responses_events(
            [START, _delta("Hel"), _delta("lo"), _end()],
            request=BODY,
            created_at=events[0]["response"]["created_at"],
        )
    )


def test_a_broken_engine_stream_ends_with_an_error_event_the_sdk_reads() -> None:
    async def engine() -> Any:
        for event in [START, _delta("Hel"), _end()]:  # the end's text is not the deltas'
            yield event

    async def run() -> list[bytes]:
        stream = astream_to_responses_events(engine(), request=BODY)
        return [line async for line in aencode_responses_sse(stream)]

    lines = asyncio.run(run())
    assert len(lines) == 6
    kind, data = lines[-1].decode().split("\n")[:2]
    assert kind == "event: error"
    error = SDK_EVENT.validate_python(json.loads(data.removeprefix("data: ")))
    assert error.type == "error"
    assert error.sequence_number == 5
    assert error.code == "invalid_stream"
    assert error.message.startswith(
        "the engine's stream broke Protocol v0.1: [2].content: expected the deltas' text joined"
    )
    sync = list(
        encode_responses_sse(
            stream_to_responses_events([START, _delta("Hel"), _end()], request=BODY)
        )
    )
    assert sync == lines


def test_unknown_keys_are_rejected_on_request() -> None:
    body: Any = {"model": "m", "input": "hi", "max_output_token": 5, "top_k": 40}
    with suppress_type_checks():
        carried = responses_request_to_request(body, **IDS)
    assert carried["metadata"] == {"openai": {"max_output_token": 5}}
    with pytest.raises(ValidationError) as caught, suppress_type_checks():
        responses_request_to_request(body, **IDS, reject_unknown_keys=True)
    assert str(caught.value) == (
        "max_output_token: unknown key (not a ResponsesRequest key, OpenAI's or a declared "
        "extension; did you mean 'max_output_tokens'?)"
    )


def test_a_client_gone_closes_the_engine_stream_at_once() -> None:
    log: list[str] = []

    async def engine() -> Any:
        try:
            for index, event in enumerate([START, _delta("Hel"), _delta("lo"), _end()]):
                log.append(f"event {index}")
                yield event
        finally:
            log.append("closed")

    async def run() -> None:
        lines = aencode_responses_sse(astream_to_responses_events(engine(), request=BODY))
        await anext(lines)  # response.created; then the client disconnects
        await lines.aclose()  # type: ignore[attr-defined]  # an async generator
        log.append("gone")

    asyncio.run(run())
    assert log == ["event 0", "closed", "gone"]  # closed at once, not when collected
