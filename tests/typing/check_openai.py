"""Static checks of sagellm_protocol.openai (run under mypy, never executed)."""

from typing import Any

from typing_extensions import NotRequired, TypedDict, assert_type

from sagellm_protocol.openai import (
    ChatCompletionContentPart,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    ChatCompletionUsage,
    ChatMessage,
    CompletionRequest,
    EmbeddingData,
    EmbeddingRequest,
    MessageContent,
    OpenAIError,
    OpenAIErrorBody,
    OpenAIErrorResponse,
    message_text,
)

request: ChatCompletionRequest = {
    "model": "m",
    "messages": [
        {"role": "developer", "content": "Answer briefly."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "look", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
    ],
    "stop": ["\n"],
    "top_p": 0.9,
    "temperature": None,
    "tools": [{"type": "function", "function": {"name": "look", "parameters": {}}}],
    "tool_choice": {"type": "function", "function": {"name": "look"}},
    "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {}}},
    "stream_options": {"include_usage": True},
    "top_k": 20,
    "min_p": 0.05,
}
response: ChatCompletionResponse = {
    "id": "c",
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": None}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
no_usage: ChatCompletionResponse = {"id": "c", "model": "m", "choices": []}
chunk: ChatCompletionStreamResponse = {
    "id": "c",
    "object": "chat.completion.chunk",
    "model": "m",
    "choices": [
        {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}}
    ],
    "usage": None,
}
completion: CompletionRequest = {"model": "m", "prompt": [[1, 2], [3]], "echo": True}
embedding: EmbeddingRequest = {"input": ["a", "b"], "model": "e", "encoding_format": "base64"}
vector: EmbeddingData = {"embedding": "AAAAAA==", "index": 0}
error: OpenAIErrorResponse = {"error": {"message": "m", "type": "BadRequestError", "code": 400}}
flat: OpenAIErrorBody = {"object": "error", "message": "m", "type": "BadRequestError", "code": 400}
assert_type(request["messages"][0], ChatMessage)
assert_type(message_text(request["messages"][1].get("content")), str)
content: MessageContent | None = request["messages"][1].get("content")
part: ChatCompletionContentPart = {"video_url": {"url": "https://x/v.mp4"}}


class VLLMChatCompletionRequest(ChatCompletionRequest):
    """A vendor extension: keys the protocol does not declare pass through."""

    chat_template_kwargs: NotRequired[dict[str, Any]]
    guided_choice: NotRequired[list[str]]


vllm: VLLMChatCompletionRequest = {"model": "m", "messages": [], "guided_choice": ["a"]}
as_protocol: ChatCompletionRequest = vllm


class Unrelated(TypedDict):
    model: str


missing: ChatCompletionRequest = {"model": "m"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
wrong_type: ChatCompletionRequest = {"model": "m", "messages": "hi"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
bad_role: ChatMessage = {"role": "robot", "content": "x"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
bad_part: ChatCompletionContentPart = {"type": "picture"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
bad_top_k: ChatCompletionRequest = {"model": "m", "messages": [], "top_k": "20"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
usage: ChatCompletionUsage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
bad_tag: ChatCompletionResponse = {
    "id": "c",
    "object": "chat.completion.chunk",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    "model": "m",
    "choices": [],
    "usage": usage,
}
bad_code: OpenAIError = {"message": "m", "type": "t", "code": 1.5}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
literal_extra: ChatCompletionRequest = {"model": "m", "messages": [], "guided_choice": ["a"]}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
not_a_request: ChatCompletionRequest = Unrelated(model="m")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
