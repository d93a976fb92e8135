"""OpenAI-compatible wire types. These TypedDicts are open: vendor keys pass through.

The types follow OpenAI's API reference and the official SDK's types, with vLLM's
OpenAI-compatible server for its extensions (sampling keys such as ``top_k``, typeless content
parts, integer error codes, the flat ``object: "error"`` body). Ranges are OpenAI's documented
ones; where OpenAI and vLLM differ, what OpenAI accepts is accepted (``top_p: 0``).

Clients send keys no type here declares (``web_search_options``, vendor extensions …); they
are kept, not rejected: by :func:`~sagellm_protocol.validate`, statically (a ``TypedDict``
that extends one of these with vendor keys is assignable to it) and through pydantic (each
type carries ``__pydantic_config__ = {"extra": "allow"}``, so a ``TypeAdapter`` keeps them).

Cross-field rules that OpenAI states per message role (a ``tool`` message names its
``tool_call_id``, only ``assistant`` messages carry ``tool_calls`` …) and per content part
are registered invariants, checked by ``validate()`` with the path of the offending field.
"""

import time
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Final, Literal, TypeAlias, TypeVar

from annotated_types import Ge, Gt, Le, MinLen
from typing_extensions import NotRequired, TypedDict

from ._key_help import list_keys_in_help
from ._registry import (
    Factory,
    InvariantViolation,
    register_defaults,
    register_invariant,
    register_stream_rules,
    register_wire_side,
)
from .constraints import (
    BestOf,
    ChoiceCount,
    CompletionLogprobCount,
    JSONObject,
    LogitBias,
    NonNegativeInt,
    Penalty,
    PositiveInt,
    StopSequences,
    Temperature,
    TopLogprobCount,
    UnitInterval,
)

__all__ = [
    "Annotation",
    "AnnotationURLCitation",
    "ChatCompletionAllowedToolChoice",
    "ChatCompletionAudio",
    "ChatCompletionAudioParam",
    "ChatCompletionChoice",
    "ChatCompletionContentPart",
    "ChatCompletionContentPartType",
    "ChatCompletionCustomTool",
    "ChatCompletionFunctionTool",
    "ChatCompletionMessageCustomToolCall",
    "ChatCompletionMessageFunctionToolCall",
    "ChatCompletionMessageToolCall",
    "ChatCompletionNamedToolChoice",
    "ChatCompletionNamedToolChoiceCustom",
    "ChatCompletionPredictionContent",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionStreamChoice",
    "ChatCompletionStreamDelta",
    "ChatCompletionStreamOptions",
    "ChatCompletionStreamResponse",
    "ChatCompletionTokenLogprob",
    "ChatCompletionTool",
    "ChatCompletionToolChoice",
    "ChatCompletionUsage",
    "ChatFinishReason",
    "ChatMessage",
    "ChatModality",
    "ChatRole",
    "ChoiceDeltaAudio",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChoiceLogprobs",
    "CompletionChoice",
    "CompletionChoiceLogprobs",
    "CompletionFinishReason",
    "CompletionPrompt",
    "CompletionRequest",
    "CompletionResponse",
    "CompletionTokensDetails",
    "CompletionUsage",
    "ContentPartFile",
    "CustomToolCall",
    "CustomToolDefinition",
    "EmbeddingData",
    "EmbeddingEncodingFormat",
    "EmbeddingInput",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "FunctionCall",
    "FunctionCallOption",
    "FunctionDefinition",
    "ImageDetail",
    "ImageURL",
    "InputAudio",
    "MediaURL",
    "MessageContent",
    "ModelInfo",
    "ModelListResponse",
    "OpenAIError",
    "OpenAIErrorBody",
    "OpenAIErrorResponse",
    "PromptTokensDetails",
    "ReasoningEffort",
    "ResponseFormat",
    "ResponseFormatJSONObject",
    "ResponseFormatJSONSchema",
    "ResponseFormatJSONSchemaSpec",
    "ResponseFormatText",
    "ServiceTier",
    "ToolChoiceMode",
    "TopLogprob",
    "VLLMFlatErrorResponse",
    "message_text",
]

ChatRole: TypeAlias = Literal["system", "user", "assistant", "function", "tool", "developer"]
"""Who authored a chat message; ``function`` is OpenAI's deprecated tool-result role."""

ChatFinishReason: TypeAlias = Literal[
    "stop", "length", "content_filter", "tool_calls", "function_call"
]
"""Why a chat choice ended; ``function_call`` is the deprecated form of ``tool_calls``."""

CompletionFinishReason: TypeAlias = Literal["stop", "length", "content_filter"]
"""Why a text completion choice ended."""

EmbeddingEncodingFormat: TypeAlias = Literal["float", "base64"]
"""How embedding vectors are encoded in the response."""

ChatCompletionContentPartType: TypeAlias = Literal[
    "text", "image_url", "input_audio", "file", "refusal", "video_url", "audio_url"
]
"""Kinds of content part: OpenAI's five, and vLLM's ``video_url`` and ``audio_url``."""

ImageDetail: TypeAlias = Literal["auto", "low", "high", "original"]
"""How closely the model looks at an image."""

ChatModality: TypeAlias = Literal["text", "audio"]
"""An output modality of a chat completion."""

ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""How much a reasoning model reasons, as the official SDK lists the values."""

ServiceTier: TypeAlias = Literal["auto", "default", "flex", "scale", "priority", "fast"]
"""OpenAI's processing tier, asked for in a request and reported in a response."""

ToolChoiceMode: TypeAlias = Literal["none", "auto", "required"]
"""Whether the model may, must or must not call tools."""

_T = TypeVar("_T", bound=type)


def _open(cls: _T) -> _T:
    """Mark ``cls`` open for pydantic: a ``TypeAdapter`` keeps keys it does not declare.

    pydantic reads ``__pydantic_config__`` (a plain ``ConfigDict`` mapping) on a TypedDict;
    PEP 728 ``extra_items`` would say the same, but mypy does not support it yet.
    """
    setattr(cls, "__pydantic_config__", {"extra": "allow"})  # noqa: B010 (no attribute on a TypedDict)
    return cls


def _now() -> int:
    """The current time in whole Unix seconds, as OpenAI's ``created`` fields carry it."""
    return int(time.time())


# ---------------------------------------------------------------------------------------------
# Content parts


@_open
class ImageURL(TypedDict):
    """The image of an ``image_url`` content part."""

    url: str
    """An ``https://`` URL or a ``data:`` URL with base64 image data."""
    detail: NotRequired[ImageDetail]
    """How closely the model looks at the image; ``"auto"`` when absent."""


@_open
class InputAudio(TypedDict):
    """The audio of an ``input_audio`` content part."""

    data: str
    """Base64-encoded audio."""
    format: Literal["wav", "mp3"]
    """Encoding of ``data``."""


@_open
class ContentPartFile(TypedDict):
    """The file of a ``file`` content part: uploaded (``file_id``) or inline (``file_data``)."""

    file_data: NotRequired[str]
    """Base64-encoded file content."""
    file_id: NotRequired[str]
    """The id of an uploaded file."""
    filename: NotRequired[str]
    """The file's name."""


@_open
class MediaURL(TypedDict):
    """The media of vLLM's ``video_url`` and ``audio_url`` content parts."""

    url: str
    """An ``https://`` URL or a ``data:`` URL with base64 media."""


_PART_PAYLOAD_KEYS: Final = ("text", "image_url", "input_audio", "file", "refusal")
_TYPELESS_PART_KEYS: Final = ("image_url", "audio_url", "video_url", "input_audio")
"""Keys vLLM infers a part's type from when it has no ``type``."""


@_open
class ChatCompletionContentPart(TypedDict):
    """One part of a message's content: text, an image, audio, a file or a refusal.

    The key named by ``type`` holds the part's payload (``{"type": "text", "text": "hi"}``).
    vLLM also accepts a part without ``type`` that holds exactly one of ``image_url``,
    ``audio_url``, ``video_url`` or ``input_audio``, and infers the type from it.
    """

    type: NotRequired[ChatCompletionContentPartType]
    """The kind of part; absent only on vLLM's typeless media parts."""
    text: NotRequired[str]
    """The text of a ``text`` part."""
    image_url: NotRequired[ImageURL]
    """The image of an ``image_url`` part."""
    input_audio: NotRequired[InputAudio]
    """The audio of an ``input_audio`` part."""
    file: NotRequired[ContentPartFile]
    """The file of a ``file`` part."""
    refusal: NotRequired[str]
    """The refusal text of a ``refusal`` part (assistant messages only)."""
    video_url: NotRequired[MediaURL]
    """The video of a vLLM ``video_url`` part."""
    audio_url: NotRequired[MediaURL]
    """The audio of a vLLM ``audio_url`` part."""


@register_invariant(ChatCompletionContentPart)
def _part_has_payload(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """A typed part holds the key its ``type`` names; a typeless one holds one media key."""
    kind = value.get("type")
    if kind is not None:
        if kind not in value:
            yield (kind,), f"expected the {kind} of a {kind!r} part, got no {kind!r} key"
        return
    present = [key for key in _TYPELESS_PART_KEYS if key in value]
    if len(present) != 1:
        shown = ", ".join(map(repr, present)) if present else "none"
        yield (
            ("type",),
            "expected a 'type' key, or exactly one of 'image_url', 'audio_url', 'video_url', "
            f"'input_audio' to infer it from, got {shown}",
        )


MessageContent: TypeAlias = str | list[ChatCompletionContentPart]
"""A message's content: a string, or a list of content parts."""


def message_text(content: MessageContent | None) -> str:
    """The text of a message's content: the string itself, or its text parts joined.

    Non-text parts (images, audio, files, refusals) contribute nothing; ``None`` gives ``""``.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")


# ---------------------------------------------------------------------------------------------
# Tool calls and messages


@_open
class FunctionCall(TypedDict):
    """A function the model calls: its name and JSON-encoded arguments."""

    name: str
    """The function's name."""
    arguments: str
    """The arguments as generated by the model, JSON-encoded (not always valid JSON)."""


@_open
class ChatCompletionMessageFunctionToolCall(TypedDict):
    """A function tool call made by the model."""

    id: str
    """The call's id, quoted by the ``tool`` message answering it."""
    type: Literal["function"]
    """Tool-call tag."""
    function: FunctionCall
    """The function called."""


@_open
class CustomToolCall(TypedDict):
    """The input the model gives a custom tool."""

    name: str
    """The custom tool's name."""
    input: str
    """The input, free-form text."""


@_open
class ChatCompletionMessageCustomToolCall(TypedDict):
    """A custom tool call made by the model."""

    id: str
    """The call's id, quoted by the ``tool`` message answering it."""
    type: Literal["custom"]
    """Tool-call tag."""
    custom: CustomToolCall
    """The custom tool called."""


ChatCompletionMessageToolCall: TypeAlias = (
    ChatCompletionMessageFunctionToolCall | ChatCompletionMessageCustomToolCall
)
"""A tool call in an assistant message, discriminated by ``type``."""


@_open
class ChatCompletionAudio(TypedDict):
    """Audio output of an assistant message; a request's history quotes only its ``id``."""

    id: str
    """The audio's id."""
    data: NotRequired[str]
    """Base64-encoded audio, in the format the request asked for (responses)."""
    expires_at: NotRequired[int]
    """When the audio stops being available for later turns (Unix seconds; responses)."""
    transcript: NotRequired[str]
    """Transcript of the audio (responses)."""


@_open
class AnnotationURLCitation(TypedDict):
    """A web citation in an assistant message."""

    end_index: int
    """Index of the last character of the citation in the content."""
    start_index: int
    """Index of the first character of the citation in the content."""
    title: str
    """The cited page's title."""
    url: str
    """The cited page's URL."""


@_open
class Annotation(TypedDict):
    """An annotation of an assistant message (web search citations)."""

    type: Literal["url_citation"]
    """Annotation tag."""
    url_citation: AnnotationURLCitation
    """The citation."""


@_open
class ChatMessage(TypedDict):
    """One chat message, of any role, in a request's history or a response's choice.

    Per role, as OpenAI states it (checked by ``validate()``): ``system``, ``developer``,
    ``user`` and ``tool`` messages carry ``content``; a ``tool`` message carries
    ``tool_call_id`` and a ``function`` message ``name``; only ``assistant`` messages carry
    ``tool_calls``, ``refusal``, ``audio`` or ``function_call`` (their ``content`` may be
    absent or ``null``); ``refusal`` parts appear only in assistant content; ``function``
    content is a string or ``null``.
    """

    role: ChatRole
    """Who authored the message."""
    content: NotRequired[MessageContent | None]
    """The message text, or a list of content parts; optional on assistant messages."""
    name: NotRequired[str | None]
    """Optional author name (required on ``function`` messages: the function's name)."""
    tool_calls: NotRequired[list[ChatCompletionMessageToolCall] | None]
    """Tool calls the assistant made."""
    tool_call_id: NotRequired[str | None]
    """On a ``tool`` message: the id of the tool call it answers."""
    refusal: NotRequired[str | None]
    """The assistant's refusal message."""
    audio: NotRequired[ChatCompletionAudio | None]
    """The assistant's audio output (a history message quotes its ``id``)."""
    function_call: NotRequired[FunctionCall | None]
    """Deprecated form of ``tool_calls``: the function the assistant called."""
    annotations: NotRequired[list[Annotation] | None]
    """Annotations of an assistant answer (web search citations; responses)."""
    reasoning_content: NotRequired[str | None]
    """vLLM: the reasoning text of a reasoning model (older name of ``reasoning``)."""
    reasoning: NotRequired[str | None]
    """vLLM: the reasoning text of a reasoning model."""


register_defaults(ChatMessage, {"name": None})

_CONTENT_ROLES: Final = frozenset({"system", "developer", "user", "tool"})
_ASSISTANT_ONLY: Final = ("tool_calls", "refusal", "audio", "function_call")
_TEXT_ONLY_ROLES: Final = frozenset({"system", "developer", "user", "assistant"})
"""Roles whose message may be its text alone (tool messages need ``tool_call_id``, function
messages ``name``)."""


def _plain_text_message(value: Mapping[str, Any]) -> bool:
    """The common case, which breaks no rule: a role that needs no other key, and text."""
    return (
        len(value) == 2
        and "content" in value
        and value["role"] in _TEXT_ONLY_ROLES
        and type(value["content"]) is str
    )


@register_invariant(ChatMessage, holds=_plain_text_message)
def _message_fits_role(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """The per-role rules of OpenAI's message types (see :class:`ChatMessage`)."""
    role = value["role"]
    content = value.get("content")
    if role in _CONTENT_ROLES and content is None:
        got = "null" if "content" in value else "no 'content' key"
        yield ("content",), f"expected content on a {role!r} message, got {got}"
    if role == "tool" and value.get("tool_call_id") is None:
        got = "null" if "tool_call_id" in value else "no 'tool_call_id' key"
        yield ("tool_call_id",), f"expected a tool_call_id on a 'tool' message, got {got}"
    if role != "tool" and value.get("tool_call_id") is not None:
        yield (
            ("tool_call_id",),
            f"expected tool_call_id only on 'tool' messages, got a {role!r} message",
        )
    if role == "function":
        if value.get("name") is None:
            got = "null" if "name" in value else "no 'name' key"
            yield ("name",), f"expected a name on a 'function' message, got {got}"
        if isinstance(content, list):
            yield (
                ("content",),
                "expected a str or null on a 'function' message, got a list of parts",
            )
    if role != "assistant":
        for key in _ASSISTANT_ONLY:
            if value.get(key) is not None:
                yield (key,), f"expected {key} only on 'assistant' messages, got a {role!r} message"
        if isinstance(content, list):
            for index, part in enumerate(content):
                if part.get("type") == "refusal":
                    yield (
                        ("content", index, "type"),
                        "expected a refusal part only in 'assistant' messages, "
                        f"got a {role!r} message",
                    )


# ---------------------------------------------------------------------------------------------
# Chat requests


@_open
class FunctionDefinition(TypedDict):
    """A function the model may call."""

    name: str
    """The function's name (a-z, A-Z, 0-9, underscores and dashes, at most 64 characters)."""
    description: NotRequired[str | None]
    """What the function does, for the model to choose when to call it."""
    parameters: NotRequired[dict[str, Any] | None]
    """The parameters, as a JSON Schema object; absent for a function without parameters."""
    strict: NotRequired[bool | None]
    """Whether the arguments must follow ``parameters`` exactly."""


@_open
class ChatCompletionFunctionTool(TypedDict):
    """A function tool the model may call."""

    type: Literal["function"]
    """Tool tag."""
    function: FunctionDefinition
    """The function."""


@_open
class CustomToolDefinition(TypedDict):
    """A custom tool: free-form input, optionally constrained by a grammar."""

    name: str
    """The tool's name."""
    description: NotRequired[str]
    """What the tool does."""
    format: NotRequired[dict[str, Any]]
    """The input format: ``{"type": "text"}`` or a ``grammar`` (``lark`` or ``regex``)."""


@_open
class ChatCompletionCustomTool(TypedDict):
    """A custom tool the model may call."""

    type: Literal["custom"]
    """Tool tag."""
    custom: CustomToolDefinition
    """The tool."""


ChatCompletionTool: TypeAlias = ChatCompletionFunctionTool | ChatCompletionCustomTool
"""A tool of a chat request, discriminated by ``type``."""


@_open
class FunctionCallOption(TypedDict):
    """Names the function (tool) the model must call."""

    name: str
    """The function's name."""


@_open
class ChatCompletionNamedToolChoice(TypedDict):
    """Forces a call of the named function tool."""

    type: Literal["function"]
    """Tool-choice tag."""
    function: FunctionCallOption
    """The function to call."""


@_open
class ChatCompletionNamedToolChoiceCustom(TypedDict):
    """Forces a call of the named custom tool."""

    type: Literal["custom"]
    """Tool-choice tag."""
    custom: FunctionCallOption
    """The custom tool to call."""


@_open
class ChatCompletionAllowedToolChoice(TypedDict):
    """Restricts the model to a subset of the tools."""

    type: Literal["allowed_tools"]
    """Tool-choice tag."""
    allowed_tools: dict[str, Any]
    """``mode`` (``"auto"`` or ``"required"``) and ``tools`` (tool definitions)."""


ChatCompletionToolChoice: TypeAlias = (
    ToolChoiceMode
    | ChatCompletionNamedToolChoice
    | ChatCompletionNamedToolChoiceCustom
    | ChatCompletionAllowedToolChoice
)
"""Which tool the model calls: a mode, a named tool, or a subset of the tools."""


@_open
class ResponseFormatText(TypedDict):
    """Answer in plain text (the default)."""

    type: Literal["text"]
    """Response-format tag."""


@_open
class ResponseFormatJSONObject(TypedDict):
    """Answer with a JSON object (older JSON mode)."""

    type: Literal["json_object"]
    """Response-format tag."""


@_open
class ResponseFormatJSONSchemaSpec(TypedDict):
    """The schema of a ``json_schema`` response format."""

    name: str
    """The format's name (a-z, A-Z, 0-9, underscores and dashes, at most 64 characters)."""
    description: NotRequired[str]
    """What the format is for."""
    schema: NotRequired[dict[str, Any]]
    """The JSON Schema the answer follows."""
    strict: NotRequired[bool | None]
    """Whether the answer must follow the schema exactly."""


@_open
class ResponseFormatJSONSchema(TypedDict):
    """Answer with JSON that follows a schema (Structured Outputs)."""

    type: Literal["json_schema"]
    """Response-format tag."""
    json_schema: ResponseFormatJSONSchemaSpec
    """The schema."""


ResponseFormat: TypeAlias = ResponseFormatText | ResponseFormatJSONObject | ResponseFormatJSONSchema
"""The format of a chat answer, discriminated by ``type``."""


@_open
class ChatCompletionStreamOptions(TypedDict):
    """Options of a streamed answer."""

    include_usage: NotRequired[bool | None]
    """Send a last chunk with ``usage`` and no choices; other chunks carry ``usage: null``."""
    include_obfuscation: NotRequired[bool | None]
    """Pad chunks with an ``obfuscation`` field (OpenAI)."""
    continuous_usage_stats: NotRequired[bool | None]
    """vLLM: put the usage so far on every chunk."""


@_open
class ChatCompletionAudioParam(TypedDict):
    """Audio output parameters (with ``modalities: ["audio"]``)."""

    format: Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]
    """Output audio encoding."""
    voice: str | FunctionCallOption | dict[str, Any]
    """A built-in voice name (``"alloy"`` …) or ``{"id": …}`` of a custom voice."""


@_open
class ChatCompletionPredictionContent(TypedDict):
    """Predicted output (Predicted Outputs), to speed up a mostly known answer."""

    type: Literal["content"]
    """Prediction tag."""
    content: MessageContent
    """The predicted text, or text parts."""


@_open
class _SamplingExtensions(TypedDict):
    """vLLM's sampling extensions, shared by chat and legacy completion requests."""

    top_k: NotRequired[Annotated[int, Ge(-1)] | None]
    """vLLM: sample from the ``top_k`` most likely tokens; 0 or -1 for all of them."""
    min_p: NotRequired[UnitInterval | None]
    """vLLM: least probability of a token relative to the most likely one, in [0, 1]."""
    repetition_penalty: NotRequired[Annotated[float, Gt(0)] | None]
    """vLLM: repetition penalty (> 0); 1 is none, > 1 discourages repeats."""
    length_penalty: NotRequired[float | None]
    """vLLM: beam-search length penalty."""
    min_tokens: NotRequired[NonNegativeInt | None]
    """vLLM: least number of tokens generated before a stop may end generation (>= 0)."""
    stop_token_ids: NotRequired[list[NonNegativeInt] | None]
    """vLLM: token ids that stop generation."""
    ignore_eos: NotRequired[bool | None]
    """vLLM: keep generating after the end-of-sequence token."""
    skip_special_tokens: NotRequired[bool | None]
    """vLLM: leave special tokens out of the output text."""
    spaces_between_special_tokens: NotRequired[bool | None]
    """vLLM: put spaces between special tokens in the output text."""
    include_stop_str_in_output: NotRequired[bool | None]
    """vLLM: keep the matched stop string at the end of the output."""
    use_beam_search: NotRequired[bool | None]
    """vLLM: decode with beam search (width ``n``) instead of sampling."""


@_open
class ChatCompletionRequest(_SamplingExtensions):
    """``POST /v1/chat/completions`` request body."""

    model: str
    """Model name."""
    messages: Annotated[list[ChatMessage], MinLen(1)]
    """The conversation so far: at least one message."""
    temperature: NotRequired[Temperature | None]
    """Sampling temperature in [0, 2]; ``None`` for the default (1)."""
    max_tokens: NotRequired[NonNegativeInt | None]
    """Deprecated for ``max_completion_tokens``: most tokens to generate (>= 0)."""
    stream: NotRequired[bool | None]
    """Whether to stream chunks as server-sent events."""
    top_p: NotRequired[UnitInterval | None]
    """Nucleus sampling threshold in [0, 1] (OpenAI accepts 0; vLLM wants > 0)."""
    n: NotRequired[ChoiceCount | None]
    """Number of choices to generate, in [1, 128]."""
    stop: NotRequired[str | StopSequences | None]
    """A stop sequence, or 1 to 4 of them."""
    presence_penalty: NotRequired[Penalty | None]
    """Presence penalty in [-2, 2]."""
    frequency_penalty: NotRequired[Penalty | None]
    """Frequency penalty in [-2, 2]."""
    user: NotRequired[str | None]
    """End-user identifier."""
    session_id: NotRequired[str | None]
    """sageLLM session identifier (extension)."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""
    max_completion_tokens: NotRequired[NonNegativeInt | None]
    """Most tokens to generate, reasoning tokens included (>= 0)."""
    logprobs: NotRequired[bool | None]
    """Whether to return the log probability of each output token."""
    top_logprobs: NotRequired[TopLogprobCount | None]
    """Most likely tokens returned per position with ``logprobs``, in [0, 20]."""
    logit_bias: NotRequired[dict[str, LogitBias] | None]
    """Token id (a decimal string) -> bias added to its logit, in [-100, 100]."""
    seed: NotRequired[int | None]
    """Random seed, for best-effort reproducible sampling."""
    tools: NotRequired[list[ChatCompletionTool] | None]
    """Tools the model may call."""
    tool_choice: NotRequired[ChatCompletionToolChoice | None]
    """Which tool the model calls: ``"none"``, ``"auto"``, ``"required"`` or a named one."""
    parallel_tool_calls: NotRequired[bool | None]
    """Whether the model may call several tools in one turn."""
    functions: NotRequired[list[FunctionDefinition] | None]
    """Deprecated for ``tools``: functions the model may call."""
    function_call: NotRequired[Literal["none", "auto"] | FunctionCallOption | None]
    """Deprecated for ``tool_choice``: which function the model calls."""
    response_format: NotRequired[ResponseFormat | None]
    """The answer's format: ``text``, ``json_object`` or ``json_schema``."""
    stream_options: NotRequired[ChatCompletionStreamOptions | None]
    """Options of a streamed answer (``include_usage``)."""
    metadata: NotRequired[dict[str, str] | None]
    """Up to 16 string key-value pairs stored with the completion (OpenAI)."""
    store: NotRequired[bool | None]
    """Whether OpenAI stores the completion."""
    modalities: NotRequired[list[ChatModality] | None]
    """Output modalities: ``["text"]`` (the default) or ``["text", "audio"]``."""
    audio: NotRequired[ChatCompletionAudioParam | None]
    """Audio output parameters, with ``modalities`` including ``"audio"``."""
    prediction: NotRequired[ChatCompletionPredictionContent | None]
    """Predicted output, to speed up a mostly known answer."""
    reasoning_effort: NotRequired[ReasoningEffort | None]
    """How much a reasoning model reasons."""
    service_tier: NotRequired[ServiceTier | None]
    """OpenAI's processing tier."""
    verbosity: NotRequired[Literal["low", "medium", "high"] | None]
    """How long the model's answer is (OpenAI; default ``"medium"``)."""
    safety_identifier: NotRequired[str | None]
    """A stable, hashed end-user identifier for OpenAI's abuse detection (replaces ``user``)."""
    prompt_cache_key: NotRequired[str | None]
    """OpenAI's prompt-cache grouping key (replaces ``user`` for caching)."""
    prompt_cache_options: NotRequired[JSONObject | None]
    """OpenAI's prompt-caching options (``mode``, ``ttl``), carried as given."""
    prompt_cache_retention: NotRequired[Literal["in_memory", "24h"] | None]
    """Deprecated for ``prompt_cache_options.ttl``: OpenAI's prompt-cache retention."""
    web_search_options: NotRequired[JSONObject | None]
    """OpenAI's web search tool options, carried as given."""
    moderation: NotRequired[JSONObject | None]
    """OpenAI's moderation of the input and output, carried as given."""


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


# ---------------------------------------------------------------------------------------------
# Chat responses


@_open
class TopLogprob(TypedDict):
    """One of the most likely tokens at a position."""

    token: str
    """The token."""
    logprob: Annotated[float, Le(0)]
    """Its log probability (<= 0; -9999.0 stands for "very unlikely")."""
    bytes: NotRequired[list[Annotated[int, Ge(0), Le(255)]] | None]
    """The token's UTF-8 bytes; ``None`` when it has no byte form."""


@_open
class ChatCompletionTokenLogprob(TypedDict):
    """An output token with its log probability and the most likely alternatives."""

    token: str
    """The token."""
    logprob: Annotated[float, Le(0)]
    """Its log probability (<= 0; -9999.0 stands for "very unlikely")."""
    bytes: NotRequired[list[Annotated[int, Ge(0), Le(255)]] | None]
    """The token's UTF-8 bytes; ``None`` when it has no byte form."""
    top_logprobs: list[TopLogprob]
    """The most likely tokens at this position (``top_logprobs`` of them)."""


@_open
class ChoiceLogprobs(TypedDict):
    """Log probabilities of a chat choice's content and refusal tokens."""

    content: NotRequired[list[ChatCompletionTokenLogprob] | None]
    """Content tokens."""
    refusal: NotRequired[list[ChatCompletionTokenLogprob] | None]
    """Refusal tokens."""


@_open
class ChatCompletionChoice(TypedDict):
    """One generated chat answer."""

    index: int
    """Position among the choices."""
    message: ChatMessage
    """The generated message (role ``assistant``)."""
    finish_reason: ChatFinishReason | None
    """Why generation ended; ``None`` while unknown."""
    logprobs: NotRequired[ChoiceLogprobs | None]
    """Log probabilities, when asked for."""
    stop_reason: NotRequired[int | str | None]
    """vLLM: the stop string or token id that ended generation."""


@_open
class PromptTokensDetails(TypedDict):
    """Breakdown of the prompt tokens (tokens)."""

    cached_tokens: NotRequired[NonNegativeInt | None]
    """Prompt tokens served from the prompt cache."""
    audio_tokens: NotRequired[NonNegativeInt | None]
    """Audio input tokens."""
    image_tokens: NotRequired[NonNegativeInt | None]
    """Image input tokens."""
    text_tokens: NotRequired[NonNegativeInt | None]
    """Text input tokens."""
    cache_write_tokens: NotRequired[NonNegativeInt | None]
    """Prompt tokens written to the prompt cache."""


@_open
class CompletionTokensDetails(TypedDict):
    """Breakdown of the generated tokens (tokens)."""

    reasoning_tokens: NotRequired[NonNegativeInt | None]
    """Tokens a reasoning model spent reasoning."""
    audio_tokens: NotRequired[NonNegativeInt | None]
    """Audio output tokens."""
    text_tokens: NotRequired[NonNegativeInt | None]
    """Text output tokens."""
    accepted_prediction_tokens: NotRequired[NonNegativeInt | None]
    """Tokens of a prediction that appeared in the answer."""
    rejected_prediction_tokens: NotRequired[NonNegativeInt | None]
    """Tokens of a prediction that did not appear in the answer (still billed)."""


@_open
class ChatCompletionUsage(TypedDict):
    """Token counts of a chat completion (tokens)."""

    prompt_tokens: int
    """Tokens in the prompt."""
    completion_tokens: int
    """Tokens generated."""
    total_tokens: int
    """Prompt plus generated tokens."""
    prompt_tokens_details: NotRequired[PromptTokensDetails | None]
    """Breakdown of the prompt tokens."""
    completion_tokens_details: NotRequired[CompletionTokensDetails | None]
    """Breakdown of the generated tokens."""


@_open
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
    usage: NotRequired[ChatCompletionUsage | None]
    """Token counts; absent when unknown."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""
    system_fingerprint: NotRequired[str | None]
    """The backend configuration that answered (OpenAI)."""
    service_tier: NotRequired[ServiceTier | None]
    """The processing tier that answered (OpenAI)."""


register_defaults(
    ChatCompletionResponse,
    {"object": "chat.completion", "created": Factory(_now), "trace_id": None},
)


@_open
class ChoiceDeltaFunctionCall(TypedDict):
    """A fragment of a deprecated ``function_call``."""

    name: NotRequired[str | None]
    """The function's name, on its first fragment."""
    arguments: NotRequired[str | None]
    """The next piece of the JSON-encoded arguments."""


@_open
class ChoiceDeltaToolCall(TypedDict):
    """A fragment of a tool call in a stream: the first names it, later ones add arguments."""

    index: NonNegativeInt
    """Which tool call of the choice this fragment continues (>= 0)."""
    id: NotRequired[str | None]
    """The call's id, on its first fragment."""
    type: NotRequired[Literal["function"] | None]
    """Tool-call tag, on its first fragment."""
    function: NotRequired[ChoiceDeltaFunctionCall | None]
    """The function's name (first fragment) and the next piece of its arguments."""


@_open
class ChoiceDeltaAudio(TypedDict):
    """A fragment of an assistant's audio output."""

    id: NotRequired[str | None]
    """The audio's id."""
    data: NotRequired[str | None]
    """The next piece of base64-encoded audio."""
    expires_at: NotRequired[int | None]
    """When the audio stops being available (Unix seconds)."""
    transcript: NotRequired[str | None]
    """The next piece of the transcript."""


@_open
class ChatCompletionStreamDelta(TypedDict):
    """The increment a stream chunk adds to a choice."""

    role: NotRequired[ChatRole | None]
    """Author role, sent with the first chunk."""
    content: NotRequired[str | None]
    """New text."""
    refusal: NotRequired[str | None]
    """New refusal text."""
    tool_calls: NotRequired[list[ChoiceDeltaToolCall] | None]
    """Tool-call fragments."""
    function_call: NotRequired[ChoiceDeltaFunctionCall | None]
    """Deprecated: a fragment of a function call."""
    audio: NotRequired[ChoiceDeltaAudio | None]
    """A fragment of audio output."""
    reasoning_content: NotRequired[str | None]
    """vLLM: new reasoning text (older name of ``reasoning``)."""
    reasoning: NotRequired[str | None]
    """vLLM: new reasoning text."""


register_defaults(ChatCompletionStreamDelta, {"role": None, "content": None})


@_open
class ChatCompletionStreamChoice(TypedDict):
    """One choice's part of a stream chunk."""

    index: int
    """Position among the choices."""
    delta: ChatCompletionStreamDelta
    """What this chunk adds."""
    finish_reason: NotRequired[ChatFinishReason | None]
    """Why generation ended, on the choice's last chunk."""
    logprobs: NotRequired[ChoiceLogprobs | None]
    """Log probabilities of this chunk's tokens, when asked for."""
    stop_reason: NotRequired[int | str | None]
    """vLLM: the stop string or token id that ended generation."""


register_defaults(ChatCompletionStreamChoice, {"finish_reason": None})


@_open
class ChatCompletionStreamResponse(TypedDict):
    """One server-sent chunk of a streamed chat completion.

    With ``stream_options.include_usage`` every chunk carries ``usage: null`` except the last,
    which has ``usage`` and an empty ``choices`` list.
    """

    id: str
    """Completion identifier, the same on every chunk."""
    object: NotRequired[Literal["chat.completion.chunk"]]
    """Object tag."""
    created: NotRequired[int]
    """Creation time (Unix seconds), the same on every chunk."""
    model: str
    """Model that answers."""
    choices: list[ChatCompletionStreamChoice]
    """Per-choice increments; empty on the usage-only last chunk."""
    usage: NotRequired[ChatCompletionUsage | None]
    """Token counts, on the usage-only last chunk."""
    system_fingerprint: NotRequired[str | None]
    """The backend configuration that answers (OpenAI)."""
    service_tier: NotRequired[ServiceTier | None]
    """The processing tier that answers (OpenAI)."""
    obfuscation: NotRequired[str | None]
    """Random padding (OpenAI, with ``stream_options.include_obfuscation``)."""


register_defaults(
    ChatCompletionStreamResponse,
    {"object": "chat.completion.chunk", "created": Factory(_now)},
)


# ---------------------------------------------------------------------------------------------
# Legacy completions

TokenIds: TypeAlias = Annotated[list[NonNegativeInt], MinLen(1)]
"""A non-empty list of token ids."""

CompletionPrompt: TypeAlias = (
    str | Annotated[list[str], MinLen(1)] | TokenIds | Annotated[list[TokenIds], MinLen(1)]
)
"""A prompt: a string, strings (a batch), token ids, or lists of token ids (a batch)."""


@_open
class CompletionRequest(_SamplingExtensions):
    """``POST /v1/completions`` request body."""

    model: str
    """Model name."""
    prompt: CompletionPrompt | None
    """Text to continue: a string, strings, token ids or lists of them; ``None`` for
    OpenAI's document separator ``<|endoftext|>``."""
    temperature: NotRequired[Temperature | None]
    """Sampling temperature in [0, 2]; ``None`` for the default (1)."""
    max_tokens: NotRequired[NonNegativeInt | None]
    """Most tokens to generate (>= 0); OpenAI's default is 16."""
    stream: NotRequired[bool | None]
    """Whether to stream chunks as server-sent events."""
    top_p: NotRequired[UnitInterval | None]
    """Nucleus sampling threshold in [0, 1] (OpenAI accepts 0; vLLM wants > 0)."""
    n: NotRequired[ChoiceCount | None]
    """Number of choices to generate, in [1, 128]."""
    stop: NotRequired[str | StopSequences | None]
    """A stop sequence, or 1 to 4 of them."""
    user: NotRequired[str | None]
    """End-user identifier."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""
    echo: NotRequired[bool | None]
    """Whether the answer starts with the prompt."""
    suffix: NotRequired[str | None]
    """Text that follows the completion (insertion)."""
    logprobs: NotRequired[CompletionLogprobCount | None]
    """Most likely tokens returned per position with their log probabilities, in [0, 5]."""
    best_of: NotRequired[BestOf | None]
    """Candidates generated server-side, the best ``n`` returned, in [0, 20]."""
    presence_penalty: NotRequired[Penalty | None]
    """Presence penalty in [-2, 2]."""
    frequency_penalty: NotRequired[Penalty | None]
    """Frequency penalty in [-2, 2]."""
    logit_bias: NotRequired[dict[str, LogitBias] | None]
    """Token id (a decimal string) -> bias added to its logit, in [-100, 100]."""
    seed: NotRequired[int | None]
    """Random seed, for best-effort reproducible sampling."""
    stream_options: NotRequired[ChatCompletionStreamOptions | None]
    """Options of a streamed answer (``include_usage``)."""


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


@_open
class CompletionChoiceLogprobs(TypedDict):
    """Log probabilities of a text completion choice, position by position."""

    text_offset: NotRequired[list[int] | None]
    """Character offset of each token in the text."""
    token_logprobs: NotRequired[list[Annotated[float, Le(0)] | None] | None]
    """Log probability of each token; ``None`` for the first echoed prompt token."""
    tokens: NotRequired[list[str] | None]
    """The tokens."""
    top_logprobs: NotRequired[list[dict[str, Annotated[float, Le(0)]] | None] | None]
    """Per position, the most likely tokens and their log probabilities."""


@_open
class CompletionChoice(TypedDict):
    """One generated text continuation."""

    index: int
    """Position among the choices."""
    text: str
    """Generated text (a stream chunk's new text)."""
    finish_reason: CompletionFinishReason | None
    """Why generation ended; ``None`` while unknown."""
    logprobs: NotRequired[CompletionChoiceLogprobs | None]
    """Log probabilities, when asked for."""
    stop_reason: NotRequired[int | str | None]
    """vLLM: the stop string or token id that ended generation."""


class CompletionUsage(ChatCompletionUsage):
    """Token counts of a text completion (tokens); the same keys as the chat one."""


_open(CompletionUsage)


@_open
class CompletionResponse(TypedDict):
    """``POST /v1/completions`` response body, and each chunk of a streamed one."""

    id: str
    """Completion identifier."""
    object: NotRequired[Literal["text_completion"]]
    """Object tag."""
    created: NotRequired[int]
    """Creation time (Unix seconds)."""
    model: str
    """Model that answered."""
    choices: list[CompletionChoice]
    """Generated continuations; empty on a stream's usage-only last chunk."""
    usage: NotRequired[CompletionUsage | None]
    """Token counts; absent on stream chunks and when unknown."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""
    system_fingerprint: NotRequired[str | None]
    """The backend configuration that answered (OpenAI)."""


register_defaults(
    CompletionResponse,
    {"object": "text_completion", "created": Factory(_now), "trace_id": None},
)


# ---------------------------------------------------------------------------------------------
# Embeddings

EmbeddingInput: TypeAlias = (
    str | Annotated[list[str], MinLen(1)] | TokenIds | Annotated[list[TokenIds], MinLen(1)]
)
"""What to embed: a string, strings, token ids, or lists of token ids."""


@_open
class EmbeddingRequest(TypedDict):
    """``POST /v1/embeddings`` request body."""

    input: EmbeddingInput
    """Text(s) or token ids to embed."""
    model: str
    """Model name."""
    encoding_format: NotRequired[EmbeddingEncodingFormat]
    """Encoding of the returned vectors (the official SDK asks for ``"base64"``)."""
    dimensions: NotRequired[PositiveInt | None]
    """Requested vector length (>= 1); ``None`` for the model's."""
    user: NotRequired[str | None]
    """End-user identifier."""


register_defaults(EmbeddingRequest, {"encoding_format": "float", "dimensions": None, "user": None})


@_open
class EmbeddingData(TypedDict):
    """One embedding vector."""

    object: NotRequired[Literal["embedding"]]
    """Object tag."""
    embedding: list[float] | str
    """The vector: numbers, or with ``encoding_format: "base64"`` the little-endian
    float32 values base64-encoded."""
    index: int
    """Position of the embedded input."""


register_defaults(EmbeddingData, {"object": "embedding"})


@_open
class EmbeddingUsage(TypedDict):
    """Token counts of an embedding request (tokens)."""

    prompt_tokens: int
    """Tokens in the inputs."""
    total_tokens: int
    """Tokens processed."""
    completion_tokens: NotRequired[int | None]
    """vLLM: generated tokens (0)."""


@_open
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


# ---------------------------------------------------------------------------------------------
# Models


@_open
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
    root: NotRequired[str | None]
    """vLLM: the base model a LoRA adapter was trained from, or the model itself."""
    parent: NotRequired[str | None]
    """vLLM: the model a LoRA adapter applies to."""
    max_model_len: NotRequired[PositiveInt | None]
    """vLLM: the context length (tokens, > 0)."""


register_defaults(ModelInfo, {"object": "model", "created": Factory(_now), "owned_by": "sagellm"})


@_open
class ModelListResponse(TypedDict):
    """``GET /v1/models`` response body."""

    object: NotRequired[Literal["list"]]
    """Object tag."""
    data: list[ModelInfo]
    """Served models."""


register_defaults(ModelListResponse, {"object": "list"})


# ---------------------------------------------------------------------------------------------
# Errors


@_open
class OpenAIError(TypedDict):
    """The error object of an OpenAI-style error body."""

    message: str
    """Human-readable description."""
    type: str
    """Error category, e.g. ``"invalid_request_error"`` (vLLM: ``"BadRequestError"``)."""
    param: NotRequired[str | None]
    """The request parameter at fault."""
    code: NotRequired[str | int | None]
    """Machine-readable error code; vLLM sends the HTTP status as an int."""


register_defaults(OpenAIError, {"param": None, "code": None})


@_open
class OpenAIErrorResponse(TypedDict):
    """An OpenAI-style error response body."""

    error: OpenAIError
    """The error."""


@_open
class VLLMFlatErrorResponse(TypedDict):
    """vLLM's error body before v0.10.1: the error's keys at the top level."""

    object: Literal["error"]
    """Object tag."""
    message: str
    """Human-readable description."""
    type: str
    """Error category, e.g. ``"BadRequestError"``."""
    param: NotRequired[str | None]
    """The request parameter at fault."""
    code: NotRequired[int | str | None]
    """The HTTP status (an int)."""


OpenAIErrorBody: TypeAlias = OpenAIErrorResponse | VLLMFlatErrorResponse
"""Any error body an OpenAI-compatible server sends: OpenAI's (and vLLM's since v0.10.1)
wrapped ``{"error": {...}}``, or vLLM's older flat one."""


# ---------------------------------------------------------------------------------------------
# Stream rules of chat and text completion chunks

_CHOICE_STREAM_RULES: Final = {
    "same_identity": "id, model and created are the same on every chunk.",
    "one_finish_per_choice": "Each choice index gets finish_reason exactly once, and nothing "
    "follows it for that choice (but the usage-only chunk).",
    "usage_chunk_last": "At most one usage-only chunk (choices: []), the last.",
    "dense_choice_indexes": "The choice indexes seen are 0 to n-1, without gaps.",
}
_CHAT_STREAM_RULES: Final = {
    **_CHOICE_STREAM_RULES,
    "role_first": "A choice's first delta carries role 'assistant'.",
    "tool_call_fragments": "A tool call's first fragment (per tool_calls[].index) carries id, "
    "type and function.name; later fragments only index and function.arguments.",
}
_CHUNK_IDENTITY: Final = ("id", "model", "created")
_Path: TypeAlias = tuple[str | int, ...]


class _ChoiceStream:
    """One stream of completion chunks: its identity, and per choice where it finished.

    Its size grows with the number of choices and tool calls, not of chunks.
    """

    __slots__ = ("finished_at", "identity", "usage_at")

    def __init__(self) -> None:
        self.identity: tuple[object, ...] | None = None
        self.finished_at: dict[int, int | None] = {}
        """Choice index -> the chunk that finished it, ``None`` while it runs."""
        self.usage_at: int | None = None

    def feed(self, index: int, chunk: Any) -> list[InvariantViolation]:
        from ._reprs import short_repr

        found: list[InvariantViolation] = []
        identity = tuple(chunk.get(key) for key in _CHUNK_IDENTITY)
        if self.identity is None:
            self.identity = identity
        elif identity != self.identity:
            found.extend(
                ((index, key), f"expected {short_repr(first)} as in [0], got {short_repr(now)}")
                for key, first, now in zip(_CHUNK_IDENTITY, self.identity, identity, strict=True)
                if first != now
            )
        if self.usage_at is not None:
            found.append(
                ((index,), f"expected the usage-only chunk at [{self.usage_at}] last, got a chunk")
            )
        elif not chunk["choices"]:
            self.usage_at = index
        for position, choice in enumerate(chunk["choices"]):
            found.extend(self._choice(index, position, choice))
        return found

    def _choice(self, index: int, position: int, choice: Any) -> Iterator[InvariantViolation]:
        number = choice["index"]
        path = (index, "choices", position)
        if number not in self.finished_at:
            self.finished_at[number] = None
            yield from self._first(path, number, choice)
        elif (finished := self.finished_at[number]) is not None:
            yield path, f"expected nothing for choice {number} after its finish at [{finished}]"
            return
        else:
            yield from self._later(path, number, choice)
        if choice.get("finish_reason") is not None:
            self.finished_at[number] = index

    def _first(self, path: _Path, number: int, choice: Any) -> Iterator[InvariantViolation]:
        """Rules of a choice's first chunk (none for text completions)."""
        return iter(())

    def _later(self, path: _Path, number: int, choice: Any) -> Iterator[InvariantViolation]:
        """Rules of a choice's later chunks (none for text completions)."""
        return iter(())

    def close(self, count: int) -> list[InvariantViolation]:
        if not count:
            return [((0,), "expected a chunk, got an empty stream")]
        found: list[InvariantViolation] = [
            ((count,), f"expected a finish_reason for choice {number}, got the stream's end")
            for number, finished in sorted(self.finished_at.items())
            if finished is None
        ]
        numbers = sorted(self.finished_at)
        if numbers != list(range(len(numbers))):
            found.append(
                ((count,), f"expected choice indexes 0 to {len(numbers) - 1}, got {numbers}")
            )
        elif not numbers:
            found.append(((count,), "expected at least one choice, got none"))
        return found


@register_stream_rules(ChatCompletionStreamResponse, _CHAT_STREAM_RULES)
class _ChatChunkStream(_ChoiceStream):
    """One stream of chat completion chunks; also tracks the tool calls each choice opened."""

    __slots__ = ("tool_calls",)

    def __init__(self) -> None:
        super().__init__()
        self.tool_calls: set[tuple[int, int]] = set()
        """``(choice index, tool call index)`` of every tool call seen."""

    def _first(self, path: _Path, number: int, choice: Any) -> Iterator[InvariantViolation]:
        role = choice["delta"].get("role")
        if role != "assistant":
            yield (
                (*path, "delta", "role"),
                f"expected 'assistant' on choice {number}'s first delta, got {role!r}",
            )
        yield from self._later(path, number, choice)

    def _later(self, path: _Path, number: int, choice: Any) -> Iterator[InvariantViolation]:
        for position, call in enumerate(choice["delta"].get("tool_calls") or ()):
            where = (*path, "delta", "tool_calls", position)
            key = (number, call["index"])
            function = call.get("function") or {}
            opening = {"id": call.get("id"), "type": call.get("type"), "name": function.get("name")}
            if key not in self.tool_calls:
                self.tool_calls.add(key)
                missing = [name for name, value in opening.items() if value is None]
                if missing:
                    yield (
                        where,
                        (
                            f"expected id, type and function.name on tool call {call['index']}'s "
                            f"first fragment, got no {' or '.join(missing)}"
                        ),
                    )
            else:
                extra = [name for name, value in opening.items() if value is not None]
                if extra:
                    yield (
                        where,
                        (
                            f"expected only index and function.arguments on a later fragment of "
                            f"tool call {call['index']}, got {', '.join(extra)}"
                        ),
                    )


register_stream_rules(CompletionResponse, _CHOICE_STREAM_RULES)(_ChoiceStream)


# Who sends each top-level type no interface (typing.Protocol) takes or returns.
register_wire_side(
    "request",
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    ChatCompletionTool,
    ResponseFormat,
)
register_wire_side(
    "response",
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    CompletionResponse,
    EmbeddingResponse,
    ModelListResponse,
    OpenAIErrorBody,
)
register_wire_side("both", ChatCompletionMessageToolCall)

list_keys_in_help(globals())
