"""gateway: OpenAI bodies to Requests, Responses and streams to OpenAI answers, errors both ways."""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion import Completion
from typeguard import suppress_type_checks

from sagellm_protocol import (
    ConversionError,
    Error,
    Request,
    Response,
    ValidationError,
    chat_request_to_request,
    completion_request_to_request,
    encode_sse,
    error_to_openai,
    is_valid,
    openai_to_error,
    response_to_chat_completion,
    response_to_completion,
    stream_to_chat_chunks,
    stream_to_completion_chunks,
    validate,
)
from sagellm_protocol.core import StreamEvent
from sagellm_protocol.gateway import (
    DEFAULT_MAX_TOKENS,
    OPENAI_METADATA_KEY,
    aencode_sse,
    astream_to_chat_chunks,
    astream_to_completion_chunks,
    issues_to_openai,
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
from sagellm_protocol.validation import Issue, format_path, validate_stream

WIRE = Path(__file__).parent.parent / "data" / "openai-wire"
# typeguard (the suite's runtime checker) treats every TypedDict as closed, so bodies with vendor
# keys, and the invalid inputs the conversions must reject themselves, pass with it suppressed.
IDS = {"request_id": "req-1", "trace_id": "trace-1"}
USER = [{"role": "user", "content": "hi"}]


def _chat(**fields: Any) -> Any:
    return {"model": "m", "messages": USER, **fields}


def _rejected(convert: Any, body: Any) -> Error:
    with pytest.raises(ConversionError) as caught:
        convert(body, **IDS)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == caught.value.error["message"]
    return caught.value.error


# --- Chat requests ---------------------------------------------------------------------------


def test_chat_request_maps_every_field() -> None:
    body = _chat(
        temperature=0.5,
        top_p=0.9,
        presence_penalty=0.1,
        frequency_penalty=-0.2,
        seed=7,
        stop="\n",
        top_k=40,
        repetition_penalty=1.1,
        length_penalty=1.0,
        skip_special_tokens=False,
        max_completion_tokens=64,
        max_tokens=32,
        stream=True,
        n=1,
        user="u-1",
        session_id="s-1",
        tools=[{"type": "function", "function": {"name": "f"}}],
        tool_choice="auto",
        response_format={"type": "json_object"},
        stream_options={"include_usage": True},
        min_p=0.05,
        logprobs=False,
        guided_choice=["a", "b"],
    )
    with suppress_type_checks():
        request = chat_request_to_request(body, **IDS)
    assert request == {
        "request_id": "req-1",
        "trace_id": "trace-1",
        "model": "m",
        "max_tokens": 64,
        "stream": True,
        "sampling_params": {
            "temperature": 0.5,
            "presence_penalty": 0.1,
            "frequency_penalty": -0.2,
            "seed": 7,
            "top_k": 40,
            "length_penalty": 1.0,
            "skip_special_tokens": False,
            "top_p": 0.9,
            "repetition_penalty": 1.1,
            "stop_sequences": ["\n"],
        },
        "metadata": {
            OPENAI_METADATA_KEY: {
                "user": "u-1",
                "session_id": "s-1",
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": "auto",
                "response_format": {"type": "json_object"},
                "stream_options": {"include_usage": True},
                "min_p": 0.05,
                "logprobs": False,
                "guided_choice": ["a", "b"],
            }
        },
        "messages": USER,
    }
    assert validate(Request, request) is request
    assert request["messages"] is not body["messages"]  # a copy: the body stays the client's


def test_chat_request_minimal_and_defaults() -> None:
    request = chat_request_to_request(_chat(temperature=None, stop=None), **IDS)
    assert request == {
        "request_id": "req-1",
        "trace_id": "trace-1",
        "model": "m",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "stream": False,
        "messages": USER,
    }
    assert chat_request_to_request(_chat(), **IDS, default_max_tokens=512)["max_tokens"] == 512
    assert chat_request_to_request(_chat(max_tokens=8), **IDS)["max_tokens"] == 8
    assert chat_request_to_request(_chat(stop=["a", "b"]), **IDS)["sampling_params"] == {
        "stop_sequences": ["a", "b"]
    }


def test_chat_request_keeps_the_body_trace_id() -> None:
    assert chat_request_to_request(_chat(trace_id="client"), **IDS)["trace_id"] == "client"
    assert chat_request_to_request(_chat(trace_id=None), **IDS)["trace_id"] == "trace-1"


def test_chat_request_carries_content_parts_and_tool_history() -> None:
    messages = json.loads((WIRE / "vllm__chat_request__4.json").read_text(encoding="utf-8"))
    request = chat_request_to_request(messages, **IDS)
    assert request["messages"] == messages["messages"]


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"n": 2}, "not_implemented", "n: expected 1 (one choice per engine request), got 2"),
        (
            {"logprobs": True},
            "not_implemented",
            "logprobs: expected false or null (Protocol v0.1 responses carry no log "
            "probabilities), got True",
        ),
        (
            {"top_logprobs": 5},
            "not_implemented",
            "top_logprobs: expected 0 or null (Protocol v0.1 responses carry no log "
            "probabilities), got 5",
        ),
        (
            {"modalities": ["text", "audio"]},
            "not_implemented",
            "modalities: expected ['text'] or null (the engine answers with text only), "
            "got ['text', 'audio']",
        ),
        (
            {"audio": {"format": "wav", "voice": "alloy"}},
            "not_implemented",
            "audio: expected null (the engine answers with text only), "
            "got {'format': 'wav', 'voice': 'alloy'}",
        ),
        (
            {"top_p": 0},
            "invalid_argument",
            "top_p: expected a number in (0, 1] (the engine samples from a non-empty nucleus), "
            "got 0",
        ),
        (
            {"repetition_penalty": 0.8},
            "invalid_argument",
            "repetition_penalty: expected a number >= 1 (Protocol v0.1 SamplingParams), got 0.8",
        ),
        (
            {"max_completion_tokens": 0},
            "invalid_argument",
            "max_completion_tokens: expected an int > 0, got 0",
        ),
        ({"max_tokens": 0}, "invalid_argument", "max_tokens: expected an int > 0, got 0"),
    ],
)
def test_chat_request_rejections_name_the_field(fields: Any, code: str, message: str) -> None:
    error = _rejected(chat_request_to_request, _chat(**fields))
    assert error == {"code": code, "message": message, "retryable": False}
    assert is_valid(Error, error)


def test_invalid_chat_request_raises_validation_error() -> None:
    with pytest.raises(ValidationError) as caught, suppress_type_checks():
        chat_request_to_request({"model": "m", "messages": [], "n": 0}, **IDS)
    assert [str(issue) for issue in caught.value.issues] == [
        "messages: expected a list[ChatMessage] of length >= 1, got a list of length 0",
        "n: expected an int in [1, 128], got 0",
    ]


def _corpus(kind: str) -> list[Path]:
    return sorted(WIRE.glob(f"*__{kind}__*.json"))


@pytest.mark.parametrize("path", _corpus("chat_request"), ids=lambda p: p.stem)
def test_corpus_chat_requests_convert_or_are_rejected_by_name(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    request, error = _try_chat(body)
    if error is not None:
        assert error["code"] in ("invalid_argument", "not_implemented")
        assert error["message"].split(":")[0] in body  # the message names the field
    else:
        assert request is not None
        assert validate(Request, request) is request


def _try_chat(body: Any) -> tuple[Request | None, Error | None]:
    try:
        with suppress_type_checks():
            return chat_request_to_request(body, **IDS), None
    except ConversionError as error:
        return None, error.error


def test_corpus_chat_request_outcomes() -> None:
    outcomes = {}
    for path in _corpus("chat_request"):
        _, error = _try_chat(json.loads(path.read_text(encoding="utf-8")))
        outcomes[path.stem] = None if error is None else error["message"].split(":")[0]
    rejected = {name: field for name, field in outcomes.items() if field is not None}
    # The SDK's all-params fixtures ask for logprobs / n placeholders; one OpenAI example asks
    # for logprobs. Everything else converts.
    assert rejected == {
        "oaipy__chat_request__2": "logprobs",
        "oaipy__chat_request__3": "logprobs",
        "openapi__chat_request__5": "logprobs",
    }


# --- Legacy completion requests --------------------------------------------------------------


def test_completion_request_maps_the_prompt() -> None:
    request = completion_request_to_request(
        {"model": "m", "prompt": ["Once"], "max_tokens": 5, "user": "u"}, **IDS
    )
    assert request == {
        "request_id": "req-1",
        "trace_id": "trace-1",
        "model": "m",
        "max_tokens": 5,
        "stream": False,
        "metadata": {OPENAI_METADATA_KEY: {"user": "u"}},
        "prompt": "Once",
    }
    assert completion_request_to_request({"model": "m", "prompt": None}, **IDS)["prompt"] == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"prompt": ["a", "b"]},
            "prompt: expected one prompt (one per engine request), got a batch of 2",
        ),
        (
            {"prompt": [1, 2]},
            "prompt: expected text (a Protocol v0.1 Request carries a str prompt), got token ids",
        ),
        (
            {"prompt": [[1], [2]]},
            "prompt: expected text (a Protocol v0.1 Request carries a str prompt), got token ids",
        ),
        (
            {"echo": True},
            "echo: expected false or null (Protocol v0.1 responses carry the generated text "
            "only), got True",
        ),
        (
            {"logprobs": 0},
            "logprobs: expected null (Protocol v0.1 responses carry no log probabilities), got 0",
        ),
        (
            {"best_of": 3},
            "best_of: expected 0, 1 or null (one candidate per engine request), got 3",
        ),
        (
            {"suffix": "end"},
            "suffix: expected '' or null (the engine has no insertion mode), got 'end'",
        ),
        ({"n": 3}, "n: expected 1 (one choice per engine request), got 3"),
    ],
)
def test_completion_request_rejections_name_the_field(fields: Any, message: str) -> None:
    error = _rejected(completion_request_to_request, {"model": "m", "prompt": "x", **fields})
    assert error == {"code": "not_implemented", "message": message, "retryable": False}


# --- Responses -------------------------------------------------------------------------------


def _response(**fields: Any) -> Response:
    value: Any = {
        "request_id": "req-1",
        "trace_id": "trace-1",
        "output_text": "Hello!",
        "output_tokens": [1, 2],
        "prompt_tokens": 5,
        "finish_reason": "length",
        "metrics": {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 0, "error_rate": 0.0},
        **fields,
    }
    return validate(Response, value)


def test_response_to_chat_completion_parses_in_the_sdk() -> None:
    answer = response_to_chat_completion(_response(), model="m", created=123)
    assert answer == {
        "id": "chatcmpl-req-1",
        "object": "chat.completion",
        "created": 123,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!"},
                "finish_reason": "length",
                "logprobs": None,
            }
        ],
        "trace_id": "trace-1",
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    assert validate(ChatCompletionResponse, answer) is answer
    parsed = ChatCompletion.model_validate(answer)
    assert parsed.choices[0].message.content == "Hello!"
    assert parsed.usage is not None
    assert parsed.usage.total_tokens == 7


def test_response_without_prompt_tokens_has_no_usage() -> None:
    answer = response_to_chat_completion(_response(prompt_tokens=None), model="m")
    assert "usage" not in answer
    assert ChatCompletion.model_validate(answer).usage is None


def test_response_to_completion_parses_in_the_sdk() -> None:
    answer = response_to_completion(_response(finish_reason="stop"), model="m", created=1)
    assert answer["id"] == "cmpl-req-1"
    assert answer["choices"] == [
        {"index": 0, "text": "Hello!", "finish_reason": "stop", "logprobs": None}
    ]
    assert validate(CompletionResponse, answer) is answer
    assert Completion.model_validate(answer).choices[0].text == "Hello!"


def test_failed_response_surfaces_its_error() -> None:
    failed = _response(
        finish_reason="error",
        error={"code": "resource_exhausted", "message": "KV cache full", "retryable": True},
    )
    for convert in (response_to_chat_completion, response_to_completion):
        with pytest.raises(ConversionError) as caught:
            convert(failed, model="m")
        assert caught.value.error == failed["error"]
        assert error_to_openai(caught.value.error)[0] == 429


def test_invalid_response_raises_validation_error() -> None:
    with pytest.raises(ValidationError), suppress_type_checks():
        response_to_chat_completion({"request_id": "r"}, model="m")  # type: ignore[typeddict-item]


# --- Streams ---------------------------------------------------------------------------------

START: Any = {"event": "start", "request_id": "r", "trace_id": "t", "engine_id": "e"}


def _delta(text: str, token: int = 1) -> Any:
    return {**START, "event": "delta", "content": text, "content_tokens": [token]}


def _end(**fields: Any) -> Any:
    return {
        **START,
        "event": "end",
        "content": "Hello",
        "output_tokens": [1, 2],
        "prompt_tokens": 3,
        "finish_reason": "stop",
        "metrics": {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 0, "error_rate": 0.0},
        **fields,
    }


EVENTS: Any = [START, _delta("Hel", 1), _delta("lo", 2), _end()]


def test_stream_to_chat_chunks() -> None:
    chunks = list(stream_to_chat_chunks(EVENTS, model="m", include_usage=True, created=9))
    common = {"id": "chatcmpl-r", "object": "chat.completion.chunk", "created": 9, "model": "m"}

    def choice(delta: Any, finish: Any = None) -> Any:
        return {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}

    assert chunks == [
        {**common, "choices": [choice({"role": "assistant", "content": ""})], "usage": None},
        {**common, "choices": [choice({"content": "Hel"})], "usage": None},
        {**common, "choices": [choice({"content": "lo"})], "usage": None},
        {**common, "choices": [choice({}, "stop")], "usage": None},
        {
            **common,
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        },
    ]
    for chunk in chunks:
        validate(ChatCompletionStreamResponse, chunk)
        ChatCompletionChunk.model_validate(chunk)


def test_stream_without_usage_and_text_round_trip() -> None:
    chunks = list(stream_to_chat_chunks(EVENTS, model="m"))
    assert all("usage" not in chunk for chunk in chunks)
    assert len(chunks) == 4
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == EVENTS[-1]["content"]


def test_encode_sse() -> None:
    lines = list(encode_sse(stream_to_chat_chunks(EVENTS, model="m", created=1)))
    assert lines[-1] == b"data: [DONE]\n\n"
    assert all(line.startswith(b"data: ") and line.endswith(b"\n\n") for line in lines)
    decoded = [json.loads(line[6:]) for line in lines[:-1]]
    assert decoded == list(stream_to_chat_chunks(EVENTS, model="m", created=1))
    assert list(encode_sse([{"text": "é"}])) == [
        b'data: {"text":"\xc3\xa9"}\n\n',
        b"data: [DONE]\n\n",
    ]


def test_stream_to_completion_chunks() -> None:
    chunks = list(stream_to_completion_chunks(EVENTS, model="m", include_usage=True, created=9))
    common = {"id": "cmpl-r", "object": "text_completion", "created": 9, "model": "m"}
    assert chunks == [
        {
            **common,
            "choices": [{"index": 0, "text": "Hel", "finish_reason": None, "logprobs": None}],
        },
        {
            **common,
            "choices": [{"index": 0, "text": "lo", "finish_reason": None, "logprobs": None}],
        },
        {
            **common,
            "choices": [{"index": 0, "text": "", "finish_reason": "stop", "logprobs": None}],
        },
        {
            **common,
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        },
    ]
    for chunk in chunks:
        validate(CompletionResponse, chunk)


def test_failed_stream_surfaces_its_error() -> None:
    error: Any = {"code": "deadline_exceeded", "message": "too slow"}
    failed = _end(content="x", output_tokens=[1], finish_reason="error", error=error)
    events = [START, _delta("x"), failed]
    chunks = stream_to_chat_chunks(events, model="m")
    assert next(chunks)["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert next(chunks)["choices"][0]["delta"] == {"content": "x"}
    with pytest.raises(ConversionError) as caught:
        next(chunks)
    assert caught.value.error == error


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([_delta("x")], "[0].event: expected 'start' first, got 'delta'"),
        ([START, START], "[1].event: expected one 'start', got another after [0]"),
        (
            [START, _end(content="", output_tokens=[]), _delta("x")],
            "[2]: expected nothing after the end at [1], got 'delta'",
        ),
        ([START, _delta("x")], "[2]: expected an 'end' event after [1], got the stream's end"),
        (
            [START, {**_delta("x"), "request_id": "other"}],
            "[1].request_id: expected 'r' as in [0], got 'other'",
        ),
        ([START, {**_delta("x"), "content": 1}], "[1].content: expected a str, got 1"),
    ],
)
def test_misordered_streams_raise_the_registered_rules_issue(events: Any, expected: str) -> None:
    for convert in (stream_to_chat_chunks, stream_to_completion_chunks):
        with pytest.raises(ValidationError) as caught, suppress_type_checks():
            list(convert(events, model="m"))
        assert str(caught.value) == expected


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("invalid_argument", 400, "invalid_request_error"),
        ("resource_exhausted", 429, "rate_limit_error"),
        ("kv_priority_queue_full", 429, "rate_limit_error"),
        ("unavailable", 503, "server_error"),
        ("deadline_exceeded", 504, "server_error"),
        ("comm_timeout", 504, "server_error"),
        ("not_implemented", 400, "invalid_request_error"),
        ("compression_not_supported", 501, "server_error"),
        ("kv_transfer_failed", 500, "server_error"),
    ],
)
def test_error_to_openai_and_back(code: Any, status: int, kind: str) -> None:
    error: Error = {"code": code, "message": "top_p: expected more, got less"}
    got_status, body = error_to_openai(error)
    assert (got_status, body) == (
        status,
        {"error": {"message": error["message"], "type": kind, "param": "top_p", "code": code}},
    )
    assert validate(OpenAIErrorResponse, body) is body
    back = openai_to_error(got_status, body)
    assert (back["code"], back["message"]) == (code, error["message"])


def test_error_to_openai_without_a_field() -> None:
    _, body = error_to_openai({"code": "unavailable", "message": "engine restarting"})
    assert body["error"]["param"] is None


@pytest.mark.parametrize(
    ("name", "status", "expected"),
    [
        ("vllm-issue__error__1.json", 400, "invalid_argument"),  # flat, int code
        ("vllm-issue__error__2.json", 400, "invalid_argument"),  # wrapped, int code
        ("vllm-pr__error__2.json", 400, "invalid_argument"),
        ("openai-issue__error__1.json", 400, "invalid_argument"),  # code context_length_exceeded
        ("oaipy__error__1.json", 401, "unavailable"),
        ("oaipy__error__5.json", 500, "unavailable"),
    ],
)
def test_openai_to_error_reads_real_error_bodies(name: str, status: int, expected: str) -> None:
    body = json.loads((WIRE / name).read_text(encoding="utf-8"))
    with suppress_type_checks():  # the flat vLLM body: typeguard cannot tell union members apart
        error = openai_to_error(status, body)
    message = body["error"]["message"] if "error" in body else body["message"]
    assert error == {"code": expected, "message": message, "retryable": status == 500}
    assert is_valid(Error, error)


def test_openai_to_error_status_table() -> None:
    body: Any = {"error": {"message": "m", "type": "t"}}
    table = {408: "deadline_exceeded", 429: "resource_exhausted", 501: "not_implemented"}
    for status, code in table.items():
        assert openai_to_error(status, body)["code"] == code
    with pytest.raises(ValidationError), suppress_type_checks():
        openai_to_error(500, {"error": "server error"})  # type: ignore[typeddict-item]


# --- One stream contract, async streams, failures on the wire -------------------------------


def test_the_converters_stop_where_validate_stream_reports_first() -> None:
    # The issue's stream: deltas change trace_id and engine_id, the end's text doesn't join.
    events = [
        START,
        {**_delta("a", 1), "trace_id": "t2"},
        {**_delta("b", 2), "engine_id": "e2"},
        _end(content="zz", output_tokens=[1, 2]),
    ]
    with pytest.raises(ValidationError) as everything:
        validate_stream(StreamEvent, events)
    assert [str(issue) for issue in everything.value.issues] == [
        "[1].trace_id: expected 't' as in [0], got 't2'",
        "[2].engine_id: expected 'e' as in [0], got 'e2'",
        "[3].content: expected the deltas' text joined (2 characters), got 2 characters, "
        "differing from character 1",
    ]
    chunks: list[Any] = []
    with pytest.raises(ValidationError) as caught:
        chunks.extend(stream_to_chat_chunks(events, model="m"))
    assert caught.value.issues == everything.value.issues[:1]
    assert len(chunks) == 1  # the role chunk of the start; nothing of the broken delta


async def _arrive(events: list[Any], log: list[str]) -> AsyncIterator[Any]:
    try:
        for index, event in enumerate(events):
            log.append(f"event {index}")
            yield event
    finally:
        log.append("closed")


def test_async_chunks_leave_as_their_events_arrive_and_close_the_source() -> None:
    log: list[str] = []

    async def run() -> None:
        chunks = astream_to_completion_chunks(_arrive(EVENTS, log), model="m", created=1)
        async for line in aencode_sse(chunks):
            log.append("done" if line == b"data: [DONE]\n\n" else "sent")

    asyncio.run(run())
    assert log == [
        "event 0", "event 1", "sent", "event 2", "sent", "event 3", "sent", "closed", "done",
    ]  # fmt: skip


def test_a_client_gone_closes_the_engine_stream() -> None:
    log: list[str] = []

    async def run() -> None:
        lines = aencode_sse(astream_to_chat_chunks(_arrive(EVENTS, log), model="m"))
        await anext(lines)  # the role chunk; then the client disconnects
        await lines.aclose()  # type: ignore[attr-defined]  # an async generator
        log.append("gone")

    asyncio.run(run())
    assert log == ["event 0", "closed", "gone"]  # closed at once, not when collected


def test_a_failed_stream_ends_with_an_openai_error_line() -> None:
    error: Any = {"code": "resource_exhausted", "message": "kv: out of blocks", "retryable": True}
    failed = [START, _end(content="", output_tokens=[], finish_reason="error", error=error)]
    lines = list(encode_sse(stream_to_chat_chunks(failed, model="m", created=1)))
    assert [json.loads(line[6:]) for line in lines[1:-1]] == [error_to_openai(error)[1]]
    assert lines[-1] == b"data: [DONE]\n\n"


def test_a_broken_engine_stream_ends_with_a_server_error_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run() -> list[bytes]:
        broken = _arrive([START, {**_delta("x"), "request_id": "other"}], [])
        return [line async for line in aencode_sse(astream_to_chat_chunks(broken, model="m"))]

    lines = asyncio.run(run())
    assert json.loads(lines[1][6:]) == {
        "error": {
            "message": "the engine's stream broke Protocol v0.1: "
            "[1].request_id: expected 'r' as in [0], got 'other'",
            "type": "server_error",
            "param": None,
            "code": "invalid_stream",
        }
    }
    assert lines[2] == b"data: [DONE]\n\n"
    assert [record.levelname for record in caplog.records] == ["ERROR"]


# --- Validation issues as OpenAI errors -------------------------------------------------------


def test_issues_become_one_openai_error_naming_each_path() -> None:
    body: Any = {"model": "m", "messages": [{"role": "robot", "content": "x"}], "n": float("nan")}
    with pytest.raises(ValidationError) as caught, suppress_type_checks():
        chat_request_to_request(body, request_id="r", trace_id="t")
    status, answer = issues_to_openai(caught.value.issues)
    assert status == 400
    assert answer["error"]["message"] == (
        "2 issues: messages[0].role: expected one of 'system', 'user', 'assistant', 'function', "
        "'tool', 'developer', got 'robot'; n: expected an int in [1, 128] or None, got nan"
    )
    assert answer["error"]["param"] == "messages[0].role"
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["code"] == "invalid_argument"
    json.dumps(answer, allow_nan=False)  # nothing in it that JSON cannot carry


def test_a_flood_of_issues_is_cut_to_twenty() -> None:
    issues = [
        Issue(("messages", i, "role"), "missing", "required key is missing") for i in range(25)
    ]
    message = issues_to_openai(issues)[1]["error"]["message"]
    assert message.startswith("25 issues: messages[0].role: required key is missing; ")
    assert message.endswith("; and 5 more issues")
    assert message.count("required key is missing") == 20


# --- Unknown keys (opt-in) --------------------------------------------------------------------

TYPOS: Any = {
    "model": "m",
    "messages": [{"role": "user", "content": "hi", "nam": "ann"}],
    "max_token": 500,
    "temprature": 0.1,
    "top_k": 40,
    "stream_options": {"include_usage": True},
}


def test_unknown_keys_say_what_was_meant_and_declared_vendor_keys_pass() -> None:
    assert [str(issue) for issue in unknown_keys(ChatCompletionRequest, TYPOS)] == [
        "messages[0].nam: unknown key (not a ChatMessage key, OpenAI's or a declared "
        "extension; did you mean 'name'?)",
        "max_token: unknown key (not a ChatCompletionRequest key, OpenAI's or a declared "
        "extension; did you mean 'max_tokens'?)",
        "temprature: unknown key (not a ChatCompletionRequest key, OpenAI's or a declared "
        "extension; did you mean 'temperature'?)",
    ]
    assert unknown_keys(ChatCompletionRequest, {**TYPOS, "messages": [], "zzz": 1})[-1] == Issue(
        ("zzz",),
        "extra",
        "unknown key (not a ChatCompletionRequest key, OpenAI's or a declared extension)",
    )


def test_unknown_keys_look_into_union_members_but_not_into_free_json() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"anything": 1}}}
    body: Any = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    assert unknown_keys(ChatCompletionRequest, body) == []
    body["tools"] = [{**tool, "function": {**tool["function"], "strct": True}}]
    assert [format_path(issue.path) for issue in unknown_keys(ChatCompletionRequest, body)] == [
        "tools[0].function.strct"
    ]


def test_conversions_carry_unknown_keys_unless_told_to_reject_them() -> None:
    with suppress_type_checks():
        request = chat_request_to_request(TYPOS, request_id="r", trace_id="t")
        assert request["metadata"]["openai"]["max_token"] == 500  # type: ignore[index]
        with pytest.raises(ValidationError) as caught:
            chat_request_to_request(TYPOS, request_id="r", trace_id="t", reject_unknown_keys=True)
        assert [issue.path for issue in caught.value.issues] == [
            ("messages", 0, "nam"),
            ("max_token",),
            ("temprature",),
        ]
        prompt: Any = {"model": "m", "prompt": "hi", "top_k": 40, "sufix": "!"}
        with pytest.raises(ValidationError) as caught:
            completion_request_to_request(
                prompt, request_id="r", trace_id="t", reject_unknown_keys=True
            )
        assert str(caught.value) == (
            "sufix: unknown key (not a CompletionRequest key, OpenAI's or a declared "
            "extension; did you mean 'suffix'?)"
        )


@pytest.mark.parametrize(
    ("kind", "tp"),
    [("chat_request", ChatCompletionRequest), ("completion_request", CompletionRequest)],
)
def test_recorded_request_bodies_hold_only_declared_keys(kind: str, tp: Any) -> None:
    # The SDK's all-parameters bodies included: strictness must not reject real OpenAI traffic.
    unknown = {
        path.stem: [format_path(issue.path) for issue in unknown_keys(tp, body)]
        for path in _corpus(kind)
        if is_valid(tp, body := json.loads(path.read_text(encoding="utf-8")))
    }
    assert len(unknown) == len(_corpus(kind))
    # vLLM's docs example puts the SDK's `extra_body` argument itself in the JSON body.
    expected = {"vllm__chat_request__6": ["extra_body"]} if kind == "chat_request" else {}
    assert {name: keys for name, keys in unknown.items() if keys} == expected
