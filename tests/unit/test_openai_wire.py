"""openai: real OpenAI and vLLM traffic validates; what no real server sends is rejected.

Payloads are ``tests/data/openai-wire`` (one JSON document per file, each file's source in
``SOURCES.txt``) and ``tests/data/openai-streams`` (whole SSE streams recorded from the live
API), copied from the shared corpus. Bodies the official SDK sends are captured from the SDK
itself through a mock transport; responses are built with the SDK's own models.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai as sdk
import pytest
from openai.types import CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion import Completion
from pydantic import TypeAdapter

from sagellm_protocol import ValidationError, collect_issues, format_path, is_valid, validate
from sagellm_protocol.openai import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    CompletionRequest,
    CompletionResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ModelListResponse,
    OpenAIErrorBody,
    OpenAIErrorResponse,
)

DATA = Path(__file__).parent.parent / "data"
WIRE = DATA / "openai-wire"
STREAMS = DATA / "openai-streams"

KINDS: dict[str, Any] = {
    "chat_request": ChatCompletionRequest,
    "chat_response": ChatCompletionResponse,
    "chat_chunk": ChatCompletionStreamResponse,
    "completion_request": CompletionRequest,
    "completion_response": CompletionResponse,
    "embedding_request": EmbeddingRequest,
    "embedding_response": EmbeddingResponse,
    "models_list": ModelListResponse,
    "error": OpenAIErrorBody,
}
"""Corpus kind (the middle part of a file name) -> the type its payloads have."""

MALFORMED = {"oaipy__error__3.json", "oaipy__error__4.json"}
"""Test fixtures of the SDK's client tests, not bodies any server sends (see SOURCES.txt)."""

PAYLOADS = sorted(WIRE.glob("*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_corpus_is_complete() -> None:
    assert len(PAYLOADS) == 88
    sources = (WIRE / "SOURCES.txt").read_text(encoding="utf-8")
    assert all(f"\n{path.name}\n" in sources for path in PAYLOADS)


@pytest.mark.parametrize(
    "path", [p for p in PAYLOADS if p.name not in MALFORMED], ids=lambda p: p.stem
)
def test_real_payload_validates(path: Path) -> None:
    tp = KINDS[path.stem.split("__")[1]]
    value = _load(path)
    assert collect_issues(tp, value) == []
    assert validate(tp, value) is value


def test_malformed_error_fixtures_are_rejected() -> None:
    """``{"error": {}}`` and ``{"error": "server error"}`` are mocks no server sends."""
    empty, text = _load(WIRE / "oaipy__error__3.json"), _load(WIRE / "oaipy__error__4.json")
    assert [str(issue) for issue in collect_issues(OpenAIErrorResponse, empty)] == [
        "error.message: required key is missing",
        "error.type: required key is missing",
    ]
    assert [str(issue) for issue in collect_issues(OpenAIErrorResponse, text)] == [
        "error: expected an OpenAIError object, got 'server error'"
    ]
    assert not is_valid(OpenAIErrorBody, empty)
    assert not is_valid(OpenAIErrorBody, text)


def _sse_chunks(path: Path) -> list[Any]:
    events = [block for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"
    return [json.loads(event.removeprefix("data: ")) for event in events[:-1]]


@pytest.mark.parametrize("path", sorted(STREAMS.glob("*.sse")), ids=lambda p: p.stem[:12])
def test_recorded_stream_chunks_validate(path: Path) -> None:
    chunks = _sse_chunks(path)
    for chunk in chunks:
        assert collect_issues(ChatCompletionStreamResponse, chunk) == []
    # Ordinary chunks carry no usage (or null); the last has usage and no choices.
    assert all(chunk.get("usage") is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert len({chunk["id"] for chunk in chunks}) == 1


# --- What the official SDK sends -------------------------------------------------------------


def _sdk_client(sent: list[tuple[str, Any]]) -> sdk.OpenAI:
    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        sent.append((request.url.path, body))
        if body.get("stream"):
            sse = {"content-type": "text/event-stream"}
            return httpx2.Response(200, content=b"data: [DONE]\n\n", headers=sse)
        if request.url.path.endswith("/embeddings"):
            body = {
                "object": "list",
                "data": [{"object": "embedding", "embedding": "AACAPwAAAEA=", "index": 0}],
                "model": "e",
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
            return httpx2.Response(200, json=body)
        if request.url.path.endswith("/chat/completions"):
            message = {"role": "assistant", "content": "ok"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            body = {"id": "c", "object": "chat.completion", "created": 1, "model": "m"}
            return httpx2.Response(200, json={**body, "choices": [choice]})
        choice = {"index": 0, "text": "ok", "finish_reason": "stop"}
        body = {"id": "c", "object": "text_completion", "created": 1, "model": "m"}
        return httpx2.Response(200, json={**body, "choices": [choice]})

    transport = httpx2.MockTransport(answer)
    return sdk.OpenAI(
        api_key="test",
        base_url="http://gateway.test/v1",
        http_client=httpx2.Client(transport=transport),
        max_retries=0,
    )


WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    },
}
TOOL_HISTORY: Any = [
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18 C, clear"},
]
CHAT_CALLS: dict[str, dict[str, Any]] = {
    "text": {"messages": [{"role": "user", "content": "Hello"}], "temperature": None},
    "parts": {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/a.png", "detail": "high"},
                    },
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                    {"type": "file", "file": {"file_id": "file-1", "filename": "a.pdf"}},
                ],
            }
        ]
    },
    "tools": {
        "messages": TOOL_HISTORY[:1],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
    },
    "tool_history": {"messages": TOOL_HISTORY, "tools": [WEATHER_TOOL], "tool_choice": "auto"},
    "developer": {
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "system", "content": "You are helpful.", "name": "sys"},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        ]
    },
    "json_schema": {
        "messages": [{"role": "user", "content": "Give me a JSON"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
        },
    },
    "json_object": {
        "messages": [{"role": "user", "content": "JSON"}],
        "response_format": {"type": "json_object"},
        "seed": 7,
        "max_completion_tokens": 50,
    },
    "logprobs": {
        "messages": [{"role": "user", "content": "Hi"}],
        "logprobs": True,
        "top_logprobs": 20,
        "logit_bias": {"50256": -100, "15339": 2.5},
    },
    "stream_with_usage": {
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "n": 2,
        "stop": ["\n", "END", "###", "."],
        "presence_penalty": -2.0,
        "frequency_penalty": 2.0,
        "top_p": 0,
    },
    "vllm_extra_body": {
        "messages": [{"role": "user", "content": "Hi"}],
        "extra_body": {
            "top_k": 20,
            "min_p": 0.05,
            "repetition_penalty": 1.1,
            "min_tokens": 4,
            "stop_token_ids": [151643],
            "ignore_eos": False,
            "skip_special_tokens": True,
            "include_stop_str_in_output": False,
            "chat_template_kwargs": {"enable_thinking": False},
        },
    },
}


@pytest.mark.parametrize("name", CHAT_CALLS)
def test_chat_bodies_the_sdk_sends_validate(name: str) -> None:
    sent: list[tuple[str, Any]] = []
    client = _sdk_client(sent)
    kwargs = CHAT_CALLS[name]
    answer = client.chat.completions.create(model="m", **kwargs)
    if kwargs.get("stream"):
        assert list(answer) == []  # the mock stream ends at once
    [(path, body)] = sent
    assert path == "/v1/chat/completions"
    assert collect_issues(ChatCompletionRequest, body) == []


@pytest.mark.parametrize(
    "prompt",
    ["Once upon", ["a", "b"], [1, 2, 3], [[1, 2], [3]]],
    ids=["str", "strs", "ids", "ids2"],
)
def test_completion_bodies_the_sdk_sends_validate(prompt: Any) -> None:
    sent: list[tuple[str, Any]] = []
    _sdk_client(sent).completions.create(
        model="m",
        prompt=prompt,
        echo=True,
        suffix="end",
        logprobs=5,
        best_of=2,
        n=2,
        presence_penalty=1.5,
        max_tokens=16,
    )
    [(path, body)] = sent
    assert path == "/v1/completions"
    assert collect_issues(CompletionRequest, body) == []


@pytest.mark.parametrize("input_", ["a", ["a", "b"], [1, 2], [[1], [2, 3]]])
def test_embedding_bodies_and_base64_answers_validate(input_: Any) -> None:
    sent: list[tuple[str, Any]] = []
    result = _sdk_client(sent).embeddings.create(model="e", input=input_, dimensions=8)
    [(_path, body)] = sent
    assert body["encoding_format"] == "base64"  # the SDK's default
    assert collect_issues(EmbeddingRequest, body) == []
    assert result.data[0].embedding == [1.0, 2.0]  # the SDK decodes what we accept
    answer = {
        "object": "list",
        "data": [{"object": "embedding", "embedding": "AACAPwAAAEA=", "index": 0}],
        "model": "e",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    assert is_valid(EmbeddingResponse, answer)


# --- Responses built with the SDK's own models -----------------------------------------------

_TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": "{}"},
}
_LOGPROB = {
    "token": "Hi",
    "logprob": -0.1,
    "bytes": [72, 105],
    "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}],
}
SDK_MODELS: list[tuple[Any, Callable[[], Any]]] = [
    (
        ChatCompletionResponse,
        lambda: ChatCompletion.model_validate(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": "gpt",
                "system_fingerprint": "fp_1",
                "service_tier": "default",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [_TOOL_CALL],
                        },
                        "finish_reason": "tool_calls",
                        "logprobs": {"content": [_LOGPROB], "refusal": None},
                    },
                    {
                        "index": 1,
                        "message": {"role": "assistant", "content": None, "refusal": "No."},
                        "finish_reason": "stop",
                    },
                    {
                        "index": 2,
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "audio": {"id": "a", "data": "", "expires_at": 1, "transcript": ""},
                        },
                        "finish_reason": "stop",
                    },
                ],
                "usage": {
                    "prompt_tokens": 3,
                    "completion_tokens": 2,
                    "total_tokens": 5,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0},
                },
            }
        ),
    ),
    (
        ChatCompletionStreamResponse,
        lambda: ChatCompletionChunk.model_validate(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a'}}]},
                        "finish_reason": None,
                    }
                ],
            }
        ),
    ),
    (
        CompletionResponse,
        lambda: Completion.model_validate(
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 1,
                "model": "gpt",
                "choices": [
                    {
                        "index": 0,
                        "text": "Hi",
                        "finish_reason": "length",
                        "logprobs": {
                            "tokens": ["Hi"],
                            "token_logprobs": [-0.5],
                            "top_logprobs": [{"Hi": -0.5}],
                            "text_offset": [0],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ),
    ),
    (
        EmbeddingResponse,
        lambda: CreateEmbeddingResponse.model_validate(
            {
                "object": "list",
                "data": [{"object": "embedding", "embedding": [0.1, -0.2], "index": 0}],
                "model": "e",
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ),
    ),
    (
        ModelListResponse,
        lambda: {
            "object": "list",
            "data": [
                Model(id="m", created=1, object="model", owned_by="o").model_dump(mode="json")
            ],
        },
    ),
]


@pytest.mark.parametrize("exclude_unset", [False, True])
@pytest.mark.parametrize(("tp", "build"), SDK_MODELS, ids=lambda x: getattr(x, "__name__", ""))
def test_sdk_model_dumps_validate(tp: Any, build: Callable[[], Any], exclude_unset: bool) -> None:
    built = build()
    dumped = (
        built
        if isinstance(built, dict)
        else built.model_dump(mode="json", exclude_unset=exclude_unset)
    )
    assert collect_issues(tp, dumped) == []


def test_sdk_dumps_of_every_corpus_response_validate() -> None:
    models = {"chat_response": ChatCompletion, "chat_chunk": ChatCompletionChunk}
    checked = 0
    for path in PAYLOADS:
        kind = path.stem.split("__")[1]
        if kind in models:
            dumped = models[kind].model_validate(_load(path)).model_dump(mode="json")
            assert collect_issues(KINDS[kind], dumped) == [], path.name
            checked += 1
    assert checked == 43


# --- Quirks: accept what the SDK accepts and real servers send, reject what none sends ------

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def _issues(tp: Any, value: Any) -> list[tuple[str, str]]:
    return [(format_path(issue.path), issue.message) for issue in collect_issues(tp, value)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"n": 0}, [("n", "expected an int in [1, 128], got 0")]),
        ({"n": 129}, [("n", "expected an int in [1, 128], got 129")]),
        ({"top_logprobs": 25}, [("top_logprobs", "expected an int in [0, 20], got 25")]),
        (
            {"stop": ["a", "b", "c", "d", "e"]},
            [
                (
                    "stop",
                    "expected a list[str] of length in [1, 4], got a list of length 5",
                )
            ],
        ),
        (
            {"messages": []},
            [("messages", "expected a list[ChatMessage] of length >= 1, got a list of length 0")],
        ),
        (
            {"temperature": 2.5},
            [("temperature", "expected a finite number in [0, 2], got 2.5")],
        ),
        ({"top_p": 1.5}, [("top_p", "expected a finite number in [0, 1], got 1.5")]),
        (
            {"presence_penalty": 5},
            [("presence_penalty", "expected a finite number in [-2, 2], got 5")],
        ),
        (
            {"frequency_penalty": -3},
            [("frequency_penalty", "expected a finite number in [-2, 2], got -3")],
        ),
        (
            {"logit_bias": {"50256": 101}},
            [("logit_bias['50256']", "expected a finite number in [-100, 100], got 101")],
        ),
        ({"top_k": -2}, [("top_k", "expected an int >= -1, got -2")]),
        ({"min_p": 1.5}, [("min_p", "expected a finite number in [0, 1], got 1.5")]),
        (
            {"repetition_penalty": 0},
            [("repetition_penalty", "expected a finite number > 0, got 0")],
        ),
        ({"min_tokens": -1}, [("min_tokens", "expected an int >= 0, got -1")]),
        (
            {"max_completion_tokens": -1},
            [("max_completion_tokens", "expected an int >= 0, got -1")],
        ),
        ({"ignore_eos": "yes"}, [("ignore_eos", "expected a bool or None, got 'yes'")]),
        (
            {"stop_token_ids": [1, -5]},
            [("stop_token_ids[1]", "expected an int >= 0, got -5")],
        ),
        (
            {"reasoning_effort": "extreme"},
            [
                (
                    "reasoning_effort",
                    "expected one of 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', "
                    "'max' or None, got 'extreme'",
                )
            ],
        ),
    ],
)
def test_out_of_range_chat_values_are_rejected(changes: Any, expected: Any) -> None:
    assert _issues(ChatCompletionRequest, {**CHAT, **changes}) == expected


@pytest.mark.parametrize(
    "key",
    [
        "temperature",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "stream",
        "top_p",
        "stop",
        "max_tokens",
        "seed",
        "logprobs",
        "top_logprobs",
        "top_k",
    ],
)
def test_null_is_accepted_where_openai_allows_it(key: str) -> None:
    assert is_valid(ChatCompletionRequest, {**CHAT, key: None})


def test_top_p_zero_is_accepted_as_openai_does() -> None:
    """OpenAI accepts top_p 0; vLLM rejects it. We accept what OpenAI accepts (the gateway's
    conversion then rejects it for the engine, naming the field)."""
    assert is_valid(ChatCompletionRequest, {**CHAT, "top_p": 0})
    assert is_valid(CompletionRequest, {"model": "m", "prompt": "x", "top_p": 0})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"logprobs": 6}, [("logprobs", "expected an int in [0, 5], got 6")]),
        ({"best_of": 21}, [("best_of", "expected an int in [0, 20], got 21")]),
        (
            {"presence_penalty": 5},
            [("presence_penalty", "expected a finite number in [-2, 2], got 5")],
        ),
        ({"echo": 1}, [("echo", "expected a bool or None, got 1")]),
    ],
)
def test_out_of_range_completion_values_are_rejected(changes: Any, expected: Any) -> None:
    assert _issues(CompletionRequest, {"model": "m", "prompt": "x", **changes}) == expected


def test_completion_prompt_forms() -> None:
    for prompt in ["x", ["a", "b"], [1, 2], [[1], [2, 3]], None]:
        assert is_valid(CompletionRequest, {"model": "m", "prompt": prompt})
    # An empty batch or a negative token id is not a prompt any server takes.
    for prompt in [[], [[]], [-1]]:
        assert not is_valid(CompletionRequest, {"model": "m", "prompt": prompt})


def test_embedding_ranges() -> None:
    assert _issues(EmbeddingRequest, {"model": "e", "input": "x", "dimensions": 0}) == [
        ("dimensions", "expected an int > 0, got 0")
    ]
    assert _issues(EmbeddingRequest, {"model": "e", "input": "x", "encoding_format": "int8"}) == [
        ("encoding_format", "expected one of 'float', 'base64', got 'int8'")
    ]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"role": "user"},
            [("messages[0].content", "expected content on a 'user' message, got no 'content' key")],
        ),
        (
            {"role": "system", "content": None},
            [("messages[0].content", "expected content on a 'system' message, got null")],
        ),
        (
            {"role": "tool", "content": "18 C"},
            [
                (
                    "messages[0].tool_call_id",
                    "expected a tool_call_id on a 'tool' message, got no 'tool_call_id' key",
                )
            ],
        ),
        (
            {"role": "user", "content": "x", "tool_call_id": "c"},
            [
                (
                    "messages[0].tool_call_id",
                    "expected tool_call_id only on 'tool' messages, got a 'user' message",
                )
            ],
        ),
        (
            {"role": "user", "content": "x", "tool_calls": [_TOOL_CALL]},
            [
                (
                    "messages[0].tool_calls",
                    "expected tool_calls only on 'assistant' messages, got a 'user' message",
                )
            ],
        ),
        (
            {"role": "function", "content": "x"},
            [("messages[0].name", "expected a name on a 'function' message, got no 'name' key")],
        ),
        (
            {"role": "user", "content": [{"type": "refusal", "refusal": "no"}]},
            [
                (
                    "messages[0].content[0].type",
                    "expected a refusal part only in 'assistant' messages, got a 'user' message",
                )
            ],
        ),
        (
            {"role": "user", "content": [{"type": "text"}]},
            [
                (
                    "messages[0].content[0].text",
                    "expected the text of a 'text' part, got no 'text' key",
                )
            ],
        ),
        (
            {"role": "user", "content": [{"text": "typeless text"}]},
            [
                (
                    "messages[0].content[0].type",
                    "expected a 'type' key, or exactly one of 'image_url', 'audio_url', "
                    "'video_url', 'input_audio' to infer it from, got none",
                )
            ],
        ),
        (
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "u", "detail": "max"}}],
            },
            [
                (
                    "messages[0].content[0].image_url.detail",
                    "expected one of 'auto', 'low', 'high', 'original', got 'max'",
                )
            ],
        ),
        (
            {"role": "user", "content": [{"type": "picture", "picture": "p"}]},
            [
                (
                    "messages[0].content[0].type",
                    "expected one of 'text', 'image_url', 'input_audio', 'file', 'refusal', "
                    "'video_url', 'audio_url', got 'picture'",
                )
            ],
        ),
    ],
)
def test_message_rules_by_role(message: Any, expected: Any) -> None:
    assert _issues(ChatCompletionRequest, {"model": "m", "messages": [message]}) == expected


def test_assistant_content_is_optional_and_nullable() -> None:
    for message in [
        {"role": "assistant"},
        {"role": "assistant", "content": None, "tool_calls": [_TOOL_CALL]},
        {"role": "assistant", "content": None, "refusal": "No."},
        {"role": "assistant", "content": None, "audio": {"id": "audio_1"}},
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
    ]:
        assert is_valid(ChatCompletionRequest, {"model": "m", "messages": [message]}), message


def test_vllm_parts_pass() -> None:
    """vLLM's video_url/audio_url parts, and a typeless part vLLM infers the type of (vLLM
    accepts a video part even in a system message, with a warning: so do we)."""
    messages = [
        {"role": "system", "content": [{"video_url": {"url": "https://x/v.mp4"}}]},
        {
            "role": "user",
            "content": [
                {"type": "video_url", "video_url": {"url": "https://x/v.mp4"}},
                {"type": "audio_url", "audio_url": {"url": "https://x/a.wav"}},
            ],
        },
    ]
    assert is_valid(ChatCompletionRequest, {"model": "m", "messages": messages})


def test_vllm_error_shapes() -> None:
    nested = {"error": {"message": "m", "type": "BadRequestError", "param": None, "code": 400}}
    flat = {
        "object": "error",
        "message": "m",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    assert is_valid(OpenAIErrorResponse, nested)
    assert is_valid(OpenAIErrorBody, nested)
    assert is_valid(OpenAIErrorBody, flat)
    assert not is_valid(OpenAIErrorResponse, flat)


def test_stream_chunk_shapes() -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    fragment = {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}}
    assert is_valid(ChatCompletionStreamResponse, {**base, "choices": [fragment], "usage": None})
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert is_valid(ChatCompletionStreamResponse, {**base, "choices": [], "usage": usage})
    bad = {"index": 0, "delta": {"tool_calls": [{"function": {"arguments": "}"}}]}}
    assert _issues(ChatCompletionStreamResponse, {**base, "choices": [bad]}) == [
        ("choices[0].delta.tool_calls[0].index", "required key is missing")
    ]
    legacy = {"id": "c", "object": "text_completion", "created": 1, "model": "m"}
    chunk = {**legacy, "choices": [{"index": 0, "text": "x", "finish_reason": None}]}
    assert is_valid(CompletionResponse, chunk)


# --- Vendor keys are kept in every path ------------------------------------------------------


def test_vendor_keys_pass_validate() -> None:
    body = {**CHAT, "guided_choice": ["a", "b"], "chat_template_kwargs": {"x": 1}}
    assert validate(ChatCompletionRequest, body) is body


def test_pydantic_type_adapter_keeps_vendor_keys() -> None:
    body = {**CHAT, "top_k": 5, "guided_choice": ["a"]}
    parsed = TypeAdapter(ChatCompletionRequest).validate_python(body)
    assert parsed["top_k"] == 5
    assert parsed["guided_choice"] == ["a"]  # type: ignore[typeddict-item]
    # Nested open types keep theirs too.
    message = {"role": "user", "content": "x", "vendor": 1}
    parsed = TypeAdapter(ChatCompletionRequest).validate_python({**CHAT, "messages": [message]})
    assert parsed["messages"][0]["vendor"] == 1  # type: ignore[typeddict-item]


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValidationError) as caught:
        validate(ChatCompletionRequest, {**CHAT, "n": 0})
    assert isinstance(caught.value, ValueError)
