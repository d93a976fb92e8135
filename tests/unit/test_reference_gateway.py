"""The reference server, examples/gateway.py, as a real process driven by the official SDK.

The server runs on a free loopback port with ``--token-delay-ms 40``; every request the SDK
sends is counted by an event hook on its HTTP client, so "answered once, not retried" is
checked, not assumed. Timing is only compared within one stream (the first token against the
stream's own duration), never against a wall-clock threshold.
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from sagellm_protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    ResponsesRequest,
    ResponsesStreamEvent,
    json_schema,
    validate_stream,
)

ROOT = Path(__file__).parent.parent.parent
SERVER = ROOT / "examples" / "gateway.py"
MODEL = "echo-1"
PROMPT = " ".join(f"word{index}" for index in range(20))
"""Twenty tokens for the EchoEngine (a word and its trailing space each)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("gateway") / "server.log"
    command = [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--model", MODEL, "--token-delay-ms", "40"]
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):  # up to ~30 s on a loaded machine: a readiness wait, not a test
        if server.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()}")
        try:
            httpx.get(f"{url}/v1/models", timeout=1).raise_for_status()
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"the server did not start: {log.read_text()}")


class Counted:
    """An SDK client whose HTTP requests are counted (the SDK's retries included)."""

    def __init__(self, base_url: str) -> None:
        self.sent: list[str] = []
        # The SDK's own HTTP client class (httpx2 for this SDK), with a hook on each request.
        http = openai.DefaultHttpxClient(event_hooks={"request": [self._count]})
        self.client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", http_client=http)

    def _count(self, request: Any) -> None:
        self.sent.append(f"{request.method} {request.url.path}")


@pytest.fixture
def sdk(base_url: str) -> Iterator[Counted]:
    counted = Counted(base_url)
    with counted.client:  # closes its connections
        yield counted


def _user(text: str = "hello world") -> Any:
    return [{"role": "user", "content": text}]


# --- The happy paths -------------------------------------------------------------------------


def test_models_lists_the_one_model(sdk: Counted) -> None:
    assert [model.id for model in sdk.client.models.list()] == [MODEL]


def test_chat_completion(sdk: Counted) -> None:
    answer = sdk.client.chat.completions.create(model=MODEL, messages=_user(), top_p=0.5)
    assert answer.choices[0].message.content == "hello world"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (2, 2)
    assert sdk.sent == ["POST /v1/chat/completions"]


def test_completion(sdk: Counted) -> None:
    answer = sdk.client.completions.create(model=MODEL, prompt="a b c", max_tokens=2)
    assert (answer.choices[0].text, answer.choices[0].finish_reason) == ("a b ", "length")


def test_openai_arguments_and_declared_vendor_keys_pass_the_strict_server(sdk: Counted) -> None:
    answer = sdk.client.chat.completions.create(
        model=MODEL,
        messages=_user(),
        safety_identifier="hashed-user",
        prompt_cache_key="k",
        extra_body={"top_k": 40, "repetition_penalty": 1.1},
    )
    assert answer.choices[0].message.content == "hello world"


def _arrivals(stream: Any, text_of: Any) -> tuple[list[float], str, list[Any]]:
    """When each chunk with text arrived, the text, all chunks.

    Seconds from the response's start: ``create(stream=True)`` returns once the headers are
    in, which the server sends before the engine's first token, so the request's own
    processing (validation, conversion) is not counted in the stream's duration.
    """
    started = time.perf_counter()
    times: list[float] = []
    pieces: list[str] = []
    chunks: list[Any] = []
    for chunk in stream:
        chunks.append(chunk)
        if text := text_of(chunk):
            times.append(time.perf_counter() - started)
            pieces.append(text)
    return times, "".join(pieces), chunks


def test_chat_stream_sends_the_first_token_long_before_the_last(sdk: Counted) -> None:
    stream = sdk.client.chat.completions.create(
        model=MODEL,
        messages=_user(PROMPT),
        max_tokens=32,
        stream=True,
        stream_options={"include_usage": True},
    )
    times, text, chunks = _arrivals(
        stream, lambda chunk: chunk.choices[0].delta.content if chunk.choices else None
    )
    assert text == PROMPT
    assert len(times) == 20  # one chunk per token, each sent as the engine made it
    assert times[0] < times[-1] / 2
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 20
    assert sdk.sent == ["POST /v1/chat/completions"]


def test_completion_stream_sends_the_first_token_long_before_the_last(sdk: Counted) -> None:
    stream = sdk.client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=32, stream=True)
    times, text, chunks = _arrivals(stream, lambda chunk: chunk.choices[0].text)
    assert text == PROMPT
    assert len(times) == 20
    assert times[0] < times[-1] / 2
    assert chunks[-1].choices[0].finish_reason == "stop"


# --- Every error path: OpenAI's shape, a 4xx, one request ------------------------------------


def _fails(sdk: Counted, error: type[openai.APIStatusError], call: Any) -> openai.APIStatusError:
    with pytest.raises(error) as caught:
        call()
    assert len(sdk.sent) == 1, sdk.sent  # a 4xx is not retried
    return caught.value


def test_an_invalid_body_is_a_bad_request_naming_the_field(sdk: Counted) -> None:
    bad = [{"role": "robot", "content": "hi"}]
    error = _fails(
        sdk,
        openai.BadRequestError,
        lambda: sdk.client.chat.completions.create(model=MODEL, messages=bad),  # type: ignore[arg-type]
    )
    assert error.status_code == 400
    assert error.param == "messages[0].role"
    assert error.body == {
        "message": "messages[0].role: expected one of 'system', 'user', 'assistant', "
        "'function', 'tool', 'developer', got 'robot'",
        "type": "invalid_request_error",
        "param": "messages[0].role",
        "code": "invalid_argument",
    }


def test_a_typo_is_rejected_with_did_you_mean(sdk: Counted) -> None:
    error = _fails(
        sdk,
        openai.BadRequestError,
        lambda: sdk.client.chat.completions.create(
            model=MODEL, messages=_user(), stream=True, extra_body={"max_token": 5}
        ),
    )
    assert error.message == (
        "Error code: 400 - max_token: unknown key (not a ChatCompletionRequest key, OpenAI's "
        "or a declared extension; did you mean 'max_tokens'?)"
    )


@pytest.mark.parametrize(
    ("create", "param", "message"),
    [
        (
            lambda client: client.chat.completions.create(model=MODEL, messages=_user(), n=2),
            "n",
            "n: expected 1 (one choice per engine request), got 2",
        ),
        (
            lambda client: client.chat.completions.create(
                model=MODEL, messages=_user(), logprobs=True
            ),
            "logprobs",
            "logprobs: expected false or null (Protocol v0.1 responses carry no log "
            "probabilities), got True",
        ),
        (
            lambda client: client.completions.create(model=MODEL, prompt=["a", "b"]),
            "prompt",
            "prompt: expected one prompt (one per engine request), got a batch of 2",
        ),
    ],
)
def test_what_the_engine_cannot_honour_is_a_bad_request_sent_once(
    sdk: Counted, create: Any, param: str, message: str
) -> None:
    error = _fails(sdk, openai.BadRequestError, lambda: create(sdk.client))
    assert (error.param, error.code, error.type) == (
        param,
        "not_implemented",
        "invalid_request_error",
    )
    assert error.message == f"Error code: 400 - {message}"


def test_another_model_is_not_found(sdk: Counted) -> None:
    error = _fails(
        sdk,
        openai.NotFoundError,
        lambda: sdk.client.chat.completions.create(model="gpt-4o", messages=_user()),
    )
    assert error.body == {
        "message": "The model 'gpt-4o' does not exist; this gateway serves 'echo-1'",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"model": "echo-1", "messages": [{"role": "user", "content": "hi"}], '
            b'"temperature": NaN}',
            "temperature: expected a finite number in [0, 2], got nan",
        ),
        (
            b'{"model": "echo-1", "prompt": "hi", "logit_bias": {"1": Infinity}}',
            "logit_bias['1']: expected a finite number in [-100, 100], got inf",
        ),
        (b'{"model": "echo-1", "prompt": ',
         "body: expected JSON, got Expecting value at character 30"),
    ],
)  # fmt: skip
def test_raw_non_finite_numbers_and_broken_json_are_a_400(
    base_url: str, raw: bytes, message: str
) -> None:
    path = "/v1/chat/completions" if b"messages" in raw else "/v1/completions"
    response = httpx.post(
        f"{base_url}{path}", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_an_unknown_route_is_a_404_in_openai_shape(base_url: str) -> None:
    response = httpx.post(f"{base_url}/v1/embeddings", json={"model": MODEL, "input": "x"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "Not Found",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


# --- The OpenAPI document ----------------------------------------------------------------------


def test_openapi_carries_the_package_schemas(base_url: str) -> None:
    openapi = httpx.get(f"{base_url}/openapi.json").json()
    components = openapi["components"]["schemas"]
    for path, tp in (("/v1/chat/completions", ChatCompletionRequest),
                     ("/v1/completions", CompletionRequest),
                     ("/v1/responses", ResponsesRequest)):  # fmt: skip
        body = openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{tp.__name__}"}
        assert set(components[tp.__name__]["properties"]) == set(json_schema(tp)["properties"])
    answers = {
        path: operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        for path, item in openapi["paths"].items()
        for operation in item.values()
    }
    assert answers == {
        "/v1/models": "#/components/schemas/ModelListResponse",
        "/v1/chat/completions": "#/components/schemas/ChatCompletionResponse",
        "/v1/completions": "#/components/schemas/CompletionResponse",
        "/v1/responses": "#/components/schemas/ResponsesResponse",
    }


# --- The Responses API ------------------------------------------------------------------------


def test_a_response(sdk: Counted) -> None:
    answer = sdk.client.responses.create(
        model=MODEL, instructions="Be brief.", input="hello world", max_output_tokens=5
    )
    assert answer.output_text == "hello world"
    assert answer.status == "completed"
    assert answer.instructions == "Be brief."
    assert answer.usage is not None
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (2, 2)
    assert sdk.sent == ["POST /v1/responses"]


def test_a_response_cut_at_the_token_limit_is_incomplete(sdk: Counted) -> None:
    answer = sdk.client.responses.create(model=MODEL, input=PROMPT, max_output_tokens=3)
    assert answer.status == "incomplete"
    assert answer.incomplete_details is not None
    assert answer.incomplete_details.reason == "max_output_tokens"
    assert answer.output_text == "word0 word1 word2 "


def test_responses_stream_sends_the_first_token_long_before_the_last(sdk: Counted) -> None:
    stream = sdk.client.responses.create(
        model=MODEL,
        input=[{"role": "user", "content": [{"type": "input_text", "text": PROMPT}]}],
        max_output_tokens=32,
        stream=True,
    )
    times, text, events = _arrivals(
        stream, lambda event: event.delta if event.type == "response.output_text.delta" else None
    )
    assert text == PROMPT
    assert len(times) == 20
    assert times[0] < times[-1] / 2
    assert [event.type for event in events[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    final = events[-1]
    assert final.type == "response.completed"
    assert final.response.output_text == text
    validate_stream(ResponsesStreamEvent, [event.model_dump(mode="json") for event in events])
    assert sdk.sent == ["POST /v1/responses"]


@pytest.mark.parametrize(
    ("arguments", "error", "param", "message"),
    [
        (
            {"previous_response_id": "resp_1"},
            openai.BadRequestError,
            "previous_response_id",
            "previous_response_id: expected null (this gateway keeps no responses or "
            "conversations), got 'resp_1'",
        ),
        (
            {"extra_body": {"max_output_token": 5}},
            openai.BadRequestError,
            "max_output_token",
            "max_output_token: unknown key (not a ResponsesRequest key, OpenAI's or a declared "
            "extension; did you mean 'max_output_tokens'?)",
        ),
        (
            {"tools": [{"type": "web_search"}]},
            openai.BadRequestError,
            "tools[0].type",
            "2 issues: tools[0].type: expected 'function', got 'web_search'; tools[0].name: "
            "required key is missing",
        ),
    ],
)
def test_responses_errors_are_bad_requests_sent_once(
    sdk: Counted, arguments: Any, error: type[openai.APIStatusError], param: str, message: str
) -> None:
    caught = _fails(
        sdk, error, lambda: sdk.client.responses.create(model=MODEL, input="hi", **arguments)
    )
    assert caught.param == param
    assert caught.message == f"Error code: 400 - {message}"


def test_a_raw_non_finite_number_in_a_responses_body_is_a_400(base_url: str) -> None:
    raw = b'{"model": "echo-1", "input": "hi", "temperature": NaN}'
    response = httpx.post(
        f"{base_url}/v1/responses", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "temperature: expected a finite number in [0, 2], got nan"
    )
