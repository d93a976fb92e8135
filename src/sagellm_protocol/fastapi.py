"""OpenAI-shaped errors for FastAPI apps: :func:`add_openai_exception_handlers`.

A client's mistake is answered with a 4xx the official ``openai`` SDK raises at once
(``BadRequestError`` with a message naming each field), never a 5xx it would retry; the
error body is OpenAI's ``{"error": {"message", "type", "param", "code"}}``. Pair it with
``Validated[T]`` / ``ValidatedClosed[T]`` (:mod:`sagellm_protocol.pydantic`) for the bodies.
Requires FastAPI (``pip install sagellm-protocol[fastapi]``); docs/gateway.md walks through a
server built on it.
"""

from ._gateway.handlers import (
    add_openai_exception_handlers,
    openai_error_response,
    request_validation_error_handler,
)

__all__ = [
    "add_openai_exception_handlers",
    "openai_error_response",
    "request_validation_error_handler",
]
