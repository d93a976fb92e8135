"""The gateway's conversions between OpenAI's wire format and Protocol v0.1.

The gateway speaks OpenAI's format to clients and Protocol v0.1 to the engine:

- :func:`chat_request_to_request` / :func:`completion_request_to_request`: a client's body to
  a :class:`~sagellm_protocol.Request`;
- :func:`response_to_chat_completion` / :func:`response_to_completion`: the engine's
  :class:`~sagellm_protocol.Response` to the client's answer;
- :func:`stream_to_chat_chunks` / :func:`stream_to_completion_chunks`: the engine's stream
  events to OpenAI chunks, and :func:`encode_sse` to server-sent-event lines;
- :func:`error_to_openai`: a protocol :class:`~sagellm_protocol.Error` to an HTTP status and
  error body; :func:`openai_to_error` the reverse, for an upstream OpenAI-compatible server.

Invalid input raises :class:`~sagellm_protocol.ValidationError`, as ``validate()`` does. Valid
input that Protocol v0.1 cannot carry raises :class:`ConversionError`, whose ``.error`` is the
protocol ``Error`` to answer with (``error_to_openai(exc.error)``). Nothing is dropped silently:
each request field is mapped, carried verbatim under ``Request.metadata["openai"]``
(:data:`OPENAI_METADATA_KEY`), or rejected naming the field. README.md lists every field.
"""

import copy
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal, cast

from .core import Error, ErrorCode, ErrorCodeName, FinishReason, Request, Response, StreamEvent
from .openai import (
    ChatCompletionChoice,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    ChatCompletionUsage,
    CompletionRequest,
    CompletionResponse,
    OpenAIErrorBody,
    OpenAIErrorResponse,
)
from .sampling import SamplingParams
from .validation import Issue, ValidationError, validate

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "OPENAI_METADATA_KEY",
    "ConversionError",
    "chat_request_to_request",
    "completion_request_to_request",
    "encode_sse",
    "error_to_openai",
    "openai_to_error",
    "response_to_chat_completion",
    "response_to_completion",
    "stream_to_chat_chunks",
    "stream_to_completion_chunks",
]

OPENAI_METADATA_KEY: Final = "openai"
"""The ``Request.metadata`` key holding, verbatim, the request fields with no other home."""

DEFAULT_MAX_TOKENS: Final = 16
"""``Request.max_tokens`` when a body sets neither ``max_completion_tokens`` nor
``max_tokens``: OpenAI's documented default for ``/v1/completions``. Pass your engine's own
limit as ``default_max_tokens``."""

_DONE: Final = b"data: [DONE]\n\n"


class ConversionError(ValueError):
    """Valid input that Protocol v0.1 cannot carry; :attr:`error` is the answer to give."""

    error: Error
    """The protocol error: ``invalid_argument`` or ``not_implemented`` (a request field),
    or the engine's own error (a failed response or stream)."""

    def __init__(self, error: Error) -> None:
        super().__init__(error["message"])
        self.error = error


def _reject(code: ErrorCodeName, field: str, message: str) -> ConversionError:
    return ConversionError({"code": code, "message": f"{field}: {message}", "retryable": False})


# ---------------------------------------------------------------------------------------------
# Requests

_SAMPLING_KEYS: Final = (
    "temperature",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "top_k",
    "length_penalty",
    "skip_special_tokens",
)
"""Request fields copied as they are into ``SamplingParams`` (when not null)."""

_HANDLED: Final = frozenset(
    {
        *_SAMPLING_KEYS,
        "model",
        "messages",
        "prompt",
        "top_p",
        "repetition_penalty",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "stream",
        "trace_id",
        "n",
    }
)
"""Request fields that map onto ``Request`` keys; every other field goes to metadata."""


def _sampling_params(body: Mapping[str, Any]) -> SamplingParams:
    params: dict[str, Any] = {key: body[key] for key in _SAMPLING_KEYS if body.get(key) is not None}
    top_p = body.get("top_p")
    if top_p is not None:
        if top_p == 0:
            raise _reject(
                "invalid_argument",
                "top_p",
                "expected a number in (0, 1] (the engine samples from a non-empty nucleus), got 0",
            )
        params["top_p"] = top_p
    penalty = body.get("repetition_penalty")
    if penalty is not None:
        if penalty < 1:
            raise _reject(
                "invalid_argument",
                "repetition_penalty",
                f"expected a number >= 1 (Protocol v0.1 SamplingParams), got {penalty!r}",
            )
        params["repetition_penalty"] = penalty
    stop = body.get("stop")
    if stop is not None:
        params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    return params  # type: ignore[return-value]  # keys and values checked by the request type


def _max_tokens(body: Mapping[str, Any], default: int) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is not None:
            if value < 1:
                raise _reject("invalid_argument", key, f"expected an int > 0, got {value!r}")
            return int(value)
    return default


def _common_checks(body: Mapping[str, Any]) -> None:
    n = body.get("n")
    if n is not None and n != 1:
        raise _reject(
            "not_implemented", "n", f"expected 1 (one choice per engine request), got {n!r}"
        )


def _request(
    body: Mapping[str, Any],
    *,
    request_id: str,
    trace_id: str,
    default_max_tokens: int,
    rejected: Mapping[str, tuple[tuple[object, ...], str, str]],
) -> Request:
    _common_checks(body)
    for key, (allowed, expected, reason) in rejected.items():
        value = body.get(key)
        if value is not None and value not in allowed:
            raise _reject("not_implemented", key, f"expected {expected} ({reason}), got {value!r}")
    request: Request = {
        "request_id": request_id,
        "trace_id": body.get("trace_id") or trace_id,
        "model": body["model"],
        "max_tokens": _max_tokens(body, default_max_tokens),
        "stream": bool(body.get("stream")),
    }
    params = _sampling_params(body)
    if params:
        request["sampling_params"] = params
    carried = {key: copy.deepcopy(value) for key, value in body.items() if key not in _HANDLED}
    if carried:
        request["metadata"] = {OPENAI_METADATA_KEY: carried}
    return request


_NO_LOGPROBS: Final = "Protocol v0.1 responses carry no log probabilities"
_CHAT_REJECTED: Final[Mapping[str, tuple[tuple[object, ...], str, str]]] = {
    "logprobs": ((False,), "false or null", _NO_LOGPROBS),
    "top_logprobs": ((0,), "0 or null", _NO_LOGPROBS),
    "modalities": ((["text"],), "['text'] or null", "the engine answers with text only"),
    "audio": ((), "null", "the engine answers with text only"),
}
"""Fields the engine cannot honour: the values allowed, how to say them, and why."""


def chat_request_to_request(
    body: ChatCompletionRequest,
    *,
    request_id: str,
    trace_id: str,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
) -> Request:
    """The engine ``Request`` for a ``/v1/chat/completions`` body.

    ``messages`` are carried as they are (the engine renders them). ``temperature``,
    ``top_p``, both penalties, ``seed``, ``stop`` (as ``stop_sequences``) and vLLM's
    ``top_k``, ``repetition_penalty``, ``length_penalty`` and ``skip_special_tokens`` become
    ``sampling_params``; ``max_completion_tokens`` (else ``max_tokens``, else
    ``default_max_tokens``) becomes ``max_tokens``; the body's ``trace_id`` wins over the
    argument. Every other field (``user``, ``session_id``, ``tools``, ``response_format`` …,
    vendor keys too) is carried verbatim under ``metadata["openai"]``.

    Raises ``ValidationError`` for a body that is not a valid ``ChatCompletionRequest``, and
    ``ConversionError`` for one the engine cannot answer as asked: ``n`` > 1, ``logprobs``,
    audio output (``not_implemented``), ``top_p`` 0, ``repetition_penalty`` < 1 or a token
    limit of 0 (``invalid_argument``).
    """
    validate(ChatCompletionRequest, body)
    request = _request(
        body,
        request_id=request_id,
        trace_id=trace_id,
        default_max_tokens=default_max_tokens,
        rejected=_CHAT_REJECTED,
    )
    request["messages"] = copy.deepcopy(body["messages"])
    return request


_COMPLETION_REJECTED: Final[Mapping[str, tuple[tuple[object, ...], str, str]]] = {
    "echo": ((False,), "false or null", "Protocol v0.1 responses carry the generated text only"),
    "logprobs": ((), "null", _NO_LOGPROBS),
    "best_of": ((0, 1), "0, 1 or null", "one candidate per engine request"),
    "suffix": (("",), "'' or null", "the engine has no insertion mode"),
}


def completion_request_to_request(
    body: CompletionRequest,
    *,
    request_id: str,
    trace_id: str,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
) -> Request:
    """The engine ``Request`` for a ``/v1/completions`` body.

    ``prompt`` becomes ``prompt`` (a one-string list is that string; ``null`` is the empty
    prompt); sampling fields, ``max_tokens`` and ``trace_id`` as for
    :func:`chat_request_to_request`; every other field goes under ``metadata["openai"]``.

    Raises ``ValidationError`` for an invalid body and ``ConversionError`` for a batch of
    prompts, token-id prompts, ``n`` or ``best_of`` > 1, ``echo``, ``logprobs`` or a
    ``suffix`` (``not_implemented``), and for the values :func:`chat_request_to_request`
    rejects as ``invalid_argument``.
    """
    validate(CompletionRequest, body)
    prompt = body["prompt"]
    if isinstance(prompt, list):
        if not all(isinstance(item, str) for item in prompt):
            raise _reject(
                "not_implemented",
                "prompt",
                "expected text (a Protocol v0.1 Request carries a str prompt), got token ids",
            )
        if len(prompt) != 1:
            raise _reject(
                "not_implemented",
                "prompt",
                f"expected one prompt (one per engine request), got a batch of {len(prompt)}",
            )
    request = _request(
        body,
        request_id=request_id,
        trace_id=trace_id,
        default_max_tokens=default_max_tokens,
        rejected=_COMPLETION_REJECTED,
    )
    text = prompt[0] if isinstance(prompt, list) else prompt
    request["prompt"] = str(text) if text is not None else ""
    return request


# ---------------------------------------------------------------------------------------------
# Responses

_FINISH: Final[Mapping[str, Literal["stop", "length"]]] = {"stop": "stop", "length": "length"}


def _now() -> int:
    return int(time.time())


def _usage(prompt_tokens: int | None, completion_tokens: int) -> ChatCompletionUsage | None:
    if prompt_tokens is None:
        return None
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _finish_reason(finish_reason: FinishReason, error: Error | None) -> Literal["stop", "length"]:
    if error is not None:
        raise ConversionError(dict(error))  # type: ignore[arg-type]  # a copy of an Error
    return _FINISH[finish_reason]


def response_to_chat_completion(
    response: Response, *, model: str, created: int | None = None
) -> ChatCompletionResponse:
    """The ``/v1/chat/completions`` answer for the engine's ``Response``.

    One choice with the assistant's ``output_text``; ``finish_reason`` ``stop`` or ``length``;
    ``usage`` from ``prompt_tokens`` and the number of ``output_tokens`` (absent when the
    engine did not report ``prompt_tokens``); ``id`` is ``chatcmpl-<request_id>``; the
    ``trace_id`` is kept. ``created`` defaults to now.

    Raises ``ValidationError`` for an invalid ``Response`` and ``ConversionError`` carrying the
    response's own ``Error`` when generation failed.
    """
    validate(Response, response)
    finish = _finish_reason(response["finish_reason"], response.get("error"))
    choice: ChatCompletionChoice = {
        "index": 0,
        "message": {"role": "assistant", "content": response["output_text"]},
        "finish_reason": finish,
        "logprobs": None,
    }
    answer: ChatCompletionResponse = {
        "id": f"chatcmpl-{response['request_id']}",
        "object": "chat.completion",
        "created": _now() if created is None else created,
        "model": model,
        "choices": [choice],
        "trace_id": response["trace_id"],
    }
    usage = _usage(response.get("prompt_tokens"), len(response["output_tokens"]))
    if usage is not None:
        answer["usage"] = usage
    return answer


def response_to_completion(
    response: Response, *, model: str, created: int | None = None
) -> CompletionResponse:
    """The ``/v1/completions`` answer for the engine's ``Response``; as
    :func:`response_to_chat_completion`, with ``id`` ``cmpl-<request_id>``."""
    validate(Response, response)
    finish = _finish_reason(response["finish_reason"], response.get("error"))
    answer: CompletionResponse = {
        "id": f"cmpl-{response['request_id']}",
        "object": "text_completion",
        "created": _now() if created is None else created,
        "model": model,
        "choices": [
            {"index": 0, "text": response["output_text"], "finish_reason": finish, "logprobs": None}
        ],
        "trace_id": response["trace_id"],
    }
    usage = _usage(response.get("prompt_tokens"), len(response["output_tokens"]))
    if usage is not None:
        answer["usage"] = usage
    return answer


# ---------------------------------------------------------------------------------------------
# Streams


def _ordered(events: Iterable[StreamEvent]) -> Iterator[StreamEvent]:
    """The events, each validated, in the order start, deltas, end, of one request.

    Raises ``ValidationError`` with the event's position for a misplaced or foreign event.
    """
    request_id: str | None = None
    ended = False
    count = 0
    for index, event in enumerate(events):
        count = index + 1
        try:
            validate(StreamEvent, event)
        except ValidationError as error:
            raise ValidationError(
                [issue._replace(path=(index, *issue.path)) for issue in error.issues]
            ) from None
        kind = event["event"]
        if ended:
            raise _order_error(index, f"expected no event after 'end', got {kind!r}")
        if request_id is None:
            if kind != "start":
                raise _order_error(index, f"expected a 'start' event first, got {kind!r}")
            request_id = event["request_id"]
        elif kind == "start":
            raise _order_error(index, "expected one 'start' event, got a second")
        elif event["request_id"] != request_id:
            raise ValidationError(
                [
                    Issue(
                        (index, "request_id"),
                        "invariant",
                        f"expected the stream's request_id {request_id!r}, "
                        f"got {event['request_id']!r}",
                    )
                ]
            )
        ended = kind == "end"
        yield event
    if not ended:
        raise _order_error(count, "expected an 'end' event, got the end of the stream")


def _order_error(index: int, message: str) -> ValidationError:
    return ValidationError([Issue((index, "event"), "invariant", message)])


def stream_to_chat_chunks(
    events: Iterable[StreamEvent],
    *,
    model: str,
    include_usage: bool = False,
    created: int | None = None,
) -> Iterator[ChatCompletionStreamResponse]:
    """The ``/v1/chat/completions`` stream for the engine's stream events.

    One id (``chatcmpl-<request_id>``) and one ``created`` across chunks: the first chunk
    (for the start event) carries ``role: "assistant"`` and empty content, each delta event
    its text, the end event the finish chunk (empty delta, ``finish_reason``). With
    ``include_usage`` (the request's ``stream_options.include_usage``) every chunk carries
    ``usage: null`` and a last chunk with no choices carries the usage (when the engine
    reported ``prompt_tokens``, on the start or the end event).

    Lazy: events are read as chunks are asked for. Raises ``ValidationError`` for an invalid
    or misordered event and ``ConversionError`` with the engine's ``Error`` for a failed end
    (the gateway then sends ``error_to_openai(exc.error)[1]`` as a last data line).
    """
    moment = _now() if created is None else created
    chunk_id = ""
    prompt_tokens: int | None = None

    def chunk(delta: dict[str, Any], finish: str | None) -> ChatCompletionStreamResponse:
        out: dict[str, Any] = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": moment,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if include_usage:
            out["usage"] = None
        return out  # type: ignore[return-value]  # built to the type's shape

    for event in _ordered(events):
        if event["event"] == "start":
            chunk_id = f"chatcmpl-{event['request_id']}"
            prompt_tokens = event.get("prompt_tokens")
            yield chunk({"role": "assistant", "content": ""}, None)
        elif event["event"] == "delta":
            yield chunk({"content": event["content"]}, None)
        else:
            finish = _finish_reason(event["finish_reason"], event.get("error"))
            yield chunk({}, finish)
            end_prompt = event.get("prompt_tokens")
            usage = _usage(
                end_prompt if end_prompt is not None else prompt_tokens,
                len(event["output_tokens"]),
            )
            if include_usage and usage is not None:
                yield {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "created": moment,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }


def stream_to_completion_chunks(
    events: Iterable[StreamEvent],
    *,
    model: str,
    include_usage: bool = False,
    created: int | None = None,
) -> Iterator[CompletionResponse]:
    """The ``/v1/completions`` stream for the engine's stream events.

    As :func:`stream_to_chat_chunks`, with ``text_completion`` chunks (id
    ``cmpl-<request_id>``): no chunk for the start event (legacy streams have no role), one
    per delta, a finish chunk with empty text, and with ``include_usage`` a last chunk with
    no choices and the usage. Legacy chunks carry no ``usage`` key otherwise.
    """
    moment = _now() if created is None else created
    chunk_id = ""
    prompt_tokens: int | None = None
    base: dict[str, Any] = {"object": "text_completion", "created": moment, "model": model}
    for event in _ordered(events):
        if event["event"] == "start":
            chunk_id = f"cmpl-{event['request_id']}"
            prompt_tokens = event.get("prompt_tokens")
            continue
        if event["event"] == "delta":
            text, finish = event["content"], None
        else:
            text, finish = "", _finish_reason(event["finish_reason"], event.get("error"))
        choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
        yield {"id": chunk_id, **base, "choices": [choice]}  # type: ignore[typeddict-item]
        if event["event"] == "end":
            end_prompt = event.get("prompt_tokens")
            usage = _usage(
                end_prompt if end_prompt is not None else prompt_tokens,
                len(event["output_tokens"]),
            )
            if include_usage and usage is not None:
                yield {"id": chunk_id, **base, "choices": [], "usage": usage}  # type: ignore[typeddict-item]


def encode_sse(chunks: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Server-sent-event lines for ``chunks``: ``data: <json>\\n\\n`` each (compact UTF-8
    JSON), then ``data: [DONE]\\n\\n``."""
    for chunk in chunks:
        text = json.dumps(chunk, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        yield b"data: " + text.encode("utf-8") + b"\n\n"
    yield _DONE


# ---------------------------------------------------------------------------------------------
# Errors

_HTTP: Final[Mapping[str, int]] = {
    "invalid_argument": 400,
    "resource_exhausted": 429,
    "kv_priority_queue_full": 429,
    "not_implemented": 501,
    "compression_not_supported": 501,
    "comm_backend_not_supported": 501,
    "unavailable": 503,
    "deadline_exceeded": 504,
    "comm_timeout": 504,
}
"""HTTP status of each error code; any other code is a 500."""

_TYPES: Final[Mapping[int, str]] = {400: "invalid_request_error", 429: "rate_limit_error"}
"""OpenAI error ``type`` of a status; any other is ``"server_error"``."""

_FIELD: Final = re.compile(r"([A-Za-z_][\w.\[\]']*): ")


def error_to_openai(error: Error) -> tuple[int, OpenAIErrorResponse]:
    """The HTTP status and OpenAI error body for a protocol ``Error``.

    ``invalid_argument`` 400, ``resource_exhausted`` 429, ``not_implemented`` 501,
    ``unavailable`` 503, ``deadline_exceeded`` 504 (and related codes alike), any other 500.
    The body's ``code`` is the protocol code (so :func:`openai_to_error` gets it back),
    ``type`` OpenAI's category for the status, ``param`` the field a message starts with
    (``"n: expected 1 …"``). Raises ``ValidationError`` for an invalid ``Error``.
    """
    validate(Error, error)
    code = str(ErrorCode(error["code"]))
    status = _HTTP.get(code, 500)
    field = _FIELD.match(error["message"])
    body: OpenAIErrorResponse = {
        "error": {
            "message": error["message"],
            "type": _TYPES.get(status, "server_error"),
            "param": field.group(1) if field else None,
            "code": code,
        }
    }
    return status, body


_FROM_STATUS: Final[Mapping[int, ErrorCodeName]] = {
    400: "invalid_argument",
    404: "invalid_argument",
    409: "invalid_argument",
    413: "invalid_argument",
    422: "invalid_argument",
    408: "deadline_exceeded",
    429: "resource_exhausted",
    501: "not_implemented",
    504: "deadline_exceeded",
}
"""Protocol code of an upstream status; any other status (401, 403, 5xx …) is
``unavailable``: the upstream cannot serve the gateway's request."""

_RETRYABLE: Final = frozenset({408, 429, 500, 502, 503, 504})


def openai_to_error(status: int, body: OpenAIErrorBody) -> Error:
    """The protocol ``Error`` for an upstream OpenAI-compatible server's error answer.

    Reads OpenAI's body and both vLLM shapes (an int ``code``; the flat ``object: "error"``
    body). The code is the body's ``code`` when it names a protocol code (a sageLLM
    upstream), else the status's: 400/404/409/413/422 ``invalid_argument``, 408/504
    ``deadline_exceeded``, 429 ``resource_exhausted``, 501 ``not_implemented``, anything else
    ``unavailable``. ``retryable`` is true for 408, 429, 500, 502, 503 and 504. Raises
    ``ValidationError`` for a body that is none of these shapes.
    """
    validate(OpenAIErrorBody, body)
    inner = cast(Mapping[str, Any], body.get("error", body))  # the wrapped or the flat shape
    code = inner.get("code")
    known = {member.value for member in ErrorCode}
    name: ErrorCodeName = (
        code if isinstance(code, str) and code in known else _FROM_STATUS.get(status, "unavailable")  # type: ignore[assignment]
    )
    return {"code": name, "message": inner["message"], "retryable": status in _RETRYABLE}
