"""``EchoEngine``: a reference :class:`~sagellm_protocol.engine.Engine` that echoes its input."""

import asyncio
import math
import re
import time
import zlib
from collections.abc import AsyncIterator

from ..core import (
    Metrics,
    Phase,
    Request,
    Response,
    StreamEvent,
    StreamEventDelta,
    StreamEventEnd,
    metrics_from_timestamps,
)
from ..openai import message_text

__all__ = ["EchoEngine", "echo_tokenize"]

_PIECE = re.compile(r"\s+|\S+\s*")


def echo_tokenize(text: str) -> list[tuple[str, int]]:
    """Split ``text`` into ``(piece, token id)`` pairs with a trivial deterministic tokenizer.

    A piece is a run of non-whitespace with the whitespace after it (leading whitespace is a
    piece of its own), so the pieces join back to ``text``. The id is the CRC-32 of the
    piece's UTF-8 bytes, in [0, 2**32): the same piece has the same id in every process.
    """
    return [
        (match.group(), zlib.crc32(match.group().encode("utf-8")))
        for match in _PIECE.finditer(text)
    ]


def _input_text(request: Request) -> str:
    """The prompt, else the text of the last user message, else ``""``."""
    prompt = request.get("prompt", "")
    if prompt:
        return prompt
    for message in reversed(request.get("messages") or []):
        if message["role"] == "user":
            return message_text(message.get("content"))
    return ""


class _Clock:
    """Unix-second stamps and inter-token latencies of one request, never running backwards.

    ``time.time()`` is read once and advanced by ``time.perf_counter()``: a wall-clock step
    (NTP) in mid-request would otherwise make the timestamps unordered.
    """

    __slots__ = ("_last_token", "_start", "_wall", "executed_at", "itl_ms", "scheduled_at")

    def __init__(self) -> None:
        self._wall = time.time()
        self._start = time.perf_counter()
        self._last_token: float | None = None
        self.scheduled_at = self._wall
        self.executed_at: float | None = None
        self.itl_ms: list[float] = []

    def _at(self, counter: float) -> float:
        return self._wall + (counter - self._start)

    def schedule(self) -> None:
        """The engine starts working on the request now."""
        self.scheduled_at = self._at(time.perf_counter())

    def token(self) -> None:
        """A token was produced now."""
        counter = time.perf_counter()
        if self._last_token is None:
            self.executed_at = self._at(counter)
        else:
            self.itl_ms.append((counter - self._last_token) * 1000.0)
        self._last_token = counter

    def metrics(self, output_tokens: int, phase: Phase | None) -> Metrics:
        """Metrics of a request completed now; ``phase`` sets ``prefill_ms``/``decode_ms``."""
        completed_at = self._at(time.perf_counter())
        metrics = metrics_from_timestamps(
            {
                "queued_at": self._wall,
                "scheduled_at": self.scheduled_at,
                "executed_at": completed_at if self.executed_at is None else self.executed_at,
                "completed_at": completed_at,
            },
            output_tokens,
            itl_list=self.itl_ms,
        )
        phase_ms = (completed_at - self.scheduled_at) * 1000.0
        if phase == "prefill":
            metrics["prefill_ms"] = phase_ms
        elif phase == "decode":
            metrics["decode_ms"] = phase_ms
        return metrics


def _as_response(end: StreamEventEnd) -> Response:
    return {
        "request_id": end["request_id"],
        "trace_id": end["trace_id"],
        "output_text": end["content"],
        "output_tokens": end["output_tokens"],
        "prompt_tokens": end.get("prompt_tokens"),
        "finish_reason": end["finish_reason"],
        "metrics": end["metrics"],
    }


class EchoEngine:
    """A reference :class:`~sagellm_protocol.engine.Engine` with no model: it echoes its input.

    The output is the prompt, or the content of the last user message, tokenized by
    :func:`echo_tokenize` and cut to ``max_tokens`` (then ``finish_reason`` is ``"length"``,
    else ``"stop"``); ``prompt_tokens`` is the input's token count. Timestamps, inter-token
    latencies and metrics are measured; ``peak_mem_mb`` is 0. Requests are not validated (a
    prompt wins over messages): check them with ``validate()`` or ``@checked``. ``stop()``
    does not interrupt generations already running.
    """

    def __init__(self, engine_id: str = "echo-engine", *, token_delay_s: float = 0.0) -> None:
        """``token_delay_s`` (seconds, finite, >= 0) is awaited before each token."""
        if not 0.0 <= token_delay_s < math.inf:
            raise ValueError(f"expected 0 <= token_delay_s < inf, got {token_delay_s!r}")
        self._engine_id = engine_id
        self._token_delay_s = token_delay_s
        self._running = False
        self._prefilled: dict[str, list[tuple[str, int]]] = {}

    @property
    def engine_id(self) -> str:
        """This instance's identifier, carried by every stream event."""
        return self._engine_id

    async def start(self) -> None:
        """Begin serving; does nothing when already running."""
        self._running = True

    async def stop(self) -> None:
        """Stop serving and drop every prefilled KV cache; does nothing when stopped."""
        self._running = False
        self._prefilled.clear()

    async def health_check(self) -> bool:
        """Whether the engine is running."""
        return self._running

    async def execute(self, request: Request) -> Response:
        """Echo the input back, at most ``max_tokens`` tokens. ``RuntimeError`` before start."""
        self._require_running("execute")
        clock = _Clock()
        tokens = echo_tokenize(_input_text(request))
        clock.schedule()
        return _as_response(await self._run(request, tokens, request["max_tokens"], clock, None))

    def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        """Echo the input as a start event, one delta per token and an end event.

        Raises ``RuntimeError`` at the call when the engine is not running.
        """
        self._require_running("stream")
        return self._events(request, _Clock())

    async def prefill(self, request: Request) -> Response:
        """Tokenize the input, keep it as this request's "KV cache" and return the first token.

        ``finish_reason`` is ``"stop"`` when the input has at most one token, else
        ``"length"`` (prefill yields one token). ``RuntimeError`` before start.
        """
        self._require_running("prefill")
        clock = _Clock()
        tokens = echo_tokenize(_input_text(request))
        clock.schedule()
        end = await self._run(request, tokens, 1, clock, "prefill")
        self._prefilled[request["request_id"]] = tokens
        return _as_response(end)

    async def decode(self, request: Request) -> Response:
        """Echo the input kept by :meth:`prefill` for ``request_id``, at most ``max_tokens``.

        The request's own prompt and messages are ignored; the kept input is released.
        ``LookupError`` when this engine prefilled no such request, ``RuntimeError`` before
        start.
        """
        self._require_running("decode")
        clock = _Clock()
        tokens = self._prefilled.pop(request["request_id"], None)
        if tokens is None:
            raise LookupError(
                f"EchoEngine {self._engine_id!r} holds no prefilled KV cache for request "
                f"{request['request_id']!r}: call prefill() first"
            )
        clock.schedule()
        return _as_response(
            await self._run(request, tokens, request["max_tokens"], clock, "decode")
        )

    def _require_running(self, method: str) -> None:
        if not self._running:
            raise RuntimeError(
                f"EchoEngine {self._engine_id!r} is not running: call start() before {method}()"
            )

    async def _events(self, request: Request, clock: _Clock) -> AsyncIterator[StreamEvent]:
        tokens = echo_tokenize(_input_text(request))
        clock.schedule()
        yield {
            "event": "start",
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "engine_id": self._engine_id,
            "prompt_tokens": len(tokens),
        }
        limit = request["max_tokens"]
        deltas: list[StreamEventDelta] = []
        async for delta in self._deltas(request, tokens[:limit], clock):
            deltas.append(delta)
            yield delta
        yield self._end(request, tokens, limit, deltas, clock, None)

    async def _run(
        self,
        request: Request,
        tokens: list[tuple[str, int]],
        limit: int,
        clock: _Clock,
        phase: Phase | None,
    ) -> StreamEventEnd:
        deltas = [delta async for delta in self._deltas(request, tokens[:limit], clock)]
        return self._end(request, tokens, limit, deltas, clock, phase)

    async def _deltas(
        self, request: Request, output: list[tuple[str, int]], clock: _Clock
    ) -> AsyncIterator[StreamEventDelta]:
        for piece, token_id in output:
            # Even a zero delay yields to the event loop, as a real engine awaiting a device would.
            await asyncio.sleep(self._token_delay_s)
            clock.token()
            yield {
                "event": "delta",
                "request_id": request["request_id"],
                "trace_id": request["trace_id"],
                "engine_id": self._engine_id,
                "content": piece,
                "content_tokens": [token_id],
            }

    def _end(
        self,
        request: Request,
        tokens: list[tuple[str, int]],
        limit: int,
        deltas: list[StreamEventDelta],
        clock: _Clock,
        phase: Phase | None,
    ) -> StreamEventEnd:
        output_tokens = [token_id for delta in deltas for token_id in delta["content_tokens"]]
        return {
            "event": "end",
            "request_id": request["request_id"],
            "trace_id": request["trace_id"],
            "engine_id": self._engine_id,
            "prompt_tokens": len(tokens),
            "content": "".join(delta["content"] for delta in deltas),
            "output_tokens": output_tokens,
            "finish_reason": "length" if len(tokens) > limit else "stop",
            "metrics": clock.metrics(len(output_tokens), phase),
        }
