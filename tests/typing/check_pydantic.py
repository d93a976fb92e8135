"""Validated[T] is T to the type checker."""

from typing_extensions import assert_type

from sagellm_protocol import Request, StreamEvent
from sagellm_protocol.pydantic import Validated


def engine(body: Validated[Request], events: list[Validated[StreamEvent]]) -> None:
    assert_type(body, Request)
    assert_type(events, list[StreamEvent])
    body["max_tokens"] = "4"  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
