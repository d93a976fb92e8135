"""FastAPI exception handlers answering every failure in OpenAI's error shape."""

from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from ..openai import OpenAIErrorResponse
from ..validation import Issue, ValidationError
from .common import ConversionError
from .errors import error_to_openai, error_type, issues_to_openai

__all__ = [
    "add_openai_exception_handlers",
    "openai_error_response",
    "request_validation_error_handler",
]

_INTERNAL: Final[OpenAIErrorResponse] = {
    "error": {
        "message": "the server failed to answer the request",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


def openai_error_response(
    status: int,
    body: OpenAIErrorResponse,
    *,
    retryable: bool | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON response of ``status`` with an OpenAI error ``body``.

    ``retryable`` (a protocol ``Error``'s) becomes ``x-should-retry: true|false``, the header
    the official SDK obeys before its own rule (retry 408, 409, 429 and >= 500).
    """
    sent = dict(headers or {})
    if retryable is not None:
        sent["x-should-retry"] = "true" if retryable else "false"
    return JSONResponse(dict(body), status_code=status, headers=sent)


def _issue(error: Mapping[str, Any]) -> Issue:
    """An issue, with our path, for one of FastAPI's validation errors."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # loc is ("body", offset)
        reason = error.get("ctx", {}).get("error", "")
        offset = loc[-1] if loc else 0
        return Issue(("body",), "json", f"expected JSON, got {reason} at character {offset}")
    if loc == ("body",) and error.get("type") == "missing":
        return Issue(loc, "missing", "expected a JSON request body, got none")
    path = loc[1:] if loc[:1] == ("body",) and len(loc) > 1 else loc
    return Issue(path, str(error.get("type", "")), str(error.get("msg", "")))


async def request_validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's ``RequestValidationError`` as 400 and :func:`issues_to_openai`'s body
    (instead of 422 ``{"detail": [...]}``): every issue named by its path, no input echoed."""
    assert isinstance(exc, RequestValidationError)
    status, body = issues_to_openai([_issue(error) for error in exc.errors()])
    return openai_error_response(status, body)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    status, body = issues_to_openai(exc.issues)
    return openai_error_response(status, body)


async def _conversion_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConversionError)
    status, body = error_to_openai(exc.error)
    return openai_error_response(status, body, retryable=exc.error.get("retryable"))


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    body: OpenAIErrorResponse = {
        "error": {
            "message": str(exc.detail),
            "type": error_type(exc.status_code),
            "param": None,
            "code": None,
        }
    }
    return openai_error_response(exc.status_code, body, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette still logs the exception with its traceback after this answer.
    return openai_error_response(500, _INTERNAL)


def add_openai_exception_handlers(app: FastAPI) -> None:
    """Answer every failure of ``app`` in OpenAI's error shape, so the SDK raises the right
    class with a message:

    - a body FastAPI cannot validate (``Validated[T]`` issues, malformed JSON, a missing
      body): 400 ``invalid_request_error`` naming each path
      (:func:`request_validation_error_handler`);
    - ``ValidationError`` raised in a route: the same 400;
    - ``ConversionError``: :func:`~sagellm_protocol.gateway.error_to_openai`'s status and
      body, with ``x-should-retry`` from the error's ``retryable``;
    - ``HTTPException`` (404 for an unknown path, 405, 400 for an unreadable body …): its
      status, with its detail as the message;
    - any other exception: 500 ``server_error`` with a fixed message (no detail leaks;
      Starlette logs the traceback).
    """
    app.add_exception_handler(RequestValidationError, request_validation_error_handler)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(ConversionError, _conversion_error)
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(Exception, _internal_error)
