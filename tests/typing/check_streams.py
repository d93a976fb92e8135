"""Typing checks for stream validation (mypy and basedpyright, never executed)."""

from collections.abc import Iterator

from typing_extensions import assert_type

from sagellm_protocol import (
    ChatCompletionStreamResponse,
    CheckViolation,
    CheckYieldViolation,
    CompletionResponse,
    StreamChecker,
    StreamEvent,
    stream_checker,
    validate_stream,
)


def events() -> Iterator[object]:
    yield {}


assert_type(validate_stream(StreamEvent, events()), list[StreamEvent])
assert_type(validate_stream(CompletionResponse, []), list[CompletionResponse])
assert_type(validate_stream(ChatCompletionStreamResponse, [{}]), list[ChatCompletionStreamResponse])

live = stream_checker(StreamEvent)
assert_type(live, StreamChecker[StreamEvent])
assert_type(live.feed({}), StreamEvent)
assert_type(live.close(), None)
assert_type(live.count, int)

failure: CheckViolation = CheckYieldViolation("f", "yield #1", [])

live.feed()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
validate_stream(StreamEvent, 3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
bad: list[CompletionResponse] = validate_stream(StreamEvent, [])  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
