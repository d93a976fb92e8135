"""The gateway's conversions between OpenAI's Responses API and Protocol v0.1.

- :func:`responses_request_to_request`: a ``POST /v1/responses`` body to a
  :class:`~sagellm_protocol.Request`;
- :func:`response_to_responses`: the engine's :class:`~sagellm_protocol.Response` to the
  response object;
- :func:`stream_to_responses_events`: the engine's stream events to Responses stream events,
  and :func:`encode_responses_sse` to server-sent-event lines.

The rules are :mod:`~sagellm_protocol.gateway`'s: invalid input raises
:class:`~sagellm_protocol.ValidationError`; valid input that Protocol v0.1 cannot carry raises
:class:`~sagellm_protocol.gateway.ConversionError` naming the field; nothing is dropped
silently: each request field is mapped, carried verbatim under ``Request.metadata["openai"]``,
or rejected. docs/responses.md lists every field.
"""

import copy
import json
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Final, Literal

from ._gateway.common import finish_reason, now
from ._gateway.streams import _aclose, _close, achunks, chunks
from .core import Error, ErrorCode, Request, Response, StreamEvent
from .gateway import (
    DEFAULT_MAX_TOKENS,
    OPENAI_METADATA_KEY,
    _checked,
    _reject,
    _sampling_params,
)
from .openai import ChatCompletionContentPart, ChatMessage
from .responses import (
    ResponsesError,
    ResponsesItemStatus,
    ResponsesOutputMessage,
    ResponsesOutputText,
    ResponsesRequest,
    ResponsesResponse,
    ResponsesStreamEvent,
    ResponsesUsage,
)
from .validation import ValidationError, stream_checker, validate

__all__ = [
    "aencode_responses_sse",
    "astream_to_responses_events",
    "encode_responses_sse",
    "response_to_responses",
    "responses_request_to_request",
    "stream_to_responses_events",
]

# ---------------------------------------------------------------------------------------------
# Requests

_SAMPLING_KEYS: Final = (
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "seed",
    "stop",
    "skip_special_tokens",
)
"""Request fields that become ``SamplingParams`` (as in the chat conversion)."""

_HANDLED: Final = frozenset(
    {*_SAMPLING_KEYS, "model", "input", "instructions", "max_output_tokens", "stream", "trace_id"}
)
"""Request fields that map onto ``Request`` keys; every other field goes to metadata."""

_NO_STORE: Final = "this gateway keeps no responses or conversations"
_REJECTED: Final[Mapping[str, tuple[tuple[object, ...], str, str]]] = {
    "previous_response_id": ((), "null", _NO_STORE),
    "conversation": ((), "null", _NO_STORE),
    "prompt": ((), "null", "this gateway keeps no prompt templates"),
    "store": ((False,), "false or null", _NO_STORE),
    "background": ((False,), "false or null", "responses are generated while the client waits"),
    "top_logprobs": ((0,), "0 or null", "Protocol v0.1 responses carry no log probabilities"),
}
"""Fields the engine cannot honour: the values allowed, how to say them, and why."""

_REJECTED_INCLUDES: Final[Mapping[str, str]] = {
    "message.output_text.logprobs": "Protocol v0.1 responses carry no log probabilities",
    "reasoning.encrypted_content": "the engine does not encrypt reasoning",
}


def responses_request_to_request(
    body: ResponsesRequest,
    *,
    request_id: str,
    trace_id: str,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    reject_unknown_keys: bool = False,
) -> Request:
    """The engine ``Request`` for a ``/v1/responses`` body.

    ``instructions`` becomes a first ``system`` message and ``input`` the messages after it
    (a string is one ``user`` message): message items keep their role, with ``input_text``
    and ``output_text`` parts as ``text`` parts, ``input_image`` as ``image_url`` and
    ``input_file`` as ``file`` parts; ``function_call`` items become the ``tool_calls`` of an
    assistant message, ``function_call_output`` items ``tool`` messages, and reasoning text
    the ``reasoning`` of the next assistant message. Items' ``id`` and ``status``
    (bookkeeping of a stored conversation) are not passed on; their other keys are.
    ``temperature``, ``top_p`` and vLLM's ``top_k``, ``repetition_penalty``, ``seed``,
    ``stop`` and ``skip_special_tokens`` become ``sampling_params``; ``max_output_tokens``
    (else ``default_max_tokens``) ``max_tokens``; the body's ``trace_id`` wins over the
    argument. Every other field (``tools``, ``text``, ``reasoning``, ``metadata`` …, vendor
    keys too) is carried verbatim under ``metadata["openai"]``. With ``reject_unknown_keys``
    the body is held to the keys OpenAI and the declared extensions know, as in
    :func:`~sagellm_protocol.gateway.chat_request_to_request`.

    Raises ``ValidationError`` for a body that is not a valid ``ResponsesRequest``, and
    ``ConversionError`` for one the engine cannot answer as asked (``not_implemented``):
    ``previous_response_id``, ``conversation``, ``prompt``, ``store: true`` (this gateway
    stores nothing), ``background``, log probabilities, ``item_reference`` items, encrypted
    reasoning, images or files by id or URL the engine cannot read; and for ``top_p`` 0,
    ``repetition_penalty`` < 1 or ``max_output_tokens`` 0 (``invalid_argument``).
    """
    _checked(ResponsesRequest, body, reject_unknown_keys)
    for key, (allowed, expected, reason) in _REJECTED.items():
        value = body.get(key)
        if value is not None and value not in allowed:
            raise _reject("not_implemented", key, f"expected {expected} ({reason}), got {value!r}")
    for position, included in enumerate(body.get("include") or ()):
        if included in _REJECTED_INCLUDES:
            raise _reject(
                "not_implemented",
                f"include[{position}]",
                f"expected no {included!r} ({_REJECTED_INCLUDES[included]})",
            )
    limit = body.get("max_output_tokens")
    if limit is not None and limit < 1:
        raise _reject("invalid_argument", "max_output_tokens", f"expected an int > 0, got {limit}")
    request: Request = {
        "request_id": request_id,
        "trace_id": body.get("trace_id") or trace_id,
        "model": body["model"],
        "messages": _messages(body),
        "max_tokens": default_max_tokens if limit is None else limit,
        "stream": bool(body.get("stream")),
    }
    params = _sampling_params({key: body[key] for key in _SAMPLING_KEYS if key in body})
    if params:
        request["sampling_params"] = params
    carried = {key: copy.deepcopy(value) for key, value in body.items() if key not in _HANDLED}
    if carried:
        request["metadata"] = {OPENAI_METADATA_KEY: carried}
    return request


_BOOKKEEPING: Final = frozenset({"type", "id", "status"})
"""Item keys that only identify an item in a stored conversation."""


def _messages(body: Mapping[str, Any]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    instructions = body.get("instructions")
    if instructions is not None:
        messages.append({"role": "system", "content": instructions})
    items = body.get("input", [])
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
        return messages
    reasoning: list[str] = []
    for position, item in enumerate(items):
        where = f"input[{position}]"
        # A message may leave out its type; so may a reference, which has no role.
        kind = item.get("type") or ("message" if "role" in item else "item_reference")
        message: ChatMessage | None
        if kind == "message":
            message = _message(item, where)
        elif kind == "function_call":
            message = _function_call(item, messages, reasoning)
        elif kind == "function_call_output":
            message = {
                "role": "tool",
                "tool_call_id": item["call_id"],
                "content": _output(item, where),
            }
        elif kind == "reasoning":
            reasoning.append(_reasoning_text(item, where))
            continue
        else:  # item_reference, the one other kind ResponsesInputItem declares
            raise _reject(
                "not_implemented",
                where,
                f"expected a message or call, not a reference ({_NO_STORE})",
            )
        if message is None:  # a call added to the assistant message before it
            continue
        if message["role"] == "assistant" and reasoning:
            message["reasoning"] = "".join(reasoning)
            reasoning.clear()
        messages.append(message)
    if reasoning:
        messages.append({"role": "assistant", "reasoning": "".join(reasoning)})
    return messages


def _extra(item: Mapping[str, Any], *declared: str) -> dict[str, Any]:
    """The item's keys that are neither bookkeeping nor ``declared``, copied."""
    skipped = _BOOKKEEPING.union(declared)
    return {key: copy.deepcopy(value) for key, value in item.items() if key not in skipped}


def _message(item: Mapping[str, Any], where: str) -> ChatMessage:
    message: dict[str, Any] = _extra(item, "role", "content")
    content = item["content"]
    message["role"] = item["role"]
    message["content"] = (
        content
        if isinstance(content, str)
        else [_part(part, f"{where}.content[{index}]") for index, part in enumerate(content)]
    )
    return message  # type: ignore[return-value]  # keys checked by the request type


def _function_call(
    item: Mapping[str, Any], messages: list[ChatMessage], reasoning: list[str]
) -> ChatMessage | None:
    """The call as a tool call: added to the assistant message just before it (``None``
    returned) or to a new assistant message."""
    call = {
        "id": item["call_id"],
        "type": "function",
        "function": {"name": item["name"], "arguments": item["arguments"]},
    }
    previous = messages[-1] if messages else None
    if previous is not None and previous["role"] == "assistant" and not reasoning:
        previous["tool_calls"] = [*(previous.get("tool_calls") or ()), call]  # type: ignore[list-item]
        return None
    message: dict[str, Any] = _extra(item, "call_id", "name", "arguments")
    message.update(role="assistant", tool_calls=[call])
    return message  # type: ignore[return-value]


def _output(item: Mapping[str, Any], where: str) -> str | list[ChatCompletionContentPart]:
    output = item["output"]
    if isinstance(output, str):
        return output
    return [_part(part, f"{where}.output[{index}]") for index, part in enumerate(output)]


def _reasoning_text(item: Mapping[str, Any], where: str) -> str:
    if item.get("encrypted_content") is not None:
        raise _reject(
            "not_implemented",
            f"{where}.encrypted_content",
            "expected null (the engine cannot read another server's encrypted reasoning)",
        )
    parts = item.get("content") or item["summary"]
    return "".join(part["text"] for part in parts)


def _part(part: Mapping[str, Any], where: str) -> ChatCompletionContentPart:
    kind = part["type"]
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part["text"]}
    if kind == "refusal":
        return {"type": "refusal", "refusal": part["refusal"]}
    if kind == "input_image":
        url = part.get("image_url")
        if url is None:
            raise _reject(
                "not_implemented",
                f"{where}.image_url",
                "expected an image URL (the engine cannot read uploaded files by id), got none",
            )
        image: dict[str, Any] = {"url": url}
        if "detail" in part:
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}  # type: ignore[typeddict-item]
    if "file_url" in part:  # an input_file
        raise _reject(
            "not_implemented",
            f"{where}.file_url",
            "expected file_data or file_id (the engine does not fetch files), got a URL",
        )
    file = {
        key: part[key] for key in ("file_data", "file_id", "filename") if part.get(key) is not None
    }
    return {"type": "file", "file": file}  # type: ignore[typeddict-item]


# ---------------------------------------------------------------------------------------------
# Responses

_ECHOED: Final = (
    "instructions",
    "max_output_tokens",
    "temperature",
    "top_p",
    "top_logprobs",
    "max_tool_calls",
    "text",
    "reasoning",
    "metadata",
    "truncation",
    "service_tier",
    "user",
    "safety_identifier",
    "prompt_cache_key",
)
"""Request fields the response object repeats when the request set them."""

_ERROR_CODES: Final[Mapping[str, str]] = {
    "invalid_argument": "invalid_prompt",
    "resource_exhausted": "rate_limit_exceeded",
    "kv_priority_queue_full": "rate_limit_exceeded",
}
"""OpenAI's ``ResponsesError.code`` of a protocol error code; any other is ``server_error``."""


def _response_object(
    body: Mapping[str, Any], request_id: str, trace_id: str, created_at: float
) -> ResponsesResponse:
    """The response object at creation: in progress, no output, the request's settings."""
    answer: dict[str, Any] = {
        "id": f"resp_{request_id}",
        "object": "response",
        "created_at": created_at,
        "model": body["model"],
        "status": "in_progress",
        "output": [],
        "error": None,
        "incomplete_details": None,
        "usage": None,
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "tool_choice": copy.deepcopy(body.get("tool_choice") or "auto"),
        "tools": copy.deepcopy(body.get("tools") or []),
        "text": {"format": {"type": "text"}},
        "metadata": {},
        "store": False,
        "previous_response_id": None,
        "background": False,
        "trace_id": trace_id,
    }
    answer.update({key: copy.deepcopy(body[key]) for key in _ECHOED if body.get(key) is not None})
    return answer  # type: ignore[return-value]  # built to the type's shape


def _text_part(text: str) -> ResponsesOutputText:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(
    request_id: str, status: ResponsesItemStatus, text: str | None
) -> ResponsesOutputMessage:
    """The assistant message: with one ``output_text`` part, or none yet (``text`` None)."""
    return {
        "type": "message",
        "id": f"msg_{request_id}",
        "role": "assistant",
        "status": status,
        "content": [] if text is None else [_text_part(text)],
    }


def _item_status(finish: Literal["stop", "length"]) -> ResponsesItemStatus:
    return "incomplete" if finish == "length" else "completed"


def _usage(prompt_tokens: int | None, output_tokens: int) -> ResponsesUsage | None:
    if prompt_tokens is None:
        return None
    return {
        "input_tokens": prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt_tokens + output_tokens,
    }


def _finish(
    answer: ResponsesResponse, finish: Literal["stop", "length"], usage: ResponsesUsage | None
) -> None:
    """Mark ``answer`` completed (``stop``) or incomplete at the token limit (``length``)."""
    if finish == "length":
        answer["status"] = "incomplete"
        answer["incomplete_details"] = {"reason": "max_output_tokens"}
    else:
        answer["status"] = "completed"
        answer["completed_at"] = now()
    answer["usage"] = usage


def response_to_responses(
    response: Response, *, request: ResponsesRequest, created_at: float | None = None
) -> ResponsesResponse:
    """The ``/v1/responses`` answer for the engine's ``Response`` to ``request``.

    One assistant message (id ``msg_<request_id>``) with one ``output_text`` part; ``status``
    ``completed`` (finish ``stop``) or ``incomplete`` with ``incomplete_details.reason``
    ``max_output_tokens`` (finish ``length``); ``usage`` from ``prompt_tokens`` and the
    number of ``output_tokens`` (absent when the engine did not report ``prompt_tokens``;
    the engine reports no cached or reasoning tokens, so those are 0). The id is
    ``resp_<request_id>``; the request's settings are repeated (``store`` is false); the
    ``trace_id`` is kept. ``created_at`` defaults to now.

    Raises ``ValidationError`` for an invalid ``Response`` or request, and
    ``ConversionError`` carrying the response's own ``Error`` when generation failed.
    """
    validate(Response, response)
    validate(ResponsesRequest, request)
    finish = finish_reason(response["finish_reason"], response.get("error"))
    answer = _response_object(
        request,
        response["request_id"],
        response["trace_id"],
        now() if created_at is None else created_at,
    )
    answer["output"] = [
        _message_item(response["request_id"], _item_status(finish), response["output_text"])
    ]
    _finish(answer, finish, _usage(response.get("prompt_tokens"), len(response["output_tokens"])))
    return answer


# ---------------------------------------------------------------------------------------------
# Streams


def _failure(error: Error) -> ResponsesError:
    code = str(ErrorCode(error["code"]))
    return {"code": _ERROR_CODES.get(code, "server_error"), "message": error["message"]}


class _ResponsesEvents:
    """The Responses events of one engine stream, event by event (see
    :func:`stream_to_responses_events`); :meth:`close` at the stream's end."""

    def __init__(self, request: ResponsesRequest, created_at: int | None) -> None:
        validate(ResponsesRequest, request)
        self._checker = stream_checker(StreamEvent)
        self._request = request
        self._created_at = now() if created_at is None else created_at
        self._sequence = 0
        self._answer: ResponsesResponse | None = None
        self._item_id = ""
        self._prompt_tokens: int | None = None

    def _numbered(self, event: dict[str, Any]) -> ResponsesStreamEvent:
        event["sequence_number"] = self._sequence
        self._sequence += 1
        return event  # type: ignore[return-value]  # built to the type's shape

    def _text_event(self, kind: str, **keys: Any) -> ResponsesStreamEvent:
        place = {"item_id": self._item_id, "output_index": 0, "content_index": 0}
        return self._numbered({"type": kind, **place, **keys})

    def feed(self, event: StreamEvent) -> list[ResponsesStreamEvent]:
        """The Responses events for ``event``; ``ValidationError`` if the stream rules of
        ``StreamEvent`` reject it."""
        self._checker.feed(event)
        if event["event"] == "start":
            return self._started(event["request_id"], event["trace_id"], event.get("prompt_tokens"))
        if event["event"] == "delta":
            delta = event["content"]
            return [self._text_event("response.output_text.delta", delta=delta, logprobs=[])]
        answer = self._answer
        assert answer is not None  # the checker saw the start first
        error = event.get("error")
        if error is not None:
            answer["status"] = "failed"
            answer["error"] = _failure(error)
            return [self._numbered({"type": "response.failed", "response": answer})]
        finish = finish_reason(event["finish_reason"], None)
        text = event["content"]
        item = _message_item(event["request_id"], _item_status(finish), text)
        end_prompt = event.get("prompt_tokens")
        answer["output"] = [item]
        _finish(
            answer,
            finish,
            _usage(
                self._prompt_tokens if end_prompt is None else end_prompt,
                len(event["output_tokens"]),
            ),
        )
        terminal = "response.incomplete" if finish == "length" else "response.completed"
        return [
            self._text_event("response.output_text.done", text=text, logprobs=[]),
            self._text_event("response.content_part.done", part=item["content"][0]),
            self._numbered({"type": "response.output_item.done", "output_index": 0, "item": item}),
            self._numbered({"type": terminal, "response": answer}),
        ]

    def _started(
        self, request_id: str, trace_id: str, prompt_tokens: int | None
    ) -> list[ResponsesStreamEvent]:
        self._item_id = f"msg_{request_id}"
        self._prompt_tokens = prompt_tokens
        answer = self._answer = _response_object(
            self._request, request_id, trace_id, self._created_at
        )
        return [
            self._numbered({"type": "response.created", "response": copy.deepcopy(answer)}),
            self._numbered({"type": "response.in_progress", "response": copy.deepcopy(answer)}),
            self._numbered(
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": _message_item(request_id, "in_progress", None),
                }
            ),
            self._text_event("response.content_part.added", part=_text_part("")),
        ]

    def close(self) -> None:
        """``ValidationError`` if the stream stopped before its end event."""
        self._checker.close()


def stream_to_responses_events(
    events: Iterable[StreamEvent], *, request: ResponsesRequest, created_at: int | None = None
) -> Iterator[ResponsesStreamEvent]:
    """The ``/v1/responses`` stream for the engine's stream events answering ``request``.

    For the start event: ``response.created`` and ``response.in_progress`` (the response
    object as :func:`response_to_responses` makes it, ``in_progress`` with no output), then
    ``response.output_item.added`` (the assistant message, ``in_progress``) and
    ``response.content_part.added`` (an empty ``output_text``); one
    ``response.output_text.delta`` per delta event; for the end event
    ``response.output_text.done``, ``response.content_part.done``,
    ``response.output_item.done`` and ``response.completed`` (or ``response.incomplete``
    when the token limit ended it), each with the whole text. A failed end gives
    ``response.failed`` with the response's ``error`` (code ``server_error``,
    ``rate_limit_exceeded`` or ``invalid_prompt``) instead. ``sequence_number`` counts from 0.

    Lazy: events are read as Responses events are asked for, each first checked by the
    stream rules registered for ``StreamEvent``. Raises ``ValidationError`` at the first event
    they reject (or at the end, for a stream without its end event); closing the output
    closes ``events``.
    """
    return chunks(events, _ResponsesEvents(request, created_at))


def astream_to_responses_events(
    events: AsyncIterable[StreamEvent], *, request: ResponsesRequest, created_at: int | None = None
) -> AsyncIterator[ResponsesStreamEvent]:
    """:func:`stream_to_responses_events` for an async stream (``Engine.stream()``): the
    events for each engine event leave as it arrives."""
    return achunks(events, _ResponsesEvents(request, created_at))


_log: Final = logging.getLogger("sagellm_protocol.gateway")


def _sse(event: Mapping[str, Any]) -> bytes:
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    kind = str(event["type"]).encode("utf-8")
    return b"event: " + kind + b"\ndata: " + text.encode("utf-8") + b"\n\n"


def _broken(error: ValidationError, sequence_number: int) -> bytes:
    """The ``error`` event ending a stream the engine broke (logged for the operator)."""
    _log.error("the engine's stream broke Protocol v0.1: %s", error)
    message = f"the engine's stream broke Protocol v0.1: {error}"
    failure = {"type": "error", "sequence_number": sequence_number, "code": "invalid_stream"}
    return _sse({**failure, "message": message, "param": None})


def encode_responses_sse(events: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Server-sent-event lines for Responses ``events``: ``event: <type>`` and
    ``data: <json>`` (compact UTF-8 JSON) each. A Responses stream ends with its terminal
    event, not ``[DONE]``.

    A ``ValidationError`` from ``events`` (an engine stream breaking the protocol, logged on
    ``sagellm_protocol.gateway``) becomes a last ``error`` event (code ``invalid_stream``),
    which the official SDK reads as the stream's end instead of a cut connection.
    """
    iterator = iter(events)
    sequence = 0
    try:
        for event in iterator:
            sequence = int(event["sequence_number"]) + 1
            yield _sse(event)
    except ValidationError as error:
        yield _broken(error, sequence)
    finally:
        _close(iterator)


async def aencode_responses_sse(events: AsyncIterable[Mapping[str, Any]]) -> AsyncIterator[bytes]:
    """As :func:`encode_responses_sse`, for async events: the body of a FastAPI
    ``StreamingResponse``. Closing the lines (a client gone) closes ``events``, and through
    them the engine's stream."""
    iterator = aiter(events)
    sequence = 0
    try:
        async for event in iterator:
            sequence = int(event["sequence_number"]) + 1
            yield _sse(event)
    except ValidationError as error:
        yield _broken(error, sequence)
    finally:
        await _aclose(iterator)
