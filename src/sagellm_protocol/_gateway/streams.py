"""Engine stream events to OpenAI chunks, and chunks to server-sent events, sync and async.

One :class:`_Chunker` per stream turns each event into its chunks as it arrives, after the
registered stream rules (:func:`~sagellm_protocol.validation.stream_checker`) accept it: the
converters and :func:`~sagellm_protocol.validation.validate_stream` share that one definition
of a valid stream. The sync and the async drivers only feed it.
"""

import json
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

from ..core import StreamEvent
from ..openai import ChatCompletionStreamResponse, ChatCompletionUsage, CompletionResponse
from ..validation import ValidationError, stream_checker
from .common import ConversionError, finish_reason, now, usage
from .errors import error_to_openai

__all__ = [
    "ChatChunker",
    "CompletionChunker",
    "EventConverter",
    "achunks",
    "aencode_sse",
    "chunks",
    "encode_sse",
]

C = TypeVar("C", ChatCompletionStreamResponse, CompletionResponse)
T = TypeVar("T")


class EventConverter(Protocol[T]):
    """What the drivers feed: one stream's converter (the chunkers, the Responses events)."""

    def feed(self, event: StreamEvent) -> list[T]:
        """The output for ``event``, after the stream rules accept it."""
        ...

    def close(self) -> None:
        """``ValidationError`` if the stream stopped before its end event."""
        ...


_DONE: Final = b"data: [DONE]\n\n"
_log: Final = logging.getLogger("sagellm_protocol.gateway")


class _Chunker(Generic[C]):
    """The chunks of one engine stream, event by event; :meth:`close` at the stream's end."""

    prefix: str = ""
    """The chunk id's prefix, before ``-<request_id>``."""
    tag: str = ""
    """The chunks' ``object``."""

    def __init__(self, *, model: str, include_usage: bool, created: int | None) -> None:
        self._checker = stream_checker(StreamEvent)
        self.model = model
        self.include_usage = include_usage
        self.created = now() if created is None else created
        self.chunk_id = ""
        self._prompt_tokens: int | None = None

    def feed(self, event: StreamEvent) -> list[C]:
        """The chunks for ``event``; ``ValidationError`` if the stream rules reject it,
        ``ConversionError`` with the engine's error for a failed end."""
        self._checker.feed(event)
        if event["event"] == "start":
            self.chunk_id = f"{self.prefix}-{event['request_id']}"
            self._prompt_tokens = event.get("prompt_tokens")
            return self.started()
        if event["event"] == "delta":
            return [self.text(event["content"], None)]
        finished = [self.text("", finish_reason(event["finish_reason"], event.get("error")))]
        end_prompt = event.get("prompt_tokens")
        counted = usage(
            self._prompt_tokens if end_prompt is None else end_prompt,
            len(event["output_tokens"]),
        )
        if self.include_usage and counted is not None:
            finished.append(self.usage_chunk(counted))
        return finished

    def close(self) -> None:
        """``ValidationError`` if the stream stopped before its end event."""
        self._checker.close()

    def chunk(self, choices: list[dict[str, Any]], **more: Any) -> C:
        """A chunk of this stream (its id, object tag, ``created`` and model) with ``choices``."""
        built: dict[str, Any] = {"id": self.chunk_id, "object": self.tag, "created": self.created}
        built.update(model=self.model, choices=choices, **more)
        return built  # type: ignore[return-value]  # built to C's shape

    def usage_chunk(self, counted: ChatCompletionUsage) -> C:
        """The last chunk of a stream with ``include_usage``: no choices, the usage."""
        return self.chunk([], usage=counted)

    def started(self) -> list[C]:
        raise NotImplementedError

    def text(self, text: str, finish: str | None) -> C:
        raise NotImplementedError


class ChatChunker(_Chunker[ChatCompletionStreamResponse]):
    """``chat.completion.chunk``: a role chunk first; ``usage: null`` on every chunk with
    ``include_usage``."""

    prefix = "chatcmpl"
    tag = "chat.completion.chunk"

    def _delta(self, delta: dict[str, Any], finish: str | None) -> ChatCompletionStreamResponse:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return self.chunk([choice], usage=None) if self.include_usage else self.chunk([choice])

    def started(self) -> list[ChatCompletionStreamResponse]:
        return [self._delta({"role": "assistant", "content": ""}, None)]

    def text(self, text: str, finish: str | None) -> ChatCompletionStreamResponse:
        return self._delta({"content": text} if finish is None else {}, finish)


class CompletionChunker(_Chunker[CompletionResponse]):
    """Legacy ``text_completion`` chunks: none for the start (no role), no ``usage`` key but
    on the usage chunk."""

    prefix = "cmpl"
    tag = "text_completion"

    def started(self) -> list[CompletionResponse]:
        return []

    def text(self, text: str, finish: str | None) -> CompletionResponse:
        return self.chunk([{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}])


def chunks(events: Iterable[StreamEvent], chunker: EventConverter[T]) -> Iterator[T]:
    """``chunker``'s chunks for ``events``, read lazily; the events' iterator is closed when
    the chunks are (a client gone) or the stream fails."""
    iterator = iter(events)
    try:
        for event in iterator:
            yield from chunker.feed(event)
        chunker.close()
    finally:
        _close(iterator)


async def achunks(
    events: AsyncIterable[StreamEvent], chunker: EventConverter[T]
) -> AsyncIterator[T]:
    """As :func:`chunks`, for an engine's async stream: each chunk leaves as its event comes."""
    iterator = aiter(events)
    try:
        async for event in iterator:
            for chunk in chunker.feed(event):
                yield chunk
        chunker.close()
    finally:
        await _aclose(iterator)


def _close(iterator: Iterator[Any]) -> None:
    """Close ``iterator`` if it can be (a generator): what it holds is released now."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    """Close ``iterator`` if it can be (an async generator, an engine's stream)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def _event(chunk: Mapping[str, Any]) -> bytes:
    text = json.dumps(chunk, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return b"data: " + text.encode("utf-8") + b"\n\n"


def _failure(error: ConversionError | ValidationError) -> bytes:
    """The last data line of a stream that failed after its first chunk was sent."""
    if isinstance(error, ConversionError):
        return _event(error_to_openai(error.error)[1])
    # The engine broke the stream contract: the server's fault, logged for its operator.
    _log.error("the engine's stream broke Protocol v0.1: %s", error)
    return _event(
        {
            "error": {
                "message": f"the engine's stream broke Protocol v0.1: {error}",
                "type": "server_error",
                "param": None,
                "code": "invalid_stream",
            }
        }
    )


def encode_sse(chunks: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Server-sent-event lines for ``chunks``: ``data: <json>\\n\\n`` each (compact UTF-8
    JSON), then ``data: [DONE]\\n\\n``.

    A ``ConversionError`` from ``chunks`` (the engine's failed end) becomes a last data line
    with :func:`error_to_openai`'s body, and a ``ValidationError`` (an engine stream breaking
    the protocol, logged on ``sagellm_protocol.gateway``) a ``server_error`` body: the SDK
    raises ``APIError`` with its message instead of reading a cut stream.
    """
    iterator = iter(chunks)
    try:
        for chunk in iterator:
            yield _event(chunk)
    except (ConversionError, ValidationError) as error:
        yield _failure(error)
    finally:
        _close(iterator)
    yield _DONE


async def aencode_sse(chunks: AsyncIterable[Mapping[str, Any]]) -> AsyncIterator[bytes]:
    """As :func:`encode_sse`, for async chunks: the body of a FastAPI ``StreamingResponse``.
    Closing the lines (a client gone) closes ``chunks``, and through them the engine's stream."""
    iterator = aiter(chunks)
    try:
        async for chunk in iterator:
            yield _event(chunk)
    except (ConversionError, ValidationError) as error:
        yield _failure(error)
    finally:
        await _aclose(iterator)
    yield _DONE
