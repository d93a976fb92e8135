"""``sagellm-protocol validate --stream``: captures checked as streams, interleaved or not."""

import json
from pathlib import Path
from typing import Any

import pytest
from stream_samples import STREAMS, echo_stream

from sagellm_protocol._cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["validate", *args])
    out, err = capsys.readouterr()
    return status, out, err


def interleaved(path: Path, *streams: list[Any]) -> Path:
    lines = [
        json.dumps(stream[at])
        for at in range(max(map(len, streams)))
        for stream in streams
        if at < len(stream)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_recorded_openai_streams_pass_as_sse(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(path) for path in sorted(STREAMS.glob("*.sse"))]
    assert run(capsys, "--stream", "ChatCompletionStreamResponse", *files) == (
        0,
        "6 valid, 0 invalid\n",
        "",
    )


def test_interleaved_streams_are_told_apart_by_request_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    second = [{**event, "request_id": "r-2"} for event in echo_stream("x y")]
    path = interleaved(tmp_path / "log.jsonl", echo_stream(), second)
    assert run(capsys, "--stream", "StreamEvent", str(path)) == (0, "2 valid, 0 invalid\n", "")


def test_an_id_that_changes_mid_stream_shows_as_two_broken_streams(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    events = echo_stream("x y")
    events[2:] = [{**event, "request_id": "r-2"} for event in events[2:]]
    path = interleaved(tmp_path / "log.jsonl", events)
    assert run(capsys, "--stream", "StreamEvent", str(path)) == (
        1,
        f"{path}:3: stream 'r-2' invalid StreamEvent, 1 issue:\n"
        "    [0].event: expected 'start' first, got 'delta' (sequence)\n"
        "    (stream 'r-2' starts mid-input: did an earlier stream's id change?)\n"
        f"{path}:4: stream 'r-2' invalid StreamEvent, 2 issues:\n"
        "    [1].content: expected the deltas' text joined (1 characters), got 3 characters, "
        "differing from character 1 (sequence)\n"
        "    [1].output_tokens: expected the deltas' tokens joined (1 tokens), got 2 tokens, "
        "differing from token 1 (sequence)\n"
        f"{path}:4: stream 'r-1' invalid StreamEvent, 1 issue:\n"
        "    [2]: expected an 'end' event after [1], got the stream's end (sequence)\n"
        "0 valid, 2 invalid\n",
        "",
    )


def test_a_broken_sse_capture_names_its_line_event_and_stream(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = next(STREAMS.glob("4cc50a61*.sse")).read_text()
    path = tmp_path / "capture.sse"
    path.write_text(source.replace('"finish_reason":"length"', '"finish_reason":null'))
    assert run(capsys, "--stream", "ChatCompletionStreamResponse", str(path)) == (
        1,
        f"{path}:7 (event 4): stream 'chatcmpl-ABfw3Oqj8RD0z6aJiiX37oTjV2HFh' invalid "
        "ChatCompletionStreamResponse, 1 issue:\n"
        "    [4]: expected a finish_reason for choice 0, got the stream's end (sequence)\n"
        "0 valid, 1 invalid\n",
        "",
    )


def test_json_reports_carry_the_stream(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = interleaved(tmp_path / "log.jsonl", echo_stream()[1:])
    status, out, err = run(capsys, "--format", "json", "--stream", "StreamEvent", str(path))
    assert (status, err) == (1, "0 valid, 1 invalid\n")
    first = json.loads(out.splitlines()[0])
    assert first == {
        "file": str(path),
        "line": 1,
        "stream": "r-1",
        "type": "StreamEvent",
        "valid": False,
        "issues": [
            {
                "path": [0, "event"],
                "where": "[0].event",
                "code": "sequence",
                "message": "expected 'start' first, got 'delta'",
            }
        ],
    }


def test_stream_needs_a_stream_type(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "--stream", "Request", "x.jsonl")
    assert (status, out) == (2, "")
    assert err == (
        "sagellm-protocol: error: --stream takes a stream event type (StreamEvent, "
        "ChatCompletionStreamResponse, CompletionResponse), got 'Request'\n"
    )


def test_an_event_invalid_on_its_own_is_reported_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Issue 22: one invalid delta also showed as a second finding on the end event (its text
    # missing from the joined deltas), at a 0-based "character 1".
    events = echo_stream()
    events[1] = {**events[1], "content": 5}
    path = interleaved(tmp_path / "log.jsonl", events)
    assert run(capsys, "--stream", "StreamEvent", str(path)) == (
        1,
        f"{path}:2: stream 'r-1' invalid StreamEvent, 1 issue:\n"
        "    [1].content: expected a str, got 5\n"
        "0 valid, 1 invalid\n",
        "",
    )
    events[3] = {**events[3], "content_tokens": "x"}  # a later one is still reported
    path = interleaved(tmp_path / "log.jsonl", events)
    assert run(capsys, "--stream", "StreamEvent", str(path))[1].splitlines()[2:] == [
        f"{path}:4: stream 'r-1' invalid StreamEvent, 1 issue:",
        "    [3].content_tokens: expected a list[int], got 'x'",
        "0 valid, 1 invalid",
    ]


def test_verbose_lists_valid_streams(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    second = [{**event, "request_id": "r-2"} for event in echo_stream("x y")]
    path = interleaved(tmp_path / "log.jsonl", echo_stream(), second)
    assert run(capsys, "-v", "--stream", "StreamEvent", str(path)) == (
        0,
        # as each finishes: "x y" has fewer deltas
        f"{path}:2: stream 'r-2' valid StreamEvent\n"
        f"{path}:1: stream 'r-1' valid StreamEvent\n"
        "2 valid, 0 invalid\n",
        "",
    )


def test_a_stream_is_finished_at_its_end_event(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Its checker is released there (memory stays bounded over many streams): an event after
    # the end is the start of another stream, one without its start.
    events = echo_stream()
    path = interleaved(tmp_path / "log.jsonl", [*events, events[1]])
    assert run(capsys, "--stream", "StreamEvent", str(path)) == (
        1,
        f"{path}:6: stream 'r-1' invalid StreamEvent, 1 issue:\n"
        "    [0].event: expected 'start' first, got 'delta' (sequence)\n"
        f"{path}:6: stream 'r-1' invalid StreamEvent, 1 issue:\n"
        "    [1]: expected an 'end' event after [0], got the stream's end (sequence)\n"
        "1 valid, 1 invalid\n",
        "",
    )
