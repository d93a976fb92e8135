"""``Validated[T]``: our validator and schema inside pydantic, and a real FastAPI app."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from sagellm_protocol import ChatCompletionRequest, Request, StreamEvent, json_schema
from sagellm_protocol._schema import schema_parts
from sagellm_protocol.pydantic import Validated

REQUEST = {"request_id": "r", "trace_id": "t", "max_tokens": 4}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "guided_choice": ["a"]}


def test_the_same_object_comes_back_strictly_checked() -> None:
    adapter = TypeAdapter(Validated[Request])
    value = dict(REQUEST)
    assert adapter.validate_python(value) is value
    with pytest.raises(PydanticError) as caught:
        adapter.validate_python({**REQUEST, "max_tokens": True, "stream": 1})
    assert caught.value.errors() == [
        {
            "type": "type",
            "loc": ("max_tokens",),
            "msg": "expected an int > 0, got True",
            "input": "True",
            "ctx": {"message": "expected an int > 0, got True"},
        },
        {
            "type": "type",
            "loc": ("stream",),
            "msg": "expected a bool, got 1",
            "input": "1",
            "ctx": {"message": "expected a bool, got 1"},
        },
    ]


def test_in_a_model_field_the_error_is_located_below_it() -> None:
    class Envelope(BaseModel):
        body: Validated[Request]

    with pytest.raises(PydanticError) as caught:
        Envelope(body={"request_id": "r", "max_tokens": 4})
    assert [(e["type"], e["loc"], e["msg"], e["input"]) for e in caught.value.errors()] == [
        ("missing", ("body", "trace_id"), "required key is missing",
         "{'request_id': 'r', 'max_tokens': 4}"),
    ]  # fmt: skip


def test_the_json_schema_is_ours_with_definitions_in_the_document() -> None:
    schema = TypeAdapter(Validated[StreamEvent]).json_schema()
    ours, defs = schema_parts(StreamEvent)
    assert schema == {**ours, "$defs": defs}


def test_an_unsupported_form_fails_when_the_model_is_built() -> None:
    with pytest.raises(TypeError, match="fixed-length tuples"):
        TypeAdapter(Validated[tuple[int, str]])


def _app(received: list[object]) -> FastAPI:
    app = FastAPI()

    @app.post("/engine")
    def engine(body: Validated[Request]) -> dict[str, bool]:
        received.append(body)
        return {"ok": True}

    @app.post("/v1/chat/completions")
    def chat(body: Validated[ChatCompletionRequest]) -> dict[str, bool]:
        received.append(body)
        return {"ok": True}

    return app


@pytest.fixture
def client_and_received() -> tuple[TestClient, list[object]]:
    received: list[object] = []
    return TestClient(_app(received)), received


def test_fastapi_passes_valid_bodies_unchanged_vendor_keys_kept(
    client_and_received: tuple[TestClient, list[object]],
) -> None:
    client, received = client_and_received
    assert client.post("/engine", json=REQUEST).status_code == 200
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert received == [REQUEST, CHAT]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {**REQUEST, "max_tokens": "4"},
            [("type", ["body", "max_tokens"], "expected an int > 0, got '4'", "'4'")],
        ),
        (
            {**REQUEST, "max_tokens": True},
            [("type", ["body", "max_tokens"], "expected an int > 0, got True", "True")],
        ),
        (
            {**REQUEST, "prefill_tokens": 1},
            [("extra", ["body", "prefill_tokens"], "unknown key (Request is closed)", "1")],
        ),
        (
            {**REQUEST, "rank": 3, "world_size": 2},
            [("invariant", ["body", "rank"], "expected rank < world_size (2), got 3", "3")],
        ),
    ],
)
def test_fastapi_rejects_with_our_paths_and_messages(
    client_and_received: tuple[TestClient, list[object]],
    body: dict[str, Any],
    detail: list[tuple[str, list[str], str, str]],
) -> None:
    client, received = client_and_received
    response = client.post("/engine", json=body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": code, "loc": loc, "msg": msg, "input": value, "ctx": {"message": msg}}
            for code, loc, msg, value in detail
        ]
    }
    assert received == []


def _without_null_defaults(schema: Any) -> Any:
    """FastAPI's OpenAPI model writes no ``"default": null`` (it drops every ``None``)."""
    if isinstance(schema, dict):
        return {
            key: _without_null_defaults(value)
            for key, value in schema.items()
            if not (key == "default" and value is None)
        }
    if isinstance(schema, list):
        return [_without_null_defaults(item) for item in schema]
    return schema


def test_openapi_holds_our_schemas_as_components(
    client_and_received: tuple[TestClient, list[object]],
) -> None:
    client, _ = client_and_received
    openapi = client.get("/openapi.json").json()
    body = openapi["paths"]["/engine"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Request"}
    components = openapi["components"]["schemas"]
    for tp in (Request, ChatCompletionRequest):
        top, defs = schema_parts(tp, lambda name: f"#/components/schemas/{name}")
        assert top == {"$ref": f"#/components/schemas/{tp.__name__}"}
        for name, definition in defs.items():
            assert components[name] == _without_null_defaults(definition), name
    assert components["Request"]["properties"]["max_tokens"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "description": "Maximum number of tokens to generate (> 0).",
    }
    assert components["Request"]["additionalProperties"] is False
    assert components["Request"]["x-invariants"] == json_schema(Request)["x-invariants"]
