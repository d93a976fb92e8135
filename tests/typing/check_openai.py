"""Static checks of sagellm_protocol.openai (run under mypy, never executed)."""

from typing_extensions import NotRequired, TypedDict, assert_type

from sagellm_protocol.openai import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    ChatCompletionUsage,
    ChatMessage,
    EmbeddingRequest,
    OpenAIErrorResponse,
)

request: ChatCompletionRequest = {
    "model": "m",
    "messages": [{"role": "user", "content": "hi"}],
    "stop": ["\n"],
    "top_p": 0.9,
}
response: ChatCompletionResponse = {
    "id": "c",
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": None}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
chunk: ChatCompletionStreamResponse = {
    "id": "c",
    "object": "chat.completion.chunk",
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "x"}}],
}
embedding: EmbeddingRequest = {"input": ["a", "b"], "model": "e"}
error: OpenAIErrorResponse = {"error": {"message": "m", "type": "invalid_request_error"}}
assert_type(request["messages"][0], ChatMessage)


class VLLMChatCompletionRequest(ChatCompletionRequest):
    """A vendor extension: keys the protocol does not declare pass through."""

    top_k: NotRequired[int]
    min_p: NotRequired[float]


vllm: VLLMChatCompletionRequest = {"model": "m", "messages": [], "top_k": 20}
as_protocol: ChatCompletionRequest = vllm


class Unrelated(TypedDict):
    model: str


missing: ChatCompletionRequest = {"model": "m"}  # type: ignore[typeddict-item]
wrong_type: ChatCompletionRequest = {"model": "m", "messages": "hi"}  # type: ignore[typeddict-item]
bad_role: ChatMessage = {"role": "robot", "content": "x"}  # type: ignore[typeddict-item]
usage: ChatCompletionUsage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
bad_tag: ChatCompletionResponse = {
    "id": "c",
    "object": "chat.completion.chunk",  # type: ignore[typeddict-item]
    "model": "m",
    "choices": [],
    "usage": usage,
}
literal_extra: ChatCompletionRequest = {"model": "m", "messages": [], "top_k": 20}  # type: ignore[typeddict-unknown-key]
not_a_request: ChatCompletionRequest = Unrelated(model="m")  # type: ignore[assignment]
