"""Typing tests of sagellm_protocol.runtime (checked by mypy, never executed)."""

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

from typing_extensions import assert_type

from sagellm_protocol.core import Request, Response, StreamEvent
from sagellm_protocol.runtime import (
    CheckViolation,
    ConformanceProblem,
    checked,
    checked_package,
    checks_mode,
    conformance,
    set_checks_mode,
)
from sagellm_protocol.validation import Issue, ValidationError


def generate(request: Request) -> Response:
    raise NotImplementedError


async def execute(request: Request) -> Response:
    raise NotImplementedError


def stream(request: Request) -> Iterator[StreamEvent]:
    yield from ()


async def astream(request: Request) -> AsyncIterator[StreamEvent]:
    if request:
        yield {"event": "start", "request_id": "r", "trace_id": "t", "engine_id": "e"}


REQUEST: Request = {"request_id": "r", "trace_id": "t", "max_tokens": 1}

# The decorated function's type is unchanged, bare or with options: the same def type (mypy
# shows "def generate(request: Request) -> Response"), parameter names included.
assert_type(checked(generate)(request=REQUEST), Response)
checked(generate)(req=REQUEST)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
assert_type(checked(default_mode="sample:10")(generate)(REQUEST), Response)
coroutine = assert_type(checked(execute)(REQUEST), Coroutine[Any, Any, Response])  # pyright: ignore[reportAssertTypeFailure]
assert_type(checked(stream)(REQUEST), Iterator[StreamEvent])
assert_type(checked(yields=False)(astream)(REQUEST), AsyncIterator[StreamEvent])
decorated: Callable[[Request], Response] = checked(generate)
wrong: Callable[[int], Response] = checked(generate)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


class Backend:
    @checked
    def generate(self, request: Request) -> Response:
        raise NotImplementedError

    @checked
    @classmethod
    def build(cls) -> "Backend":
        return cls()

    @checked
    @staticmethod
    def helper(request: Request) -> int:
        return request["max_tokens"]


@checked
class Engine:
    def run(self, request: Request) -> Response:
        raise NotImplementedError


assert_type(Backend().generate(request=REQUEST), Response)
assert_type(Backend.build(), Backend)
assert_type(Backend.helper(REQUEST), int)
assert_type(Engine().run(request=REQUEST), Response)
assert_type(Engine, type[Engine])

# Wrong arguments still fail mypy through the decorator.
checked(generate)({"request_id": "r"})  # type: ignore[typeddict-item]  # pyright: ignore[reportArgumentType]
checked(default_mode=1)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
checked(generate, yields=False)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]

assert_type(checks_mode(), str)
assert_type(set_checks_mode("on"), str | None)
assert_type(checked_package("pkg"), bool)
assert_type(conformance(Backend, type), list[ConformanceProblem])


def handle(error: CheckViolation) -> None:
    assert_type(error.issues, list[Issue])
    assert_type(error.function, str)
    assert_type(error.where, str)
    validation_error: ValidationError = error
