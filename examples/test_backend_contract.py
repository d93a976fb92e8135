"""A backend repo's contract tests: run with ``python -m pytest examples/test_backend_contract.py``.

``ShoutingEngine`` stands in for your engine (it wraps the reference ``EchoEngine`` and shouts).
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagellm_protocol import (
    CheckViolation,
    Engine,
    Request,
    Response,
    StreamEvent,
    checked,
    conformance,
)
from sagellm_protocol.testing import EchoEngine
from sagellm_protocol.testing.strategies import mutations


@checked  # every call's request, response and streamed event is validated
class ShoutingEngine:
    def __init__(self) -> None:
        self._inner = EchoEngine("shouting-0")

    @property
    def engine_id(self) -> str:
        return self._inner.engine_id

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def health_check(self) -> bool:
        return await self._inner.health_check()

    async def execute(self, request: Request) -> Response:
        response = await self._inner.execute(request)
        return {**response, "output_text": response["output_text"].upper()}

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        async for event in self._inner.stream(request):
            yield event

    async def prefill(self, request: Request) -> Response:
        return await self._inner.prefill(request)

    async def decode(self, request: Request) -> Response:
        return await self._inner.decode(request)


async def _execute(request: Request) -> Response:
    engine = ShoutingEngine()
    await engine.start()
    return await engine.execute(request)


async def _stream(request: Request) -> list[StreamEvent]:
    engine = ShoutingEngine()
    await engine.start()
    return [event async for event in engine.stream(request)]


def test_it_is_an_engine() -> None:
    assert conformance(ShoutingEngine(), Engine) == []


@settings(max_examples=50, deadline=None)
@given(st.from_type(Request))  # valid requests: bounds and cross-field rules hold
def test_every_valid_request_gets_a_valid_response(request: Request) -> None:
    response = asyncio.run(_execute(request))  # @checked has validated it
    assert response["request_id"] == request["request_id"]


@settings(max_examples=50, deadline=None)
@given(st.from_type(Request))
def test_every_stream_starts_and_ends(request: Request) -> None:
    events = asyncio.run(_stream(request))  # @checked has validated every event
    assert [events[0]["event"], events[-1]["event"]] == ["start", "end"]


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_every_single_fault_is_caught_where_it_is(data: st.DataObject) -> None:
    request = data.draw(st.from_type(Request))
    mutation = data.draw(st.sampled_from(mutations(Request, request)))
    with pytest.raises(CheckViolation) as caught:  # the fault, at its path, and nothing else
        asyncio.run(_execute(mutation.value))
    assert [(i.path, i.code) for i in caught.value.issues] == [(mutation.path, mutation.code)]
