"""The gateway's conversions between OpenAI's wire format and Protocol v0.1.

The gateway speaks OpenAI's format to clients and Protocol v0.1 to the engine:

- :func:`chat_request_to_request` / :func:`completion_request_to_request`: a client's body to
  a :class:`~sagellm_protocol.Request`;
- :func:`response_to_chat_completion` / :func:`response_to_completion`: the engine's
  :class:`~sagellm_protocol.Response` to the client's answer;
- :func:`stream_to_chat_chunks` / :func:`stream_to_completion_chunks` and their async
  twins :func:`astream_to_chat_chunks` / :func:`astream_to_completion_chunks`: the engine's
  stream events to OpenAI chunks, as they arrive; :func:`encode_sse` / :func:`aencode_sse`
  to server-sent-event lines;
- :func:`error_to_openai`: a protocol :class:`~sagellm_protocol.Error` to an HTTP status and
  error body; :func:`issues_to_openai` the same for validation issues; :func:`openai_to_error`
  the reverse, for an upstream OpenAI-compatible server;
- :func:`unknown_keys`: the opt-in strictness (``reject_unknown_keys=True``) naming keys that
  neither OpenAI nor a declared extension knows, with "did you mean".

Invalid input raises :class:`~sagellm_protocol.ValidationError`, as ``validate()`` does. Valid
input that Protocol v0.1 cannot carry raises :class:`ConversionError`, whose ``.error`` is the
protocol ``Error`` to answer with (``error_to_openai(exc.error)``). Nothing is dropped silently:
each request field is mapped, carried verbatim under ``Request.metadata["openai"]``
(:data:`OPENAI_METADATA_KEY`), or rejected naming the field. docs/gateway.md has the tables.
"""

import copy
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Final

from ._gateway.common import ConversionError, finish_reason, now, usage
from ._gateway.errors import error_to_openai, error_type, issues_to_openai, openai_to_error
from ._gateway.streams import (
    ChatChunker,
    CompletionChunker,
    achunks,
    aencode_sse,
    chunks,
    encode_sse,
)
from ._gateway.unknown_keys import unknown_keys
from .core import ErrorCodeName, Request, Response, StreamEvent
from .openai import (
    ChatCompletionChoice,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    CompletionRequest,
    CompletionResponse,
)
from .sampling import SamplingParams
from .validation import ValidationError, validate

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "OPENAI_METADATA_KEY",
    "ConversionError",
    "aencode_sse",
    "astream_to_chat_chunks",
    "astream_to_completion_chunks",
    "chat_request_to_request",
    "completion_request_to_request",
    "encode_sse",
    "error_to_openai",
    "error_type",
    "issues_to_openai",
    "openai_to_error",
    "response_to_chat_completion",
    "response_to_completion",
    "stream_to_chat_chunks",
    "stream_to_completion_chunks",
    "unknown_keys",
]

OPENAI_METADATA_KEY: Final = "openai"
"""The ``Request.metadata`` key holding, verbatim, the request fields with no other home."""

DEFAULT_MAX_TOKENS: Final = 16
"""``Request.max_tokens`` when a body sets neither ``max_completion_tokens`` nor
``max_tokens``: OpenAI's documented default for ``/v1/completions``. Pass your engine's own
limit as ``default_max_tokens``."""


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


def _checked(tp: Any, body: object, reject_unknown_keys: bool) -> None:
    """Validate ``body``; with ``reject_unknown_keys``, reject the keys :func:`unknown_keys`
    names too."""
    validate(tp, body)
    if reject_unknown_keys and (unknown := unknown_keys(tp, body)):
        raise ValidationError(unknown)


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
    reject_unknown_keys: bool = False,
) -> Request:
    """The engine ``Request`` for a ``/v1/chat/completions`` body.

    ``messages`` are carried as they are (the engine renders them). ``temperature``,
    ``top_p``, both penalties, ``seed``, ``stop`` (as ``stop_sequences``) and vLLM's
    ``top_k``, ``repetition_penalty``, ``length_penalty`` and ``skip_special_tokens`` become
    ``sampling_params``; ``max_completion_tokens`` (else ``max_tokens``, else
    ``default_max_tokens``) becomes ``max_tokens``; the body's ``trace_id`` wins over the
    argument. Every other field (``user``, ``session_id``, ``tools``, ``response_format`` …,
    vendor keys too) is carried verbatim under ``metadata["openai"]``.

    Unknown keys are carried by default: the types are open, and clients send vendor keys
    this package does not declare. With ``reject_unknown_keys`` the body is held to the keys
    OpenAI and the declared extensions know (:func:`unknown_keys`, "did you mean" included),
    as OpenAI itself rejects an unrecognised argument.

    Raises ``ValidationError`` for a body that is not a valid ``ChatCompletionRequest``, and
    ``ConversionError`` for one the engine cannot answer as asked: ``n`` > 1, ``logprobs``,
    audio output (``not_implemented``), ``top_p`` 0, ``repetition_penalty`` < 1 or a token
    limit of 0 (``invalid_argument``).
    """
    _checked(ChatCompletionRequest, body, reject_unknown_keys)
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
    reject_unknown_keys: bool = False,
) -> Request:
    """The engine ``Request`` for a ``/v1/completions`` body.

    ``prompt`` becomes ``prompt`` (a one-string list is that string; ``null`` is the empty
    prompt); sampling fields, ``max_tokens`` and ``trace_id`` as for
    :func:`chat_request_to_request`; every other field goes under ``metadata["openai"]``
    (or, with ``reject_unknown_keys``, an unknown key is rejected).

    Raises ``ValidationError`` for an invalid body and ``ConversionError`` for a batch of
    prompts, token-id prompts, ``n`` or ``best_of`` > 1, ``echo``, ``logprobs`` or a
    ``suffix`` (``not_implemented``), and for the values :func:`chat_request_to_request`
    rejects as ``invalid_argument``.
    """
    _checked(CompletionRequest, body, reject_unknown_keys)
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
    finish = finish_reason(response["finish_reason"], response.get("error"))
    choice: ChatCompletionChoice = {
        "index": 0,
        "message": {"role": "assistant", "content": response["output_text"]},
        "finish_reason": finish,
        "logprobs": None,
    }
    answer: ChatCompletionResponse = {
        "id": f"chatcmpl-{response['request_id']}",
        "object": "chat.completion",
        "created": now() if created is None else created,
        "model": model,
        "choices": [choice],
        "trace_id": response["trace_id"],
    }
    counted = usage(response.get("prompt_tokens"), len(response["output_tokens"]))
    if counted is not None:
        answer["usage"] = counted
    return answer


def response_to_completion(
    response: Response, *, model: str, created: int | None = None
) -> CompletionResponse:
    """The ``/v1/completions`` answer for the engine's ``Response``; as
    :func:`response_to_chat_completion`, with ``id`` ``cmpl-<request_id>``."""
    validate(Response, response)
    finish = finish_reason(response["finish_reason"], response.get("error"))
    answer: CompletionResponse = {
        "id": f"cmpl-{response['request_id']}",
        "object": "text_completion",
        "created": now() if created is None else created,
        "model": model,
        "choices": [
            {"index": 0, "text": response["output_text"], "finish_reason": finish, "logprobs": None}
        ],
        "trace_id": response["trace_id"],
    }
    counted = usage(response.get("prompt_tokens"), len(response["output_tokens"]))
    if counted is not None:
        answer["usage"] = counted
    return answer


# ---------------------------------------------------------------------------------------------
# Streams


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

    Lazy: events are read as chunks are asked for, and each is first checked by the stream
    rules registered for ``StreamEvent`` (``stream_checker``, what ``validate_stream``
    runs). Raises ``ValidationError`` at the first event they reject (or at the end, for a
    stream without its end event) and ``ConversionError`` with the engine's ``Error`` for a
    failed end (:func:`encode_sse` sends either as a last data line). Closing the chunks
    closes ``events``.
    """
    chunker = ChatChunker(model=model, include_usage=include_usage, created=created)
    return chunks(events, chunker)


def astream_to_chat_chunks(
    events: AsyncIterable[StreamEvent],
    *,
    model: str,
    include_usage: bool = False,
    created: int | None = None,
) -> AsyncIterator[ChatCompletionStreamResponse]:
    """:func:`stream_to_chat_chunks` for an async stream (``Engine.stream()``): each chunk is
    yielded as its event arrives, so the first token is not held back for the last."""
    chunker = ChatChunker(model=model, include_usage=include_usage, created=created)
    return achunks(events, chunker)


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
    chunker = CompletionChunker(model=model, include_usage=include_usage, created=created)
    return chunks(events, chunker)


def astream_to_completion_chunks(
    events: AsyncIterable[StreamEvent],
    *,
    model: str,
    include_usage: bool = False,
    created: int | None = None,
) -> AsyncIterator[CompletionResponse]:
    """:func:`stream_to_completion_chunks` for an async stream, a chunk per event as it
    arrives."""
    chunker = CompletionChunker(model=model, include_usage=include_usage, created=created)
    return achunks(events, chunker)
