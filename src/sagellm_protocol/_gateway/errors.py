"""Protocol errors and validation issues as OpenAI error bodies, and upstream bodies back.

The status table is chosen for what clients do with it: the official OpenAI SDK retries
(twice by default) every status >= 500 and 408, 409 and 429, unless the response says
``x-should-retry``. A client's mistake must therefore be a 4xx, answered once; a 5xx is kept
for the server's own failures.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from ..core import Error, ErrorCode, ErrorCodeName
from ..openai import OpenAIErrorBody, OpenAIErrorResponse
from ..validation import Issue, format_path, validate

__all__ = ["error_to_openai", "error_type", "issues_to_openai", "openai_to_error"]

_HTTP: Final[Mapping[str, int]] = {
    "invalid_argument": 400,
    # An argument the engine cannot honour (n=2, logprobs): the request must change, so a
    # retry cannot help; OpenAI and vLLM answer unsupported values with 400 too.
    "not_implemented": 400,
    "resource_exhausted": 429,
    "kv_priority_queue_full": 429,
    "compression_not_supported": 501,
    "comm_backend_not_supported": 501,
    "unavailable": 503,
    "deadline_exceeded": 504,
    "comm_timeout": 504,
}
"""HTTP status of each error code; any other code is a 500."""

_FIELD: Final = re.compile(r"([A-Za-z_][\w.\[\]']*): ")

_MAX_LISTED: Final = 20
"""Issues named in one error message; a body of thousands of issues is cut, not echoed."""


def error_type(status: int) -> str:
    """OpenAI's error ``type`` for an HTTP status: ``rate_limit_error`` (429),
    ``invalid_request_error`` (any other 4xx), ``server_error`` (anything else)."""
    if status == 429:
        return "rate_limit_error"
    return "invalid_request_error" if 400 <= status < 500 else "server_error"


def error_to_openai(error: Error) -> tuple[int, OpenAIErrorResponse]:
    """The HTTP status and OpenAI error body for a protocol ``Error``.

    ``invalid_argument`` and ``not_implemented`` 400, ``resource_exhausted`` 429,
    ``unavailable`` 503, ``deadline_exceeded`` 504, ``compression_not_supported`` 501 (and
    related codes alike), any other 500. The body's ``code`` is the protocol code (so
    :func:`openai_to_error` gets it back), ``type`` OpenAI's category for the status
    (:func:`error_type`), ``param`` the field a message starts with (``"n: expected 1 …"``).
    Raises ``ValidationError`` for an invalid ``Error``.
    """
    validate(Error, error)
    code = str(ErrorCode(error["code"]))
    status = _HTTP.get(code, 500)
    field = _FIELD.match(error["message"])
    body: OpenAIErrorResponse = {
        "error": {
            "message": error["message"],
            "type": error_type(status),
            "param": field.group(1) if field else None,
            "code": code,
        }
    }
    return status, body


def issues_to_openai(issues: Sequence[Issue]) -> tuple[int, OpenAIErrorResponse]:
    """400 and the OpenAI error body for a request that failed validation.

    The message names every issue by its path (``messages[0].role: expected …``), the first
    20 of them, joined by ``"; "``; values appear only as the issues' short reprs, so the
    body is small and always serialisable. ``param`` is the first issue's path (``None`` for
    the body itself), ``code`` ``"invalid_argument"`` (what :func:`openai_to_error` reads
    back), ``type`` ``"invalid_request_error"``.
    """
    listed = [str(issue) for issue in issues[:_MAX_LISTED]]
    if len(issues) > _MAX_LISTED:
        listed.append(f"and {len(issues) - _MAX_LISTED} more issues")
    head = f"{len(issues)} issues: " if len(issues) > 1 else ""
    message = head + "; ".join(listed)
    param = format_path(issues[0].path) if issues else ""
    body: OpenAIErrorResponse = {
        "error": {
            "message": message or "invalid request",
            "type": "invalid_request_error",
            "param": param or None,
            "code": "invalid_argument",
        }
    }
    return 400, body


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
