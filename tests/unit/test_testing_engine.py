"""EchoEngine, the reference Engine, driven with asyncio.run (no pytest-asyncio)."""

import asyncio
import math
import re
import zlib
from collections.abc import Mapping
from typing import Any, cast

import pytest

from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.core import (
    Metrics,
    Request,
    Response,
    StreamEvent,
    Timestamps,
    metrics_from_timestamps,
)
from sagellm_protocol.engine import Engine
from sagellm_protocol.testing.engine import EchoEngine, echo_tokenize

PROMPT = "The quick  brown fox"
PIECES = ["The ", "quick  ", "brown ", "fox"]
IDS = [zlib.crc32(piece.encode("utf-8")) for piece in PIECES]


def request(**extra: Any) -> Request:
    return cast(Request, {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 16, **extra})


async def started(engine: EchoEngine) -> EchoEngine:
    await engine.start()
    return engine


def run_execute(req: Request) -> Response:
    async def main() -> Response:
        return await (await started(EchoEngine())).execute(req)

    return asyncio.run(main())


def run_stream(req: Request) -> list[StreamEvent]:
    async def main() -> list[StreamEvent]:
        engine = await started(EchoEngine("echo-7"))
        return [event async for event in engine.stream(req)]

    return asyncio.run(main())


def assert_measured(metrics: Metrics, output_tokens: int) -> None:
    """Metrics are metrics_from_timestamps over ordered stamps and one ITL per later token."""
    timestamps = metrics.get("timestamps")
    assert timestamps is not None
    itl = metrics.get("itl_list", [])
    assert len(itl) == max(output_tokens - 1, 0)
    assert all(latency >= 0 for latency in itl)
    assert [v for check in INVARIANTS[Timestamps] for v in check(timestamps)] == []
    expected = metrics_from_timestamps(timestamps, output_tokens, itl_list=itl)
    phases = {key: item for key, item in metrics.items() if key in ("prefill_ms", "decode_ms")}
    assert metrics == {**expected, **phases}


def without_metrics(value: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "metrics"}


# --- the tokenizer -------------------------------------------------------------------------


def test_echo_tokenize_pieces_and_ids() -> None:
    assert echo_tokenize(PROMPT) == list(zip(PIECES, IDS, strict=True))
    assert echo_tokenize("  a\nb ") == [
        ("  ", zlib.crc32(b"  ")),
        ("a\n", zlib.crc32(b"a\n")),
        ("b ", zlib.crc32(b"b ")),
    ]
    assert echo_tokenize("") == []


def test_echo_tokenize_joins_back_and_is_deterministic() -> None:
    text = " Grüße,\tworld!  \n 你好 "
    tokens = echo_tokenize(text)
    assert "".join(piece for piece, _ in tokens) == text
    assert echo_tokenize(text) == tokens
    assert echo_tokenize("fox fox ") == [("fox ", zlib.crc32(b"fox "))] * 2


# --- lifecycle -----------------------------------------------------------------------------


def test_echo_engine_is_an_engine() -> None:
    engine = EchoEngine()
    assert isinstance(engine, Engine)
    assert engine.engine_id == "echo-engine"
    assert EchoEngine("e-42").engine_id == "e-42"


def test_lifecycle_and_health_check() -> None:
    async def main() -> list[bool]:
        engine = EchoEngine()
        states = [await engine.health_check()]
        await engine.start()
        await engine.start()
        states.append(await engine.health_check())
        await engine.stop()
        states.append(await engine.health_check())
        await engine.stop()
        return states

    assert asyncio.run(main()) == [False, True, False]


@pytest.mark.parametrize("method", ["execute", "prefill", "decode"])
@pytest.mark.parametrize("stopped", [False, True], ids=["never-started", "stopped"])
def test_refuses_calls_when_not_running(method: str, stopped: bool) -> None:
    async def main() -> None:
        engine = EchoEngine("e-1")
        if stopped:
            await engine.start()
            await engine.stop()
        await getattr(engine, method)(request(prompt=PROMPT))

    message = f"EchoEngine 'e-1' is not running: call start() before {method}()"
    with pytest.raises(RuntimeError, match=f"^{re.escape(message)}$"):
        asyncio.run(main())


def test_stream_refuses_at_the_call_when_not_running() -> None:
    message = "EchoEngine 'e-1' is not running: call start() before stream()"
    with pytest.raises(RuntimeError, match=f"^{re.escape(message)}$"):
        EchoEngine("e-1").stream(request(prompt=PROMPT))


@pytest.mark.parametrize(("delay", "shown"), [(-0.5, "-0.5"), (math.nan, "nan"), (math.inf, "inf")])
def test_rejects_bad_token_delay(delay: float, shown: str) -> None:
    message = f"expected 0 <= token_delay_s < inf, got {shown}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        EchoEngine(token_delay_s=delay)


# --- execute -------------------------------------------------------------------------------


def test_execute_echoes_the_prompt() -> None:
    response = run_execute(request(prompt=PROMPT))
    metrics = response["metrics"]
    assert without_metrics(response) == {
        "request_id": "r-1",
        "trace_id": "t-1",
        "output_text": PROMPT,
        "output_tokens": IDS,
        "prompt_tokens": 4,
        "finish_reason": "stop",
    }
    assert_measured(metrics, 4)
    assert metrics["peak_mem_mb"] == 0
    assert metrics["error_rate"] == 0.0


@pytest.mark.parametrize(
    ("max_tokens", "finish_reason"), [(1, "length"), (3, "length"), (4, "stop"), (5, "stop")]
)
def test_execute_honours_max_tokens(max_tokens: int, finish_reason: str) -> None:
    response = run_execute(request(prompt=PROMPT, max_tokens=max_tokens))
    kept = min(max_tokens, 4)
    assert response["output_text"] == "".join(PIECES[:kept])
    assert response["output_tokens"] == IDS[:kept]
    assert response["finish_reason"] == finish_reason
    assert response["prompt_tokens"] == 4
    assert_measured(response["metrics"], kept)


def test_execute_echoes_the_last_user_message() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "pending"},
    ]
    response = run_execute(request(messages=messages))
    assert response["output_text"] == "second question"
    assert response["prompt_tokens"] == 2


@pytest.mark.parametrize(
    "extra",
    [{}, {"prompt": ""}, {"messages": []}, {"messages": [{"role": "system", "content": "x"}]}],
)
def test_execute_with_no_input_outputs_nothing(extra: dict[str, Any]) -> None:
    response = run_execute(request(**extra))
    assert (response["output_text"], response["output_tokens"]) == ("", [])
    assert (response["finish_reason"], response["prompt_tokens"]) == ("stop", 0)
    assert_measured(response["metrics"], 0)
    assert response["metrics"]["throughput_tps"] == 0.0


# --- stream --------------------------------------------------------------------------------


def test_stream_events() -> None:
    events = run_stream(request(prompt=PROMPT, max_tokens=3))
    ids = {"request_id": "r-1", "trace_id": "t-1", "engine_id": "echo-7"}
    assert events[0] == {"event": "start", **ids, "prompt_tokens": 4}
    assert events[1:4] == [
        {"event": "delta", **ids, "content": piece, "content_tokens": [token_id]}
        for piece, token_id in zip(PIECES[:3], IDS[:3], strict=True)
    ]
    assert len(events) == 5
    end = events[4]
    assert end["event"] == "end"
    metrics = end["metrics"]
    assert without_metrics(end) == {
        "event": "end",
        **ids,
        "prompt_tokens": 4,
        "content": "".join(PIECES[:3]),
        "output_tokens": IDS[:3],
        "finish_reason": "length",
    }
    assert_measured(metrics, 3)


def test_stream_and_execute_agree() -> None:
    req = request(messages=[{"role": "user", "content": PROMPT}])
    end = run_stream(req)[-1]
    response = run_execute(req)
    assert end["event"] == "end"
    assert (end["content"], end["output_tokens"], end["finish_reason"]) == (
        response["output_text"],
        response["output_tokens"],
        response["finish_reason"],
    )


def test_concurrent_streams_interleave_and_stay_separate() -> None:
    async def main() -> list[list[StreamEvent]]:
        engine = await started(EchoEngine())

        async def collect(req: Request) -> list[StreamEvent]:
            return [event async for event in engine.stream(req)]

        return list(
            await asyncio.gather(
                collect(request(request_id="a", prompt="one two three")),
                collect(request(request_id="b", prompt="four five")),
            )
        )

    first, second = asyncio.run(main())
    assert {event["request_id"] for event in first} == {"a"}
    assert {event["request_id"] for event in second} == {"b"}
    assert first[-1]["event"] == "end"
    assert first[-1]["content"] == "one two three"
    assert second[-1]["event"] == "end"
    assert second[-1]["content"] == "four five"


# --- prefill / decode ----------------------------------------------------------------------


def run_pd(prefill_req: Request, decode_req: Request) -> tuple[Response, Response]:
    async def main() -> tuple[Response, Response]:
        engine = await started(EchoEngine())
        return await engine.prefill(prefill_req), await engine.decode(decode_req)

    return asyncio.run(main())


def test_prefill_then_decode() -> None:
    prefilled, decoded = run_pd(
        request(prompt=PROMPT, phase="prefill"), request(phase="decode", max_tokens=16)
    )
    assert (prefilled["output_text"], prefilled["output_tokens"]) == (PIECES[0], IDS[:1])
    assert (prefilled["finish_reason"], prefilled["prompt_tokens"]) == ("length", 4)
    assert prefilled["metrics"]["prefill_ms"] >= 0
    assert "decode_ms" not in prefilled["metrics"]
    assert_measured(prefilled["metrics"], 1)

    assert (decoded["output_text"], decoded["output_tokens"]) == (PROMPT, IDS)
    assert (decoded["finish_reason"], decoded["prompt_tokens"]) == ("stop", 4)
    assert decoded["metrics"]["decode_ms"] >= 0
    assert "prefill_ms" not in decoded["metrics"]
    assert_measured(decoded["metrics"], 4)


def test_prefill_of_a_single_token_stops() -> None:
    prefilled, decoded = run_pd(request(prompt="hello"), request(max_tokens=1))
    assert (prefilled["output_text"], prefilled["finish_reason"]) == ("hello", "stop")
    assert (decoded["output_text"], decoded["finish_reason"]) == ("hello", "stop")


def test_decode_honours_its_own_max_tokens_and_ignores_its_prompt() -> None:
    _, decoded = run_pd(request(prompt=PROMPT), request(prompt="other text", max_tokens=2))
    assert decoded["output_text"] == "".join(PIECES[:2])
    assert decoded["finish_reason"] == "length"


def test_decode_without_prefill_and_after_release() -> None:
    async def main(engine: EchoEngine) -> None:
        await engine.start()
        await engine.prefill(request(prompt=PROMPT))
        await engine.decode(request())
        await engine.decode(request())

    message = "EchoEngine 'e-9' holds no prefilled KV cache for request 'r-1': call prefill() first"
    with pytest.raises(LookupError, match=f"^{re.escape(message)}$"):
        asyncio.run(main(EchoEngine("e-9")))


def test_stop_drops_prefilled_state() -> None:
    async def main(engine: EchoEngine) -> None:
        await engine.start()
        await engine.prefill(request(prompt=PROMPT))
        await engine.stop()
        await engine.start()
        await engine.decode(request())

    with pytest.raises(LookupError, match="holds no prefilled KV cache for request 'r-1'"):
        asyncio.run(main(EchoEngine()))


def test_token_delay_still_gives_consistent_metrics() -> None:
    async def main() -> Response:
        engine = await started(EchoEngine(token_delay_s=0.001))
        return await engine.execute(request(prompt=PROMPT))

    response = asyncio.run(main())
    assert response["output_text"] == PROMPT
    assert_measured(response["metrics"], 4)
