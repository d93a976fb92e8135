"""OpenAI Responses API wire types (``POST /v1/responses``). Open TypedDicts: vendor keys pass.

The types follow OpenAI's API reference and the official SDK's types
(``openai/types/responses/``), with vLLM's ``/v1/responses`` extensions (``top_k``,
``repetition_penalty``, ``stop`` …). They declare what a text-generating engine reads and
writes: input messages with text, image and file parts; function tools, function calls and
their outputs; reasoning items; the response object with its usage; and the streaming events
of messages, function calls and reasoning. OpenAI's hosted tools (web search, file search,
computer use, code interpreter, MCP, image generation, shell …), their items and their events
are not declared: ``validate()`` rejects them naming the ``type`` it expected.

Every name starts with ``Responses`` so that none collides with the chat types
(``ResponseFormat``) or Protocol v0.1's ``Response``.

The whole event stream is a registered stream contract (``validate_stream(ResponsesStreamEvent,
events)``, ``stream_checker``): sequence numbers increase, ``response.created`` comes first
and one terminal event last, an item's events come between its ``added`` and ``done``, and each
item's deltas join to its ``.done`` text.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Annotated, Any, Final, Literal, TypeAlias

from annotated_types import Ge, Gt
from typing_extensions import NotRequired, TypedDict

from ._key_help import list_keys_in_help
from ._registry import (
    InvariantCheck,
    InvariantViolation,
    register_defaults,
    register_invariant,
    register_stream_rules,
    register_wire_side,
)
from .constraints import NonNegativeInt, StopSequences, Temperature, TopLogprobCount, UnitInterval
from .openai import (
    ImageDetail,
    ReasoningEffort,
    ResponseFormatJSONObject,
    ResponseFormatText,
    ServiceTier,
    ToolChoiceMode,
    _open,
)

__all__ = [
    "ResponsesCompletedEvent",
    "ResponsesContentPart",
    "ResponsesContentPartAddedEvent",
    "ResponsesContentPartDoneEvent",
    "ResponsesCreatedEvent",
    "ResponsesError",
    "ResponsesErrorEvent",
    "ResponsesFailedEvent",
    "ResponsesFunctionCall",
    "ResponsesFunctionCallArgumentsDeltaEvent",
    "ResponsesFunctionCallArgumentsDoneEvent",
    "ResponsesFunctionCallOutput",
    "ResponsesFunctionTool",
    "ResponsesInProgressEvent",
    "ResponsesIncompleteDetails",
    "ResponsesIncompleteEvent",
    "ResponsesIncompleteReason",
    "ResponsesInputFile",
    "ResponsesInputImage",
    "ResponsesInputItem",
    "ResponsesInputMessage",
    "ResponsesInputText",
    "ResponsesInputTokensDetails",
    "ResponsesItemReference",
    "ResponsesItemStatus",
    "ResponsesJSONSchemaFormat",
    "ResponsesOutputItem",
    "ResponsesOutputItemAddedEvent",
    "ResponsesOutputItemDoneEvent",
    "ResponsesOutputMessage",
    "ResponsesOutputPart",
    "ResponsesOutputText",
    "ResponsesOutputTextDeltaEvent",
    "ResponsesOutputTextDoneEvent",
    "ResponsesOutputTokensDetails",
    "ResponsesReasoning",
    "ResponsesReasoningItem",
    "ResponsesReasoningText",
    "ResponsesReasoningTextDeltaEvent",
    "ResponsesReasoningTextDoneEvent",
    "ResponsesRefusal",
    "ResponsesRefusalDeltaEvent",
    "ResponsesRefusalDoneEvent",
    "ResponsesRequest",
    "ResponsesResponse",
    "ResponsesRole",
    "ResponsesStatus",
    "ResponsesStreamEvent",
    "ResponsesSummaryText",
    "ResponsesTextConfig",
    "ResponsesTextFormat",
    "ResponsesTool",
    "ResponsesToolChoice",
    "ResponsesToolChoiceAllowed",
    "ResponsesToolChoiceFunction",
    "ResponsesUsage",
]

ResponsesRole: TypeAlias = Literal["user", "assistant", "system", "developer"]
"""Who authored an input message; ``system`` and ``developer`` instruct the model."""

ResponsesItemStatus: TypeAlias = Literal["in_progress", "completed", "incomplete"]
"""Where an item is: still generated, finished, or cut short."""

ResponsesStatus: TypeAlias = Literal[
    "completed", "failed", "in_progress", "cancelled", "queued", "incomplete"
]
"""Where a response is in its life."""

ResponsesIncompleteReason: TypeAlias = Literal["max_output_tokens", "content_filter"]
"""Why a response stopped before the model finished."""


# ---------------------------------------------------------------------------------------------
# Content parts


@_open
class ResponsesInputText(TypedDict):
    """Text given to the model."""

    type: Literal["input_text"]
    """Part tag."""
    text: str
    """The text."""


@_open
class ResponsesInputImage(TypedDict):
    """An image given to the model, by URL or by uploaded file id."""

    type: Literal["input_image"]
    """Part tag."""
    image_url: NotRequired[str | None]
    """An ``https://`` URL or a ``data:`` URL with base64 image data."""
    file_id: NotRequired[str | None]
    """The id of an uploaded image file."""
    detail: NotRequired[ImageDetail]
    """How closely the model looks at the image; ``"auto"`` when absent."""


@_open
class ResponsesInputFile(TypedDict):
    """A file given to the model: inline, by URL or by uploaded file id."""

    type: Literal["input_file"]
    """Part tag."""
    file_data: NotRequired[str]
    """The file's content, base64-encoded."""
    file_id: NotRequired[str | None]
    """The id of an uploaded file."""
    file_url: NotRequired[str]
    """A URL of the file."""
    filename: NotRequired[str]
    """The file's name."""


@_open
class ResponsesOutputText(TypedDict):
    """Text the model generated (in an output message, or resent in an input's history)."""

    type: Literal["output_text"]
    """Part tag."""
    text: str
    """The text."""
    annotations: NotRequired[list[dict[str, Any]]]
    """Citations and file paths in the text; always present (maybe empty) in a response."""
    logprobs: NotRequired[list[dict[str, Any]] | None]
    """Log probabilities of the text's tokens, when asked for."""


@_open
class ResponsesRefusal(TypedDict):
    """The model's refusal to answer."""

    type: Literal["refusal"]
    """Part tag."""
    refusal: str
    """The refusal's explanation."""


@_open
class ResponsesReasoningText(TypedDict):
    """Reasoning text of a reasoning model."""

    type: Literal["reasoning_text"]
    """Part tag."""
    text: str
    """The reasoning text."""


@_open
class ResponsesSummaryText(TypedDict):
    """A summary of a reasoning model's reasoning."""

    type: Literal["summary_text"]
    """Part tag."""
    text: str
    """The summary."""


ResponsesContentPart: TypeAlias = (
    ResponsesInputText
    | ResponsesInputImage
    | ResponsesInputFile
    | ResponsesOutputText
    | ResponsesRefusal
)
"""A part of an input message's content, discriminated by ``type``."""

ResponsesOutputPart: TypeAlias = ResponsesOutputText | ResponsesRefusal | ResponsesReasoningText
"""A part of generated content, as the content-part events carry it."""


# ---------------------------------------------------------------------------------------------
# Items


@_open
class ResponsesInputMessage(TypedDict):
    """A message of the conversation given to the model (``type`` may be left out).

    An assistant message resent from an earlier response keeps its ``id`` and ``status``;
    ``output_text`` and ``refusal`` parts belong in assistant messages only (checked).
    """

    role: ResponsesRole
    """Who authored the message."""
    content: str | list[ResponsesContentPart]
    """The message's text, or its parts."""
    type: NotRequired[Literal["message"]]
    """Item tag; ``"message"`` when absent."""
    id: NotRequired[str | None]
    """The item's id, on a message resent from an earlier response."""
    status: NotRequired[ResponsesItemStatus | None]
    """The item's status, on a message resent from an earlier response."""
    phase: NotRequired[Literal["commentary", "final_answer"] | None]
    """An assistant message's phase: intermediate commentary, or the final answer."""


@register_invariant(ResponsesInputMessage)
def _generated_parts_in_assistant_messages(
    value: Mapping[str, Any],
) -> Iterator[InvariantViolation]:
    """``output_text`` and ``refusal`` parts appear only in ``assistant`` messages."""
    role, content = value["role"], value["content"]
    if role == "assistant" or isinstance(content, str):
        return
    for index, part in enumerate(content):
        if part["type"] in ("output_text", "refusal"):
            yield (
                ("content", index, "type"),
                f"expected {part['type']!r} parts only in 'assistant' messages, got a {role!r} "
                "message",
            )


@_open
class ResponsesOutputMessage(TypedDict):
    """A message the model generated."""

    type: Literal["message"]
    """Item tag."""
    id: str
    """The item's id."""
    role: Literal["assistant"]
    """Always ``"assistant"``."""
    status: ResponsesItemStatus
    """Where the message is."""
    content: list[ResponsesOutputText | ResponsesRefusal]
    """The message's parts."""
    phase: NotRequired[Literal["commentary", "final_answer"] | None]
    """The message's phase: intermediate commentary, or the final answer."""


@_open
class ResponsesFunctionCall(TypedDict):
    """A call of a function tool by the model (in a response, or resent in an input)."""

    type: Literal["function_call"]
    """Item tag."""
    call_id: str
    """The call's id, quoted by the ``function_call_output`` answering it."""
    name: str
    """The function's name."""
    arguments: str
    """The arguments as the model generated them, JSON-encoded (not always valid JSON)."""
    id: NotRequired[str | None]
    """The item's id."""
    status: NotRequired[ResponsesItemStatus | None]
    """Where the call is."""
    namespace: NotRequired[str | None]
    """The namespace of the function."""


@_open
class ResponsesFunctionCallOutput(TypedDict):
    """The result of a function call, given back to the model."""

    type: Literal["function_call_output"]
    """Item tag."""
    call_id: str
    """The id of the call this answers."""
    output: str | list[ResponsesInputText | ResponsesInputImage | ResponsesInputFile]
    """The result: text, or text, image and file parts."""
    id: NotRequired[str | None]
    """The item's id."""
    status: NotRequired[ResponsesItemStatus | None]
    """Where the item is."""


@_open
class ResponsesReasoningItem(TypedDict):
    """The reasoning of a reasoning model: its text, a summary, or both."""

    type: Literal["reasoning"]
    """Item tag."""
    id: str
    """The item's id."""
    summary: list[ResponsesSummaryText]
    """Summaries of the reasoning (maybe none)."""
    content: NotRequired[list[ResponsesReasoningText] | None]
    """The reasoning text."""
    encrypted_content: NotRequired[str | None]
    """The reasoning, encrypted by the server that generated it, for a later stateless turn."""
    status: NotRequired[ResponsesItemStatus | None]
    """Where the item is."""


@_open
class ResponsesItemReference(TypedDict):
    """A reference to an item stored by the server (needs a response store)."""

    id: str
    """The referenced item's id."""
    type: NotRequired[Literal["item_reference"] | None]
    """Item tag."""


ResponsesInputItem: TypeAlias = (
    ResponsesInputMessage
    | ResponsesFunctionCall
    | ResponsesFunctionCallOutput
    | ResponsesReasoningItem
    | ResponsesItemReference
)
"""An item of a request's ``input``: a message, a function call or its output, reasoning, or a
reference to a stored item."""

ResponsesOutputItem: TypeAlias = (
    ResponsesOutputMessage | ResponsesFunctionCall | ResponsesReasoningItem
)
"""An item of a response's ``output``, discriminated by ``type``."""


# ---------------------------------------------------------------------------------------------
# Tools, text format, reasoning


@_open
class ResponsesFunctionTool(TypedDict):
    """A function the model may call (flat: name and parameters beside ``type``)."""

    type: Literal["function"]
    """Tool tag."""
    name: str
    """The function's name."""
    parameters: NotRequired[dict[str, Any] | None]
    """The parameters, as a JSON Schema object."""
    strict: NotRequired[bool | None]
    """Whether the arguments must follow ``parameters`` exactly."""
    description: NotRequired[str | None]
    """What the function does, for the model to choose when to call it."""


ResponsesTool: TypeAlias = ResponsesFunctionTool
"""A tool of a request. Only function tools are declared; hosted tools are rejected."""


@_open
class ResponsesToolChoiceFunction(TypedDict):
    """Forces a call of the named function."""

    type: Literal["function"]
    """Tool-choice tag."""
    name: str
    """The function's name."""


@_open
class ResponsesToolChoiceAllowed(TypedDict):
    """Restricts the model to some of the tools."""

    type: Literal["allowed_tools"]
    """Tool-choice tag."""
    mode: Literal["auto", "required"]
    """Whether the model may or must call one of them."""
    tools: list[dict[str, Any]]
    """The allowed tools (``{"type": "function", "name": …}`` …)."""


ResponsesToolChoice: TypeAlias = (
    ToolChoiceMode | ResponsesToolChoiceFunction | ResponsesToolChoiceAllowed
)
"""Which tool the model calls: ``"none"``, ``"auto"``, ``"required"``, a named function, or
one of an allowed set."""


@_open
class ResponsesJSONSchemaFormat(TypedDict):
    """Structured output: the answer follows a JSON Schema (flat, unlike chat's)."""

    type: Literal["json_schema"]
    """Format tag."""
    name: str
    """The format's name (a-z, A-Z, 0-9, underscores and dashes, at most 64 characters)."""
    schema: dict[str, Any]
    """The JSON Schema the answer follows."""
    description: NotRequired[str | None]
    """What the format is for."""
    strict: NotRequired[bool | None]
    """Whether the answer must follow the schema exactly."""


ResponsesTextFormat: TypeAlias = (
    ResponseFormatText | ResponseFormatJSONObject | ResponsesJSONSchemaFormat
)
"""The answer's format: ``text``, ``json_object`` or ``json_schema``."""


@_open
class ResponsesTextConfig(TypedDict):
    """How the model writes its text answer."""

    format: NotRequired[ResponsesTextFormat | None]
    """The answer's format; ``{"type": "text"}`` when absent."""
    verbosity: NotRequired[Literal["low", "medium", "high"] | None]
    """How long the answer is."""


@_open
class ResponsesReasoning(TypedDict):
    """How a reasoning model reasons."""

    effort: NotRequired[ReasoningEffort | None]
    """How much the model reasons."""
    summary: NotRequired[Literal["auto", "concise", "detailed"] | None]
    """Whether and how the model summarises its reasoning."""
    generate_summary: NotRequired[Literal["auto", "concise", "detailed"] | None]
    """Deprecated for ``summary``."""


# ---------------------------------------------------------------------------------------------
# Request


@_open
class ResponsesRequest(TypedDict):
    """``POST /v1/responses`` request body."""

    model: str
    """Model name."""
    input: NotRequired[str | list[ResponsesInputItem]]
    """The input: a user message's text, or a list of items (messages, function calls and
    their outputs, reasoning)."""
    instructions: NotRequired[str | None]
    """A system message put before the input."""
    max_output_tokens: NotRequired[NonNegativeInt | None]
    """Most tokens to generate, reasoning tokens included (>= 0)."""
    temperature: NotRequired[Temperature | None]
    """Sampling temperature in [0, 2]; ``None`` for the default (1)."""
    top_p: NotRequired[UnitInterval | None]
    """Nucleus sampling threshold in [0, 1]."""
    top_logprobs: NotRequired[TopLogprobCount | None]
    """Most likely tokens returned per position, in [0, 20]."""
    stream: NotRequired[bool | None]
    """Whether to stream the answer as server-sent events."""
    stream_options: NotRequired[dict[str, Any] | None]
    """Options of a streamed answer (``include_obfuscation``)."""
    tools: NotRequired[list[ResponsesTool] | None]
    """Tools the model may call."""
    tool_choice: NotRequired[ResponsesToolChoice | None]
    """Which tool the model calls."""
    parallel_tool_calls: NotRequired[bool | None]
    """Whether the model may call several tools in one turn."""
    max_tool_calls: NotRequired[NonNegativeInt | None]
    """Most calls of hosted tools in the response."""
    text: NotRequired[ResponsesTextConfig | None]
    """How the model writes its text answer (``format``, ``verbosity``)."""
    reasoning: NotRequired[ResponsesReasoning | None]
    """How a reasoning model reasons."""
    metadata: NotRequired[dict[str, str] | None]
    """Up to 16 string key-value pairs stored with the response."""
    store: NotRequired[bool | None]
    """Whether the server stores the response for later retrieval (OpenAI's default: true)."""
    previous_response_id: NotRequired[str | None]
    """The id of a stored response this one continues."""
    conversation: NotRequired[str | dict[str, Any] | None]
    """A stored conversation this response belongs to."""
    prompt: NotRequired[dict[str, Any] | None]
    """A stored prompt template and its variables."""
    include: NotRequired[list[str] | None]
    """Extra output data asked for (``message.output_text.logprobs`` …)."""
    background: NotRequired[bool | None]
    """Whether to run the response in the background."""
    truncation: NotRequired[Literal["auto", "disabled"] | None]
    """Whether input beyond the context window is dropped from the start, or rejected."""
    service_tier: NotRequired[ServiceTier | None]
    """OpenAI's processing tier."""
    user: NotRequired[str | None]
    """End-user identifier (replaced by ``safety_identifier`` and ``prompt_cache_key``)."""
    safety_identifier: NotRequired[str | None]
    """A stable identifier of the end user, for abuse detection."""
    prompt_cache_key: NotRequired[str | None]
    """A key grouping requests that share a prompt prefix, for caching."""
    top_k: NotRequired[Annotated[int, Ge(-1)] | None]
    """vLLM: sample from the ``top_k`` most likely tokens; 0 or -1 for all of them."""
    repetition_penalty: NotRequired[Annotated[float, Gt(0)] | None]
    """vLLM: repetition penalty (> 0); 1 is none, > 1 discourages repeats."""
    seed: NotRequired[int | None]
    """vLLM: random seed, for best-effort reproducible sampling."""
    stop: NotRequired[str | StopSequences | None]
    """vLLM: a stop sequence, or 1 to 4 of them."""
    skip_special_tokens: NotRequired[bool | None]
    """vLLM: leave special tokens out of the output text."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""


register_defaults(
    ResponsesRequest,
    {
        "instructions": None,
        "max_output_tokens": None,
        "temperature": 1.0,
        "top_p": 1.0,
        "stream": False,
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "store": True,
        "previous_response_id": None,
        "truncation": "disabled",
    },
)


# ---------------------------------------------------------------------------------------------
# Response


@_open
class ResponsesInputTokensDetails(TypedDict):
    """Breakdown of the input tokens (tokens)."""

    cached_tokens: int
    """Input tokens served from the prompt cache."""
    cache_write_tokens: int
    """Input tokens written to the prompt cache."""


@_open
class ResponsesOutputTokensDetails(TypedDict):
    """Breakdown of the output tokens (tokens)."""

    reasoning_tokens: int
    """Tokens spent reasoning."""


@_open
class ResponsesUsage(TypedDict):
    """Token counts of a response (tokens)."""

    input_tokens: int
    """Tokens of the input."""
    input_tokens_details: ResponsesInputTokensDetails
    """Breakdown of the input tokens."""
    output_tokens: int
    """Tokens generated, reasoning included."""
    output_tokens_details: ResponsesOutputTokensDetails
    """Breakdown of the output tokens."""
    total_tokens: int
    """Input and output tokens."""


@_open
class ResponsesError(TypedDict):
    """Why a response failed."""

    code: str
    """OpenAI's error code (``server_error``, ``rate_limit_exceeded``, ``invalid_prompt`` …)."""
    message: str
    """What went wrong, for people."""


@_open
class ResponsesIncompleteDetails(TypedDict):
    """Why a response is incomplete."""

    reason: NotRequired[ResponsesIncompleteReason | None]
    """The reason."""


@_open
class ResponsesResponse(TypedDict):
    """The response object: the answer to ``POST /v1/responses``, and the ``response`` of the
    lifecycle events. It echoes the request's settings.
    """

    id: str
    """The response's id (``resp_…``)."""
    object: Literal["response"]
    """Object tag."""
    created_at: float
    """When the response was created (Unix seconds)."""
    model: str
    """The model that generated the response."""
    output: list[ResponsesOutputItem]
    """The generated items, in order."""
    status: NotRequired[ResponsesStatus | None]
    """Where the response is in its life."""
    error: NotRequired[ResponsesError | None]
    """Why the response failed; ``None`` unless ``status`` is ``"failed"``."""
    incomplete_details: NotRequired[ResponsesIncompleteDetails | None]
    """Why the response is incomplete; ``None`` unless ``status`` is ``"incomplete"``."""
    usage: NotRequired[ResponsesUsage | None]
    """Token counts, once known."""
    completed_at: NotRequired[float | None]
    """When the response completed (Unix seconds)."""
    instructions: NotRequired[str | list[ResponsesInputItem] | None]
    """The request's ``instructions``."""
    max_output_tokens: NotRequired[NonNegativeInt | None]
    """The request's ``max_output_tokens``."""
    temperature: NotRequired[float | None]
    """The sampling temperature used."""
    top_p: NotRequired[float | None]
    """The nucleus sampling threshold used."""
    top_logprobs: NotRequired[int | None]
    """The request's ``top_logprobs``."""
    parallel_tool_calls: bool
    """The request's ``parallel_tool_calls``."""
    tool_choice: ResponsesToolChoice
    """The request's ``tool_choice``."""
    tools: list[ResponsesTool]
    """The request's ``tools``."""
    max_tool_calls: NotRequired[int | None]
    """The request's ``max_tool_calls``."""
    text: NotRequired[ResponsesTextConfig | None]
    """The request's ``text``."""
    reasoning: NotRequired[ResponsesReasoning | None]
    """The request's ``reasoning``."""
    metadata: NotRequired[dict[str, str] | None]
    """The request's ``metadata``."""
    store: NotRequired[bool | None]
    """Whether the response is stored."""
    previous_response_id: NotRequired[str | None]
    """The response this one continues."""
    truncation: NotRequired[Literal["auto", "disabled"] | None]
    """The request's ``truncation``."""
    background: NotRequired[bool | None]
    """Whether the response runs in the background."""
    service_tier: NotRequired[ServiceTier | None]
    """The processing tier used."""
    user: NotRequired[str | None]
    """The request's ``user``."""
    safety_identifier: NotRequired[str | None]
    """The request's ``safety_identifier``."""
    prompt_cache_key: NotRequired[str | None]
    """The request's ``prompt_cache_key``."""
    trace_id: NotRequired[str | None]
    """sageLLM distributed tracing identifier (extension)."""


_STATUS_DETAIL: Final = (("failed", "error"), ("incomplete", "incomplete_details"))


def _explain_status(value: dict[str, Any]) -> None:
    """Repair for generated responses: only the detail their status explains, and an error for
    a failed one."""
    status = value.get("status")
    for named, key in _STATUS_DETAIL:
        if status != named:
            value.pop(key, None)
    if status == "failed" and value.get("error") is None:
        value["error"] = {"code": "server_error", "message": "The response failed."}


@register_invariant(ResponsesResponse, repair=_explain_status)
def _status_explained(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``error`` is set exactly when ``status`` is ``"failed"``; ``incomplete_details`` only
    when ``status`` is ``"incomplete"``."""
    status = value.get("status")
    for named, key in _STATUS_DETAIL:
        present = value.get(key) is not None
        if status == "failed" and key == "error" and not present:
            yield (key,), "expected an error when status is 'failed', got none"
        elif present and status != named:
            yield (key,), f"expected {key} only when status is {named!r}, got status {status!r}"


# ---------------------------------------------------------------------------------------------
# Stream events


@_open
class _ResponsesEventBase(TypedDict):
    """What every Responses stream event carries beside its ``type``."""

    sequence_number: int
    """The event's position in the stream."""


@_open
class _ResponsesItemEvent(_ResponsesEventBase):
    """An event about one output item."""

    item_id: str
    """The item's id."""
    output_index: NonNegativeInt
    """The item's position in the response's ``output``."""


@_open
class _ResponsesPartEvent(_ResponsesItemEvent):
    """An event about one content part of an output item."""

    content_index: NonNegativeInt
    """The part's position in the item's content."""


@_open
class ResponsesCreatedEvent(_ResponsesEventBase):
    """The response was created (the first event of a stream)."""

    type: Literal["response.created"]
    """Event tag."""
    response: ResponsesResponse
    """The response, as created."""


@_open
class ResponsesInProgressEvent(_ResponsesEventBase):
    """The response is being generated."""

    type: Literal["response.in_progress"]
    """Event tag."""
    response: ResponsesResponse
    """The response, in progress."""


@_open
class ResponsesCompletedEvent(_ResponsesEventBase):
    """The response completed (terminal)."""

    type: Literal["response.completed"]
    """Event tag."""
    response: ResponsesResponse
    """The complete response."""


@_open
class ResponsesFailedEvent(_ResponsesEventBase):
    """The response failed (terminal)."""

    type: Literal["response.failed"]
    """Event tag."""
    response: ResponsesResponse
    """The failed response, with its ``error``."""


@_open
class ResponsesIncompleteEvent(_ResponsesEventBase):
    """The response ended incomplete (terminal)."""

    type: Literal["response.incomplete"]
    """Event tag."""
    response: ResponsesResponse
    """The incomplete response, with its ``incomplete_details``."""


@_open
class ResponsesErrorEvent(_ResponsesEventBase):
    """An error ended the stream (terminal)."""

    type: Literal["error"]
    """Event tag."""
    message: str
    """What went wrong."""
    code: NotRequired[str | None]
    """The error's code."""
    param: NotRequired[str | None]
    """The request parameter at fault."""


@_open
class ResponsesOutputItemAddedEvent(_ResponsesEventBase):
    """An output item began."""

    type: Literal["response.output_item.added"]
    """Event tag."""
    output_index: NonNegativeInt
    """The item's position in the response's ``output``."""
    item: ResponsesOutputItem
    """The item, as begun."""


@_open
class ResponsesOutputItemDoneEvent(_ResponsesEventBase):
    """An output item is finished."""

    type: Literal["response.output_item.done"]
    """Event tag."""
    output_index: NonNegativeInt
    """The item's position in the response's ``output``."""
    item: ResponsesOutputItem
    """The finished item."""


@_open
class ResponsesContentPartAddedEvent(_ResponsesPartEvent):
    """A content part of an output item began."""

    type: Literal["response.content_part.added"]
    """Event tag."""
    part: ResponsesOutputPart
    """The part, as begun (empty text)."""


@_open
class ResponsesContentPartDoneEvent(_ResponsesPartEvent):
    """A content part of an output item is finished."""

    type: Literal["response.content_part.done"]
    """Event tag."""
    part: ResponsesOutputPart
    """The finished part."""


@_open
class ResponsesOutputTextDeltaEvent(_ResponsesPartEvent):
    """More text of an ``output_text`` part."""

    type: Literal["response.output_text.delta"]
    """Event tag."""
    delta: str
    """The new text."""
    logprobs: list[dict[str, Any]]
    """Log probabilities of the new tokens (empty unless asked for)."""


@_open
class ResponsesOutputTextDoneEvent(_ResponsesPartEvent):
    """The whole text of an ``output_text`` part."""

    type: Literal["response.output_text.done"]
    """Event tag."""
    text: str
    """The whole text: the part's deltas joined."""
    logprobs: list[dict[str, Any]]
    """Log probabilities of the text's tokens (empty unless asked for)."""


@_open
class ResponsesRefusalDeltaEvent(_ResponsesPartEvent):
    """More text of a ``refusal`` part."""

    type: Literal["response.refusal.delta"]
    """Event tag."""
    delta: str
    """The new refusal text."""


@_open
class ResponsesRefusalDoneEvent(_ResponsesPartEvent):
    """The whole text of a ``refusal`` part."""

    type: Literal["response.refusal.done"]
    """Event tag."""
    refusal: str
    """The whole refusal: the part's deltas joined."""


@_open
class ResponsesReasoningTextDeltaEvent(_ResponsesPartEvent):
    """More text of a ``reasoning_text`` part."""

    type: Literal["response.reasoning_text.delta"]
    """Event tag."""
    delta: str
    """The new reasoning text."""


@_open
class ResponsesReasoningTextDoneEvent(_ResponsesPartEvent):
    """The whole text of a ``reasoning_text`` part."""

    type: Literal["response.reasoning_text.done"]
    """Event tag."""
    text: str
    """The whole reasoning text: the part's deltas joined."""


@_open
class ResponsesFunctionCallArgumentsDeltaEvent(_ResponsesItemEvent):
    """More of a function call's arguments."""

    type: Literal["response.function_call_arguments.delta"]
    """Event tag."""
    delta: str
    """The new arguments text."""


@_open
class ResponsesFunctionCallArgumentsDoneEvent(_ResponsesItemEvent):
    """A function call's whole arguments."""

    type: Literal["response.function_call_arguments.done"]
    """Event tag."""
    arguments: str
    """The whole arguments: the call's deltas joined."""
    name: NotRequired[str]
    """The function's name."""


ResponsesStreamEvent: TypeAlias = (
    ResponsesCreatedEvent
    | ResponsesInProgressEvent
    | ResponsesCompletedEvent
    | ResponsesFailedEvent
    | ResponsesIncompleteEvent
    | ResponsesErrorEvent
    | ResponsesOutputItemAddedEvent
    | ResponsesOutputItemDoneEvent
    | ResponsesContentPartAddedEvent
    | ResponsesContentPartDoneEvent
    | ResponsesOutputTextDeltaEvent
    | ResponsesOutputTextDoneEvent
    | ResponsesRefusalDeltaEvent
    | ResponsesRefusalDoneEvent
    | ResponsesReasoningTextDeltaEvent
    | ResponsesReasoningTextDoneEvent
    | ResponsesFunctionCallArgumentsDeltaEvent
    | ResponsesFunctionCallArgumentsDoneEvent
)
"""Any event of a ``/v1/responses`` stream, discriminated by ``type``."""


def _status_matches(expected: str) -> InvariantCheck:
    """The rule of a lifecycle event: its response's ``status`` is ``expected``."""

    def check(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
        status = value["response"].get("status")
        if status != expected:
            yield (
                ("response", "status"),
                f"expected {expected!r} in a {value['type']!r} event, got {status!r}",
            )

    check.__name__ = f"_status_{expected}"
    check.__doc__ = f"The response's ``status`` is ``{expected!r}``."
    return check


def _set_status(expected: str) -> Callable[[dict[str, Any]], None]:
    """Repair for generated lifecycle events: the response's ``status`` is ``expected`` (and
    its details agree), so a strategy draws such events without discarding most draws."""

    def repair(value: dict[str, Any]) -> None:
        value["response"]["status"] = expected
        _explain_status(value["response"])

    return repair


for _event, _expected in (
    (ResponsesCreatedEvent, "in_progress"),
    (ResponsesInProgressEvent, "in_progress"),
    (ResponsesCompletedEvent, "completed"),
    (ResponsesFailedEvent, "failed"),
    (ResponsesIncompleteEvent, "incomplete"),
):
    register_invariant(_event, repair=_set_status(_expected))(_status_matches(_expected))
del _event, _expected


# ---------------------------------------------------------------------------------------------
# Stream rules

_TERMINAL: Final = frozenset(
    {"response.completed", "response.failed", "response.incomplete", "error"}
)
_LIFECYCLE: Final = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.completed",
        "response.failed",
        "response.incomplete",
    }
)
_DELTA_DONE: Final[Mapping[str, tuple[str, str]]] = {
    "response.output_text.delta": ("response.output_text.done", "text"),
    "response.refusal.delta": ("response.refusal.done", "refusal"),
    "response.reasoning_text.delta": ("response.reasoning_text.done", "text"),
    "response.function_call_arguments.delta": (
        "response.function_call_arguments.done",
        "arguments",
    ),
}
"""Each delta event type: the event type that closes its text, and that event's text key."""
_DONE_KEY: Final = {done: key for done, key in _DELTA_DONE.values()}
_DELTA_OF: Final = {done: delta for delta, (done, _) in _DELTA_DONE.items()}

_STREAM_RULES: Final = {
    "sequence_numbers_increase": "Each event's sequence_number is greater than the one before.",
    "created_first": "Exactly one 'response.created' event, the first.",
    "one_terminal_last": "Exactly one terminal event ('response.completed', 'response.failed', "
    "'response.incomplete' or 'error'), the last; a stream that stops without one is broken "
    "(reported one past the last event).",
    "same_response": "The lifecycle events carry the same response id.",
    "item_events_inside_item": "An output item's events (content parts, deltas, done texts) "
    "come after its 'response.output_item.added' and before its 'response.output_item.done'; "
    "each output_index is added once.",
    "items_done_before_end": "Every added item is done before 'response.completed' or "
    "'response.incomplete'.",
    "deltas_join_to_done": "The deltas of a text (output_text, refusal, reasoning_text, "
    "function_call_arguments; per output_index and content_index) joined are the text of its "
    "'.done' event, and no delta follows that event.",
}

_Key: TypeAlias = tuple[int, int]
"""``(output_index, content_index)`` of a text; function call arguments use content index -1."""


@register_stream_rules(ResponsesStreamEvent, _STREAM_RULES)
class _ResponsesStream:
    """One Responses stream: the last sequence number, the open items, the texts so far.

    It keeps the text of each open part (what its ``.done`` event must carry), not the events.
    """

    __slots__ = ("ended_at", "items", "last_sequence", "response_id", "texts")

    def __init__(self) -> None:
        self.last_sequence: int | None = None
        self.response_id: str | None = None
        self.ended_at: int | None = None
        self.items: dict[int, bool] = {}
        """output_index -> whether the item is done."""
        self.texts: dict[tuple[str, int, int], list[str] | None] = {}
        """(delta type, output_index, content_index) -> the deltas so far; ``None`` once done."""

    def feed(self, index: int, event: Any) -> Sequence[InvariantViolation]:
        found: list[InvariantViolation] = []
        kind = event["type"]
        sequence = event["sequence_number"]
        if self.last_sequence is not None and sequence <= self.last_sequence:
            found.append(
                (
                    (index, "sequence_number"),
                    f"expected a sequence_number above {self.last_sequence}, got {sequence}",
                )
            )
        self.last_sequence = sequence
        if self.ended_at is not None:
            found.append(
                (
                    (index,),
                    f"expected nothing after the terminal event at [{self.ended_at}], got {kind!r}",
                )
            )
            return found
        if index == 0 and kind != "response.created":
            found.append(((index, "type"), f"expected 'response.created' first, got {kind!r}"))
        elif index and kind == "response.created":
            found.append(((index, "type"), "expected one 'response.created', got another"))
        if kind in _LIFECYCLE:
            found.extend(self._same_response(index, event["response"]["id"]))
        if "output_index" in event:
            found.extend(self._item_event(index, kind, event))
        if kind in _TERMINAL:
            self.ended_at = index
            if kind in ("response.completed", "response.incomplete"):
                open_items = sorted(number for number, done in self.items.items() if not done)
                if open_items:
                    found.append(
                        (
                            (index, "type"),
                            f"expected output items {open_items} done before {kind!r}, got none",
                        )
                    )
        return found

    def _same_response(self, index: int, response_id: str) -> Iterator[InvariantViolation]:
        if self.response_id is None:
            self.response_id = response_id
        elif response_id != self.response_id:
            yield (
                (index, "response", "id"),
                f"expected the stream's response id {self.response_id!r}, got {response_id!r}",
            )

    def _item_event(self, index: int, kind: str, event: Any) -> Iterator[InvariantViolation]:
        number = event["output_index"]
        done = self.items.get(number)
        if kind == "response.output_item.added":
            if done is not None:
                yield (
                    (index, "output_index"),
                    f"expected output item {number} added once, got it again",
                )
            self.items[number] = False
            return
        if done is None:
            yield (index, "output_index"), f"expected output item {number} added before {kind!r}"
        elif done:
            yield (
                (index, "output_index"),
                f"expected nothing for output item {number} after its done, got {kind!r}",
            )
        if kind == "response.output_item.done":
            self.items[number] = True
            return
        yield from self._text(index, kind, event, number)

    def _text(self, index: int, kind: str, event: Any, number: int) -> Iterator[InvariantViolation]:
        part = event.get("content_index", -1)
        if kind in _DELTA_DONE:
            pieces = self.texts.setdefault((kind, number, part), [])
            if pieces is None:
                yield (index,), f"expected no {kind!r} after its text's done event, got one"
            else:
                pieces.append(event["delta"])
        elif kind in _DONE_KEY:
            delta = _DELTA_OF[kind]
            pieces = self.texts.get((delta, number, part)) or []
            self.texts[(delta, number, part)] = None
            key = _DONE_KEY[kind]
            joined = "".join(pieces)
            if event[key] != joined:
                yield (
                    (index, key),
                    f"expected the deltas joined ({len(joined)} characters), got "
                    f"{len(event[key])} characters",
                )

    def close(self, count: int) -> list[InvariantViolation]:
        if not count:
            return [((0,), "expected a 'response.created' event, got an empty stream")]
        if self.ended_at is None:
            return [
                ((count,), f"expected a terminal event after [{count - 1}], got the stream's end")
            ]
        return []


# Who sends each top-level type (no interface, typing.Protocol, takes or returns them).
register_wire_side("request", ResponsesRequest, ResponsesInputItem, ResponsesContentPart)
register_wire_side("response", ResponsesResponse, ResponsesStreamEvent)
# Sent back as input (earlier output items) or echoed in the response (text.format).
register_wire_side("both", ResponsesOutputItem, ResponsesOutputPart, ResponsesTextFormat)

list_keys_in_help(globals())
