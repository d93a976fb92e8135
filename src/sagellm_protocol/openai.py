"""OpenAI-compatible wire types. These TypedDicts are open: vendor keys pass through."""

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._registry import register_defaults

__all__ = ["ChatMessage", "ChatRole"]

ChatRole: TypeAlias = Literal["system", "user", "assistant", "function", "tool"]
"""Who authored a chat message."""


class ChatMessage(TypedDict):
    """One chat message."""

    role: ChatRole
    """Who authored the message."""
    content: str
    """The message text."""
    name: NotRequired[str | None]
    """Optional author name."""


register_defaults(ChatMessage, {"name": None})
