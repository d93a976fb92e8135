"""The project's own streams keep the stream rules: EchoEngine's, and the gateway's chunks."""

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagellm_protocol import (
    ChatCompletionStreamResponse,
    CompletionResponse,
    StreamEvent,
    stream_to_chat_chunks,
    stream_to_completion_chunks,
    validate_stream,
)
from sagellm_protocol.testing.engine import EchoEngine

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROMPTS = st.text(st.characters(codec="utf-8"), max_size=40)


def echo(prompt: str, max_tokens: int) -> list[Any]:
    async def main() -> list[Any]:
        engine = EchoEngine("e-1")
        await engine.start()
        request: Any = {"request_id": "r", "trace_id": "t", "max_tokens": max_tokens}
        return [event async for event in engine.stream({**request, "prompt": prompt or " "})]

    return asyncio.run(main())


@SETTINGS
@given(PROMPTS, st.integers(1, 12))
def test_echo_engine_streams_keep_the_rules(prompt: str, max_tokens: int) -> None:
    events = echo(prompt, max_tokens)
    assert validate_stream(StreamEvent, events) == events


@SETTINGS
@given(PROMPTS, st.integers(1, 12), st.booleans())
def test_gateway_chunks_of_engine_streams_keep_the_rules(
    prompt: str, max_tokens: int, include_usage: bool
) -> None:
    events = echo(prompt, max_tokens)
    chat = list(stream_to_chat_chunks(events, model="m", include_usage=include_usage))
    assert validate_stream(ChatCompletionStreamResponse, chat) == chat
    legacy = list(stream_to_completion_chunks(events, model="m", include_usage=include_usage))
    assert validate_stream(CompletionResponse, legacy) == legacy
    assert (chat[-1]["choices"] == []) is include_usage
