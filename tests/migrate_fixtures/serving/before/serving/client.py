"""An async client that fakes a server round trip."""

import asyncio

from sagellm_protocol.types import Request

from sagellm_protocol import Response
from serving.report import answer, measured


class Client:
    def __init__(self, engine: str) -> None:
        self.engine = engine

    async def generate(self, request: Request) -> Response:
        await asyncio.sleep(0)
        text = request.prompt.upper()
        return answer(request.request_id, text, measured(12.0, float(request.max_tokens)))


def ask(prompt: str) -> Request:
    return Request(request_id="r-1", trace_id="t-1", prompt=prompt, max_tokens=8)
