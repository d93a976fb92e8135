"""OpenAI-compatible wire types. These TypedDicts are open: vendor keys pass through.

Clients send keys no type here declares (vLLM's ``top_k``, ``min_p`` …); they are kept, not
rejected. Statically, a ``TypedDict`` that extends one of these with vendor keys is
assignable to it.
"""

import time
from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._registry import Factory, register_defaults
from .constraints import Penalty, Temperature, TopP

__all__ = [
    "ChatCompletionChoice",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionStreamChoice",
    "ChatCompletionStreamDelta",
    "ChatCompletionStreamResponse",
    "ChatCompletionUsage",
    "ChatFinishReason",
    "ChatMessage",
    "ChatRole",
    "CompletionChoice",
    "CompletionFinishReason",
    "CompletionRequest",
    "CompletionResponse",
    "CompletionUsage",
    "EmbeddingData",
    "EmbeddingEncodingFormat",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "ModelInfo",
    "ModelListResponse",
    "OpenAIError",
    "OpenAIErrorResponse",
]

ChatRole: TypeAlias = Literal["system", "user", "assistant", "function", "tool"]
"""Who authored a chat message."""

ChatFinishReason: TypeAlias = Literal["stop", "length", "content_filter", "tool_calls"]
"""Why a chat choice ended."""

CompletionFinishReason: TypeAlias = Literal["stop", "length", "content_filter"]
"""Why a text completion choice ended."""

EmbeddingEncodingFormat: TypeAlias = Literal["float", "base64"]
"""How embedding vectors are encoded in the response."""


def _now() -> int:
    """The current time in whole Unix seconds, as OpenAI's ``created`` fields carry it."""
    return int(time.time())


class ChatMessage(TypedDict):
    """One chat message."""

    role: ChatRole
    """Who authored the message."""
    content: str
    """The message text."""
    name: NotRequired[str | None]
    """Optional author name."""


register_defaults(ChatMessage, {"name": None})


class ChatCompletionRequest(TypedDict):
    """``POST /v1/chat/completions`` request body."""

    model: str
    """Model name."""
    messages: list[ChatMessage]
    """The conversation so far."""
    temperature: NotRequired[Temperature]
    """Sampling temperature in [0, 2]."""
    max_tokens: NotRequired[int | None]
    """Maximum tokens to generate; ``None`` for the model's limit."""
    stream: NotRequired[bool]
    """Whether to stream chunks as server-sent events."""
    top_p: NotRequired[TopP | None]
    """Nucleus sampling threshold in (0, 1]."""
    n: NotRequired[int]
    """Number of choices to generate."""
    stop: NotRequired[str | list[str] | None]
    """Stop sequence(s)."""
    presence_penalty: NotRequired[Penalty]
    """Presence penalty in [-2, 2]."""
    frequency_penalty: NotRequired[Penalty]
    """Frequency penalty in [-2, 2]."""
    user: NotRequired[str | None]
    """End-user identifier."""
    session_id: NotRequired[str | None]
    """sageLLM session identifier (extension)."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""


register_defaults(
    ChatCompletionRequest,
    {
        "temperature": 1.0,
        "max_tokens": None,
        "stream": False,
        "top_p": None,
        "n": 1,
        "stop": None,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "user": None,
        "session_id": None,
        "trace_id": None,
    },
)


class ChatCompletionChoice(TypedDict):
    """One generated chat answer."""

    index: int
    """Position among the choices."""
    message: ChatMessage
    """The generated message."""
    finish_reason: ChatFinishReason | None
    """Why generation ended; ``None`` while unknown."""


class ChatCompletionUsage(TypedDict):
    """Token counts of a chat completion (tokens)."""

    prompt_tokens: int
    """Tokens in the prompt."""
    completion_tokens: int
    """Tokens generated."""
    total_tokens: int
    """Prompt plus generated tokens."""


class ChatCompletionResponse(TypedDict):
    """``POST /v1/chat/completions`` response body (not streamed)."""

    id: str
    """Completion identifier."""
    object: NotRequired[Literal["chat.completion"]]
    """Object tag."""
    created: NotRequired[int]
    """Creation time (Unix seconds)."""
    model: str
    """Model that answered."""
    choices: list[ChatCompletionChoice]
    """Generated answers."""
    usage: ChatCompletionUsage
    """Token counts."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""


register_defaults(
    ChatCompletionResponse,
    {"object": "chat.completion", "created": Factory(_now), "trace_id": None},
)


class ChatCompletionStreamDelta(TypedDict):
    """The increment a stream chunk adds to a choice."""

    role: NotRequired[str | None]
    """Author role, sent with the first chunk."""
    content: NotRequired[str | None]
    """New text."""


register_defaults(ChatCompletionStreamDelta, {"role": None, "content": None})


class ChatCompletionStreamChoice(TypedDict):
    """One choice's part of a stream chunk."""

    index: int
    """Position among the choices."""
    delta: ChatCompletionStreamDelta
    """What this chunk adds."""
    finish_reason: NotRequired[ChatFinishReason | None]
    """Why generation ended, on the choice's last chunk."""


register_defaults(ChatCompletionStreamChoice, {"finish_reason": None})


class ChatCompletionStreamResponse(TypedDict):
    """One server-sent chunk of a streamed chat completion."""

    id: str
    """Completion identifier, the same on every chunk."""
    object: NotRequired[Literal["chat.completion.chunk"]]
    """Object tag."""
    created: NotRequired[int]
    """Creation time (Unix seconds)."""
    model: str
    """Model that answers."""
    choices: list[ChatCompletionStreamChoice]
    """Per-choice increments."""


register_defaults(
    ChatCompletionStreamResponse,
    {"object": "chat.completion.chunk", "created": Factory(_now)},
)


class CompletionRequest(TypedDict):
    """``POST /v1/completions`` request body."""

    model: str
    """Model name."""
    prompt: str
    """Text to continue."""
    temperature: NotRequired[Temperature]
    """Sampling temperature in [0, 2]."""
    max_tokens: NotRequired[int | None]
    """Maximum tokens to generate; ``None`` for the model's limit."""
    stream: NotRequired[bool]
    """Whether to stream chunks as server-sent events."""
    top_p: NotRequired[TopP | None]
    """Nucleus sampling threshold in (0, 1]."""
    n: NotRequired[int]
    """Number of choices to generate."""
    stop: NotRequired[str | list[str] | None]
    """Stop sequence(s)."""
    user: NotRequired[str | None]
    """End-user identifier."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""


register_defaults(
    CompletionRequest,
    {
        "temperature": 1.0,
        "max_tokens": None,
        "stream": False,
        "top_p": None,
        "n": 1,
        "stop": None,
        "user": None,
        "trace_id": None,
    },
)


class CompletionChoice(TypedDict):
    """One generated text continuation."""

    index: int
    """Position among the choices."""
    text: str
    """Generated text."""
    finish_reason: CompletionFinishReason | None
    """Why generation ended; ``None`` while unknown."""


class CompletionUsage(TypedDict):
    """Token counts of a text completion (tokens)."""

    prompt_tokens: int
    """Tokens in the prompt."""
    completion_tokens: int
    """Tokens generated."""
    total_tokens: int
    """Prompt plus generated tokens."""


class CompletionResponse(TypedDict):
    """``POST /v1/completions`` response body (not streamed)."""

    id: str
    """Completion identifier."""
    object: NotRequired[Literal["text_completion"]]
    """Object tag."""
    created: NotRequired[int]
    """Creation time (Unix seconds)."""
    model: str
    """Model that answered."""
    choices: list[CompletionChoice]
    """Generated continuations."""
    usage: CompletionUsage
    """Token counts."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""


register_defaults(
    CompletionResponse,
    {"object": "text_completion", "created": Factory(_now), "trace_id": None},
)


class EmbeddingRequest(TypedDict):
    """``POST /v1/embeddings`` request body."""

    input: str | list[str]
    """Text(s) to embed."""
    model: str
    """Model name."""
    encoding_format: NotRequired[EmbeddingEncodingFormat]
    """Encoding of the returned vectors."""
    dimensions: NotRequired[int | None]
    """Requested vector length; ``None`` for the model's."""
    user: NotRequired[str | None]
    """End-user identifier."""


register_defaults(EmbeddingRequest, {"encoding_format": "float", "dimensions": None, "user": None})


class EmbeddingData(TypedDict):
    """One embedding vector."""

    object: NotRequired[Literal["embedding"]]
    """Object tag."""
    embedding: list[float]
    """The vector."""
    index: int
    """Position of the embedded input."""


register_defaults(EmbeddingData, {"object": "embedding"})


class EmbeddingUsage(TypedDict):
    """Token counts of an embedding request (tokens)."""

    prompt_tokens: int
    """Tokens in the inputs."""
    total_tokens: int
    """Tokens processed."""


class EmbeddingResponse(TypedDict):
    """``POST /v1/embeddings`` response body."""

    object: NotRequired[Literal["list"]]
    """Object tag."""
    data: list[EmbeddingData]
    """One vector per input, in input order."""
    model: str
    """Model that answered."""
    usage: EmbeddingUsage
    """Token counts."""


register_defaults(EmbeddingResponse, {"object": "list"})


class ModelInfo(TypedDict):
    """A served model, as ``GET /v1/models`` lists it."""

    id: str
    """Model name."""
    object: NotRequired[Literal["model"]]
    """Object tag."""
    created: NotRequired[int]
    """Creation time (Unix seconds)."""
    owned_by: NotRequired[str]
    """Owner of the model."""


register_defaults(ModelInfo, {"object": "model", "created": Factory(_now), "owned_by": "sagellm"})


class ModelListResponse(TypedDict):
    """``GET /v1/models`` response body."""

    object: NotRequired[Literal["list"]]
    """Object tag."""
    data: list[ModelInfo]
    """Served models."""


register_defaults(ModelListResponse, {"object": "list"})


class OpenAIError(TypedDict):
    """The error object of an OpenAI-style error body."""

    message: str
    """Human-readable description."""
    type: str
    """Error category, e.g. ``"invalid_request_error"``."""
    param: NotRequired[str | None]
    """The request parameter at fault."""
    code: NotRequired[str | None]
    """Machine-readable error code."""


register_defaults(OpenAIError, {"param": None, "code": None})


class OpenAIErrorResponse(TypedDict):
    """An OpenAI-style error response body."""

    error: OpenAIError
    """The error."""
