"""Static checks of the Engine protocol (run under mypy --strict, never executed)."""

from collections.abc import AsyncIterator

from typing_extensions import assert_type

from sagellm_protocol.core import Request, Response, StreamEvent
from sagellm_protocol.engine import Engine
from sagellm_protocol.testing.engine import EchoEngine, echo_tokenize

_: Engine = EchoEngine()
_named: Engine = EchoEngine("echo-1", token_delay_s=0.01)
assert_type(echo_tokenize("a b"), list[tuple[str, int]])


async def drive(engine: Engine, request: Request) -> None:
    await engine.start()
    assert_type(engine.engine_id, str)
    assert_type(await engine.health_check(), bool)
    assert_type(await engine.execute(request), Response)
    assert_type(engine.stream(request), AsyncIterator[StreamEvent])
    async for event in engine.stream(request):
        assert_type(event, StreamEvent)
    assert_type(await engine.prefill(request), Response)
    assert_type(await engine.decode(request), Response)
    await engine.stop()
    engine.engine_id = "other"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]


class _Complete:
    """Every member, with the right signatures: an Engine without inheriting from it."""

    @property
    def engine_id(self) -> str:
        return "complete"

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def health_check(self) -> bool:
        return True

    async def execute(self, request: Request) -> Response:
        raise NotImplementedError

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        yield {
            "event": "start",
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "engine_id": "complete",
        }

    async def prefill(self, request: Request) -> Response:
        raise NotImplementedError

    async def decode(self, request: Request) -> Response:
        raise NotImplementedError


_complete: Engine = _Complete()


class _NoHealthCheck:
    """Lacks health_check."""

    engine_id = "no-health"

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def execute(self, request: Request) -> Response:
        raise NotImplementedError

    def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def prefill(self, request: Request) -> Response:
        raise NotImplementedError

    async def decode(self, request: Request) -> Response:
        raise NotImplementedError


_missing: Engine = _NoHealthCheck()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class _SyncExecute(EchoEngine):
    """``execute`` returns a Response directly instead of a coroutine."""

    def execute(self, request: Request) -> Response:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        raise NotImplementedError


_sync: Engine = _SyncExecute()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class _CoroutineStream(EchoEngine):
    """``stream`` is a coroutine returning an iterator: it must be awaited before iterating."""

    async def stream(  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        self, request: Request
    ) -> AsyncIterator[StreamEvent]:
        return super().stream(request)


_coroutine_stream: Engine = _CoroutineStream()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class _WrongResult(EchoEngine):
    """``prefill`` returns token ids instead of a Response."""

    async def prefill(self, request: Request) -> list[int]:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        return []


_wrong_result: Engine = _WrongResult()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
