"""A runnable OpenAI-compatible gateway over the package's EchoEngine: the reference server.

    pip install -e '.[gateway]'
    python examples/gateway.py --host 127.0.0.1 --port 8000 [--model echo] [--token-delay-ms 40]

It serves ``GET /v1/models``, ``POST /v1/chat/completions``, ``POST /v1/completions`` and
``POST /v1/responses`` (streaming and not) for one model, answers every failure in OpenAI's
error shape (a client's mistake is a 4xx the SDK raises at once, never a 5xx it retries),
rejects unknown keys with "did you mean", and streams each token as the engine makes it. Only
the package's public API is used; swap ``EchoEngine`` for any
``sagellm_protocol.engine.Engine``. docs/gateway.md walks through this file.
"""

import argparse
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, StreamingResponse

from sagellm_protocol.core import Request
from sagellm_protocol.engine import Engine
from sagellm_protocol.fastapi import add_openai_exception_handlers, openai_error_response
from sagellm_protocol.gateway import (
    aencode_sse,
    astream_to_chat_chunks,
    astream_to_completion_chunks,
    chat_request_to_request,
    completion_request_to_request,
    response_to_chat_completion,
    response_to_completion,
)
from sagellm_protocol.openai import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    CompletionRequest,
    CompletionResponse,
    ModelListResponse,
    OpenAIError,
)
from sagellm_protocol.pydantic import Validated, ValidatedClosed
from sagellm_protocol.responses import ResponsesRequest, ResponsesResponse
from sagellm_protocol.responses_gateway import (
    aencode_responses_sse,
    astream_to_responses_events,
    response_to_responses,
    responses_request_to_request,
)
from sagellm_protocol.testing import EchoEngine


class Gateway:
    """What every route shares: the engine, the one model it serves, fresh request ids."""

    def __init__(self, engine: Engine, model: str) -> None:
        self.engine = engine
        self.model = model

    @staticmethod
    def new_id() -> str:
        """A fresh ``request_id`` or ``trace_id`` (a body's own ``trace_id`` wins over it)."""
        return uuid.uuid4().hex

    def unknown_model(self, name: str) -> JSONResponse | None:
        """OpenAI's 404 for a model this gateway does not serve, else ``None``."""
        if name == self.model:
            return None
        error: OpenAIError = {
            "message": f"The model {name!r} does not exist; this gateway serves {self.model!r}",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
        return openai_error_response(404, {"error": error})

    async def generate(
        self,
        body: Mapping[str, Any],
        to_request: Callable[..., Request],
        to_chunks: Callable[..., AsyncIterable[Mapping[str, Any]]],
        to_answer: Callable[..., Mapping[str, Any]],
        encode: Callable[[AsyncIterable[Mapping[str, Any]]], AsyncIterator[bytes]] = aencode_sse,
    ) -> Any:
        """The answer to a generation body: ``to_request`` converts it for the engine, then
        ``to_chunks`` turns the engine's stream into the client's chunks (``stream: true``,
        sent as ``encode`` writes them) or ``to_answer`` its response into the client's
        answer."""
        if (missing := self.unknown_model(body["model"])) is not None:
            return missing
        request = to_request(body, request_id=self.new_id(), trace_id=self.new_id())
        if request["stream"]:
            chunks = to_chunks(
                self.engine.stream(request), model=self.model, include_usage=include_usage(body)
            )
            return sse(chunks, encode)
        response = await self.engine.execute(request)
        return JSONResponse(to_answer(response, model=self.model))


def sse(
    chunks: AsyncIterable[Mapping[str, Any]],
    encode: Callable[[AsyncIterable[Mapping[str, Any]]], AsyncIterator[bytes]],
) -> StreamingResponse:
    """A server-sent-event response that sends each chunk as soon as it is made."""
    return StreamingResponse(
        encode(chunks), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


def include_usage(body: Mapping[str, Any]) -> bool:
    """Whether the client asked for a usage chunk (``stream_options.include_usage``)."""
    return (body.get("stream_options") or {}).get("include_usage") is True


def documented(answer: Any) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route answering with the protocol type ``answer``."""
    return {200: {"model": Validated[answer]}}  # type: ignore[misc]  # a runtime type argument


# ---------------------------------------------------------------------------------------------
# Routes: one function per API, each returning its router; a new API is one more function in
# ROUTES.


def model_routes(gateway: Gateway) -> APIRouter:
    router = APIRouter()

    @router.get("/v1/models", responses=documented(ModelListResponse))
    async def list_models() -> JSONResponse:
        models: ModelListResponse = {
            "object": "list",
            "data": [{"id": gateway.model, "object": "model", "owned_by": "sagellm"}],
        }
        return JSONResponse(models)

    return router


def chat_routes(gateway: Gateway) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/chat/completions", responses=documented(ChatCompletionResponse))
    async def chat_completions(body: ValidatedClosed[ChatCompletionRequest]) -> Any:
        return await gateway.generate(
            body, chat_request_to_request, astream_to_chat_chunks, response_to_chat_completion
        )

    return router


def completion_routes(gateway: Gateway) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/completions", responses=documented(CompletionResponse))
    async def completions(body: ValidatedClosed[CompletionRequest]) -> Any:
        return await gateway.generate(
            body,
            completion_request_to_request,
            astream_to_completion_chunks,
            response_to_completion,
        )

    return router


def responses_routes(gateway: Gateway) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/responses", responses=documented(ResponsesResponse))
    async def responses(body: ValidatedClosed[ResponsesRequest]) -> Any:
        # The Responses answer repeats the request's settings, so its converters take the body
        # itself rather than the model and include_usage; its stream has named events and no
        # [DONE], hence its own encoder.
        return await gateway.generate(
            body,
            responses_request_to_request,
            lambda events, **_: astream_to_responses_events(events, request=body),
            lambda response, **_: response_to_responses(response, request=body),
            encode=aencode_responses_sse,
        )

    return router


ROUTES: tuple[Callable[[Gateway], APIRouter], ...] = (
    model_routes,
    chat_routes,
    completion_routes,
    responses_routes,
)
"""Every API the gateway serves, as a function from the shared :class:`Gateway` to routes."""


def create_app(engine: Engine, model: str) -> FastAPI:
    """The gateway's app: the engine runs while the app does."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()

    app = FastAPI(title="sageLLM reference gateway", lifespan=lifespan)
    add_openai_exception_handlers(app)
    gateway = Gateway(engine, model)
    for routes in ROUTES:
        app.include_router(routes(gateway))
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (8000)")
    parser.add_argument("--model", default="echo", help="the one model served (echo)")
    parser.add_argument(
        "--token-delay-ms",
        type=float,
        default=0.0,
        help="milliseconds the EchoEngine waits before each token (0), to watch streaming",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.token_delay_ms < float("inf"):
        parser.error(f"--token-delay-ms: expected a finite number >= 0, got {args.token_delay_ms}")
    engine = EchoEngine(token_delay_s=args.token_delay_ms / 1000)
    uvicorn.run(create_app(engine, args.model), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
