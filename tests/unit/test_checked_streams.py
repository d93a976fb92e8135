"""@checked on generators of stream events: the stream rules at ``yield #n`` and at the end."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from stream_samples import chat_stream, echo_stream

from sagellm_protocol import (
    ChatCompletionStreamResponse,
    CheckViolation,
    CheckYieldViolation,
    Issue,
    StreamEvent,
    checked,
    override_checks,
)
from sagellm_protocol.testing.engine import EchoEngine

EVENTS = echo_stream()


@checked
def replay(events: list[Any]) -> Iterator[StreamEvent]:
    yield from events


@checked
async def areplay(events: list[Any]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


async def drain(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


def test_a_whole_stream_passes_through() -> None:
    assert list(replay(EVENTS)) == EVENTS
    assert asyncio.run(drain(areplay(EVENTS))) == EVENTS


def test_a_broken_sequence_raises_at_its_yield() -> None:
    events = [*EVENTS[:4], EVENTS[1], EVENTS[4]]
    got: list[Any] = []
    with pytest.raises(CheckYieldViolation) as caught:
        got.extend(replay(events))
    error = caught.value
    assert isinstance(error, CheckViolation)
    assert error.where == "yield #6"
    assert error.issues == [
        Issue(
            ("content",),
            "sequence",
            "expected the deltas' text joined (7 characters), got 5 characters, "
            "differing from character 6",
        ),
        Issue(
            ("output_tokens",),
            "sequence",
            "expected the deltas' tokens joined (4 tokens), got 3 tokens, differing from token 4",
        ),
    ]
    assert str(error).splitlines()[0] == "replay() yield #6 is invalid:"


def test_an_async_stream_that_ends_early_raises_when_it_stops() -> None:
    with pytest.raises(CheckYieldViolation) as caught:
        asyncio.run(drain(areplay(EVENTS[:-1])))
    assert str(caught.value) == (
        "areplay() end after yield #4 is invalid:\n"
        "  expected an 'end' event after [3], got the stream's end"
    )


def test_a_generator_that_ends_early_raises_when_it_stops() -> None:
    stream = replay(EVENTS[:2])
    assert [next(stream), next(stream)] == EVENTS[:2]
    with pytest.raises(CheckYieldViolation) as caught:
        next(stream)
    assert caught.value.where == "end after yield #2"


def test_a_changed_identity_raises_at_its_yield_in_an_async_stream() -> None:
    events = [EVENTS[0], {**EVENTS[1], "trace_id": "t-2"}, *EVENTS[2:]]
    with pytest.raises(CheckYieldViolation) as caught:
        asyncio.run(drain(areplay(events)))
    assert caught.value.where == "yield #2"
    assert caught.value.issues == [
        Issue(("trace_id",), "sequence", "expected 't-1' as in [0], got 't-2'")
    ]


def test_chat_chunk_streams_are_checked_too() -> None:
    @checked
    def chunks(items: list[Any]) -> Iterator[ChatCompletionStreamResponse]:
        yield from items

    items = chat_stream()
    assert list(chunks(items)) == items
    items[0]["choices"][0]["delta"]["role"] = None
    with pytest.raises(CheckYieldViolation) as caught:
        list(chunks(items))
    assert caught.value.where == "yield #1"
    assert caught.value.issues == [
        Issue(
            ("choices", 0, "delta", "role"),
            "sequence",
            "expected 'assistant' on choice 0's first delta, got None",
        )
    ]


def test_off_mode_checks_nothing() -> None:
    with override_checks("off"):

        @checked
        def loose(events: list[Any]) -> Iterator[StreamEvent]:
            yield from events

    assert list(loose(EVENTS[:-1])) == EVENTS[:-1]


def test_a_sampled_call_checks_its_whole_stream() -> None:
    with override_checks("sample:2"):

        @checked
        def sampled(events: list[Any]) -> Iterator[StreamEvent]:
            yield from events

    with pytest.raises(CheckYieldViolation) as caught:
        list(sampled(EVENTS[:-1]))  # the first call is checked
    assert caught.value.where == "end after yield #4"
    assert list(sampled(EVENTS[:-1])) == EVENTS[:-1]  # the second is not
    with pytest.raises(CheckYieldViolation):
        list(sampled(EVENTS[:-1]))


def test_the_echo_engine_stream_passes_under_checks() -> None:
    @checked
    async def served(prompt: str) -> AsyncIterator[StreamEvent]:
        engine = EchoEngine("e-1")
        await engine.start()
        request: Any = {"request_id": "r", "trace_id": "t", "max_tokens": 8, "prompt": prompt}
        async for event in engine.stream(request):
            yield event

    events = asyncio.run(drain(served("one two three")))
    assert [event["event"] for event in events] == ["start", "delta", "delta", "delta", "end"]
