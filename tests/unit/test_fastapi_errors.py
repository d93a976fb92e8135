"""OpenAI-shaped errors for FastAPI: no body, however malformed, is answered with a 5xx."""

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagellm_protocol import ChatCompletionRequest, chat_request_to_request
from sagellm_protocol.fastapi import add_openai_exception_handlers
from sagellm_protocol.pydantic import Validated, ValidatedClosed

CHAT = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]'
"""A valid chat body without its closing brace: tests append fields."""
JSON = {"content-type": "application/json"}


def _app() -> FastAPI:
    app = FastAPI()
    add_openai_exception_handlers(app)

    @app.post("/open")
    def open_body(body: Validated[ChatCompletionRequest]) -> dict[str, bool]:
        return {"ok": True}

    @app.post("/closed")
    def closed_body(body: ValidatedClosed[ChatCompletionRequest]) -> dict[str, bool]:
        return {"ok": True}

    @app.post("/convert")
    def convert(body: Validated[ChatCompletionRequest]) -> dict[str, bool]:
        chat_request_to_request(body, request_id="r", trace_id="t")
        return {"ok": True}

    @app.get("/fail")
    def fail() -> None:
        raise RuntimeError("secret detail")

    return app


CLIENT = TestClient(_app(), raise_server_exceptions=False)


def _error(message: str, param: str | None, code: str | None = "invalid_argument") -> Any:
    kind = "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


@pytest.mark.parametrize(
    ("tail", "message", "param"),
    [
        (b', "temperature": NaN}', "temperature: expected a finite number in [0, 2], got nan",
         "temperature"),
        (b', "temperature": 1e400}', "temperature: expected a finite number in [0, 2], got inf",
         "temperature"),
        (b', "logit_bias": {"1": -Infinity}}',
         "logit_bias['1']: expected a finite number in [-100, 100], got -inf", "logit_bias['1']"),
        (b', "temperature": 1' + b"0" * 1000 + b"}",
         "temperature: expected a finite number in [0, 2], got <int of 3322 bits>", "temperature"),
        (b', "seed": 1' + b"0" * 5000 + b"}", "There was an error parsing the body", None),
        (b"}\xff", "There was an error parsing the body", None),
        (b', "model": }', "body: expected JSON, got Expecting value at character 73", "body"),
    ],
)  # fmt: skip
def test_malformed_bodies_are_a_400_naming_the_field(
    tail: bytes, message: str, param: str | None
) -> None:
    response = CLIENT.post("/open", content=CHAT + tail, headers=JSON)
    assert response.status_code == 400
    code = None if param is None else "invalid_argument"
    assert response.json() == _error(message, param, code)


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b"", JSON, "body: expected a JSON request body, got none"),
        (b"[1, 2]", JSON, "body: expected a ChatCompletionRequest object, got [1, 2]"),
        (CHAT + b"}", {"content-type": "text/plain"},
         "body: expected a ChatCompletionRequest object, got <bytes object>"),
    ],
)  # fmt: skip
def test_a_body_of_the_wrong_kind_is_a_400(
    content: bytes, headers: dict[str, str], message: str
) -> None:
    response = CLIENT.post("/open", content=content, headers=headers)
    assert (response.status_code, response.json()) == (400, _error(message, "body"))


def test_every_issue_is_named_and_the_input_is_not_echoed() -> None:
    body = {"model": "m", "messages": [{"role": "robot", "content": "x" * 200_000}], "n": 0}
    response = CLIENT.post("/open", json=body)
    assert response.status_code == 400
    assert response.json() == _error(
        "2 issues: messages[0].role: expected one of 'system', 'user', 'assistant', "
        "'function', 'tool', 'developer', got 'robot'; n: expected an int in [1, 128], got 0",
        "messages[0].role",
    )
    assert len(response.content) < 400


def test_closed_bodies_reject_typos_and_keep_declared_vendor_keys() -> None:
    typo = CLIENT.post("/closed", content=CHAT + b', "max_token": 5, "top_k": 40}', headers=JSON)
    assert (typo.status_code, typo.json()) == (
        400,
        _error(
            "max_token: unknown key (not a ChatCompletionRequest key, OpenAI's or a declared "
            "extension; did you mean 'max_tokens'?)",
            "max_token",
        ),
    )
    vendor = CLIENT.post("/closed", content=CHAT + b', "top_k": 40}', headers=JSON)
    assert vendor.status_code == 200
    assert CLIENT.post("/open", content=CHAT + b', "max_token": 5}', headers=JSON).is_success


def test_an_argument_the_engine_cannot_honour_is_a_400_not_retried() -> None:
    response = CLIENT.post("/convert", content=CHAT + b', "n": 2}', headers=JSON)
    assert response.status_code == 400
    assert response.headers["x-should-retry"] == "false"
    assert response.json() == _error(
        "n: expected 1 (one choice per engine request), got 2", "n", "not_implemented"
    )


def test_http_errors_and_crashes_keep_their_status_in_openai_shape() -> None:
    missing = CLIENT.post("/nowhere", json={})
    assert (missing.status_code, missing.json()) == (404, _error("Not Found", None, None))
    wrong = CLIENT.get("/open")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    assert wrong.json() == _error("Method Not Allowed", None, None)
    crash = CLIENT.get("/fail")
    assert crash.status_code == 500
    assert crash.json() == {
        "error": {
            "message": "the server failed to answer the request",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    ["model", "messages", "temperature", "n", "stop", "logit_bias", "max_tokens", "tools"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=64),
        st.dictionaries(_FIELDS | st.text(max_size=6), _JSONISH, max_size=5).map(
            lambda body: json.dumps(body).encode()  # NaN and ±Infinity included
        ),
    ),
    st.sampled_from(["/open", "/closed", "/convert"]),
)
def test_no_body_is_answered_with_a_5xx(content: bytes, path: str) -> None:
    response = CLIENT.post(path, content=content, headers=JSON)
    assert response.status_code < 500, response.text
    if not response.is_success:
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert isinstance(error["message"], str)
        assert error["message"]
