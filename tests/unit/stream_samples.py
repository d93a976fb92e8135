"""Streams the stream tests break: the echo engine's, and OpenAI's recorded chat streams."""

import asyncio
import json
from pathlib import Path
from typing import Any

from sagellm_protocol.testing.engine import EchoEngine

STREAMS = Path(__file__).parent.parent / "data" / "openai-streams"


def echo_stream(prompt: str = "a b c", **extra: Any) -> list[Any]:
    async def main() -> list[Any]:
        engine = EchoEngine("e-1")
        await engine.start()
        request = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 16, "prompt": prompt}
        return [event async for event in engine.stream({**request, **extra})]  # type: ignore[typeddict-item]

    return asyncio.run(main())


def chunks_of(path: Path) -> list[Any]:
    return [
        json.loads(line.removeprefix("data: "))
        for line in path.read_text().splitlines()
        if line.startswith("data: {")
    ]


def chat_stream() -> list[Any]:
    return chunks_of(
        STREAMS / "f82268f2fefd5cfbc7eeb59c297688be2f6ca0849a6e4f17851b517310841d9b.sse"
    )
