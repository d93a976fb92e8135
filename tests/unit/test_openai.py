"""openai: open types, literal aliases, "now" defaults, real wire payloads."""

import time
import typing

import pytest
from typing_extensions import get_type_hints

from sagellm_protocol import defaults, openai, with_defaults

TYPES = [getattr(openai, name) for name in openai.__all__ if name[0].isupper()]
TYPEDDICTS = [tp for tp in TYPES if isinstance(tp, type)]


@pytest.mark.parametrize("tp", TYPEDDICTS, ids=lambda tp: tp.__name__)
def test_types_are_open(tp: typing.Any) -> None:
    assert getattr(tp, "__closed__", None) is not True


def test_literal_aliases() -> None:
    roles = ("system", "user", "assistant", "function", "tool", "developer")
    assert typing.get_args(openai.ChatRole) == roles
    assert typing.get_args(openai.ChatFinishReason) == (
        "stop",
        "length",
        "content_filter",
        "tool_calls",
        "function_call",
    )
    assert typing.get_args(openai.CompletionFinishReason) == ("stop", "length", "content_filter")
    assert typing.get_args(openai.EmbeddingEncodingFormat) == ("float", "base64")


@pytest.mark.parametrize(
    ("tp", "tag"),
    [
        (openai.ChatCompletionResponse, "chat.completion"),
        (openai.ChatCompletionStreamResponse, "chat.completion.chunk"),
        (openai.CompletionResponse, "text_completion"),
        (openai.ModelInfo, "model"),
    ],
)
def test_created_is_now_and_object_tag(tp: typing.Any, tag: str) -> None:
    before = int(time.time())
    created = defaults(tp)["created"]
    assert type(created) is int
    assert before <= created <= int(time.time())
    assert defaults(tp)["object"] == tag
    assert typing.get_args(get_type_hints(tp)["object"]) == (tag,)


def test_with_defaults_keeps_vendor_keys() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "top_k": 5}
    completed = with_defaults(openai.ChatCompletionRequest, request)  # type: ignore[arg-type]
    assert completed["top_k"] == 5  # type: ignore[typeddict-item]
    assert completed["messages"] == [{"role": "user", "content": "hi", "name": None}]
    assert completed["temperature"] == 1.0


@pytest.mark.parametrize("tp", TYPEDDICTS, ids=lambda tp: tp.__name__)
def test_pydantic_keeps_extra_keys(tp: typing.Any) -> None:
    assert tp.__pydantic_config__ == {"extra": "allow"}


def test_message_text() -> None:
    assert openai.message_text(None) == ""
    assert openai.message_text("hi") == "hi"
    parts: list[openai.ChatCompletionContentPart] = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "u"}},
        {"type": "text", "text": "b"},
        {"type": "refusal", "refusal": "no"},
    ]
    assert openai.message_text(parts) == "ab"
