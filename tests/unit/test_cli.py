"""The ``sagellm-protocol`` command, run as a real process: exact output and exit status."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sagellm_protocol import json_schema, type_by_name, type_names

ROOT = Path(__file__).parent.parent.parent
EXAMPLES = ROOT / "examples"
STREAMS = ROOT / "tests" / "data" / "openai-streams"

START = {
    "event": "start",
    "request_id": "r",
    "trace_id": "t",
    "engine_id": "e",
    "prompt_tokens": 2,
}
DELTA = {
    "event": "delta",
    "request_id": "r",
    "trace_id": "t",
    "engine_id": "e",
    "content": "hi",
    "content_tokens": [1],
}


def run(*args: str, stdin: bytes = b"", cwd: Path = ROOT) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``python -m sagellm_protocol ARGS``."""
    done = subprocess.run(
        [sys.executable, "-m", "sagellm_protocol", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_the_bundled_examples_by_name_as_the_readme_shows() -> None:
    result = run("validate", "--by-name", "examples/")
    assert f"```text\n{result[1]}```" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert result == (
        1,
        "examples/invalid/Request.broken.json:1: invalid Request, 5 issues:\n"
        "    max_tokens: expected an int > 0, got '64'\n"
        "    temperature: expected a finite number in [0, 2], got 2.5\n"
        "    prefill_tokens: unknown key (Request is closed)\n"
        "    messages: expected prompt or messages, not both, got a prompt (2 characters) and "
        "messages (1)\n"
        "    rank: expected rank < world_size (2), got 3\n"
        "examples/invalid/Request.invariants.json:1: invalid Request, 2 issues:\n"
        "    messages: expected prompt or messages, not both, got a prompt (2 characters) and "
        "messages (1)\n"
        "    rank: expected rank < world_size (2), got 3\n"
        "examples/invalid/Response.error-mismatch.json:1: invalid Response, 3 issues:\n"
        "    metrics.itl_list[2]: expected a finite number, got '3.5'\n"
        "    metrics.timestamps.scheduled_at: expected scheduled_at >= queued_at (10.0), got 9.0\n"
        "    finish_reason: expected 'error' when error is set, got 'stop'\n"
        "12 valid, 3 invalid\n",
        "",
    )


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("sagellm-protocol")
    done = subprocess.run(
        [str(script), "validate", "--by-name", "examples/payloads"],
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"12 valid, 0 invalid\n", b"")


def test_json_lines_verbose(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(f"{json.dumps(START)}\n\n{json.dumps({**DELTA, 'content': 5})}\n")
    assert run("validate", "-v", "StreamEvent", str(path)) == (
        1,
        f"{path}:1: valid StreamEvent\n"
        f"{path}:3: invalid StreamEvent, 1 issue:\n"
        "    content: expected a str, got 5\n"
        "1 valid, 1 invalid\n",
        "",
    )


def test_server_sent_events_from_stdin() -> None:
    stream = (
        ": keep-alive comment\r\n"
        f"event: message\r\ndata: {json.dumps(START)}\r\n\r\n"
        f'data: {{"event": "delta", "request_id": "r",\r\ndata: "trace_id": "t"}}\r\n\r\n'
        "data: [DONE]\r\n\r\n"
    )
    assert run("validate", "StreamEvent", "-", stdin=stream.encode()) == (
        1,
        "<stdin>:5 (event 2): invalid StreamEvent, 3 issues:\n"
        "    engine_id: required key is missing\n"
        "    content: required key is missing\n"
        "    content_tokens: required key is missing\n"
        "1 valid, 1 invalid\n",
        "",
    )


def test_recorded_openai_streams() -> None:
    files = sorted(str(path) for path in STREAMS.glob("*.sse"))
    assert run("validate", "ChatCompletionStreamResponse", *files) == (
        0,
        "130 valid, 0 invalid\n",
        "",
    )


def test_json_output_one_result_per_record(tmp_path: Path) -> None:
    path = tmp_path / "capture.txt"  # no suffix rule: sniffed as server-sent events
    path.write_text(f"data: {json.dumps(START)}\n\ndata: {json.dumps({**START, 'x': 1})}\n\n")
    status, out, err = run("validate", "--format", "json", "StreamEvent", str(path))
    assert (status, err) == (1, "1 valid, 1 invalid\n")
    assert [json.loads(line) for line in out.splitlines()] == [
        {"file": str(path), "line": 1, "event": 1, "type": "StreamEvent", "valid": True,
         "issues": []},
        {"file": str(path), "line": 3, "event": 2, "type": "StreamEvent", "valid": False,
         "issues": [{"path": ["x"], "where": "x", "code": "extra",
                     "message": "unknown key (StreamEventStart is closed)"}]},
    ]  # fmt: skip


def test_sniffing_and_forcing_the_format(tmp_path: Path) -> None:
    lines = tmp_path / "events"
    lines.write_text(f"{json.dumps(START)}\n{json.dumps(DELTA)}\n")
    document = tmp_path / "event"
    document.write_text(json.dumps(START, indent=2))
    assert run("validate", "StreamEvent", str(lines), str(document)) == (
        0,
        "3 valid, 0 invalid\n",
        "",
    )
    as_json = tmp_path / "events.json"
    as_json.write_text(lines.read_text())
    assert run("validate", "--input", "jsonl", "StreamEvent", str(as_json)) == (
        0,
        "2 valid, 0 invalid\n",
        "",
    )
    assert run("validate", "StreamEvent", str(as_json)) == (
        2,
        "0 valid, 0 invalid, 1 error\n",
        f"sagellm-protocol: error: {as_json}:2:1: invalid JSON: Extra data (it looks like "
        "JSON Lines: name it .jsonl or pass --input jsonl)\n",
    )


def test_a_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(START).encode())
    assert run("validate", "StreamEvent", str(path)) == (0, "1 valid, 0 invalid\n", "")


def test_malformed_json_by_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(f'{json.dumps(START)}\n{{"event": "start",, }}\n{json.dumps(DELTA)}\n')
    assert run("validate", "StreamEvent", str(path)) == (
        2,
        "2 valid, 0 invalid, 1 error\n",
        f"sagellm-protocol: error: {path}:2:19: invalid JSON: "
        "Expecting property name enclosed in double quotes\n",
    )


def test_deep_nesting_and_binary_garbage(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b'{"event": "st\xff\xfe\x00art"}')
    assert run("validate", "StreamEvent", str(deep), str(garbage)) == (
        2,
        "0 valid, 0 invalid, 2 errors\n",
        f"sagellm-protocol: error: {deep}:1: invalid JSON: arrays and objects nested deeper than "
        "512 levels\n"
        f"sagellm-protocol: error: {garbage}:1:14: not UTF-8 text (byte 0xff)\n",
    )


def test_unknown_type_names_the_closest() -> None:
    assert run("validate", "Reqest", "x.json") == (
        2,
        "",
        "sagellm-protocol: error: no protocol type named 'Reqest'; did you mean 'Request', "
        "'P2PSendRequest' or 'P2PRecvRequest'? (see 'sagellm-protocol types')\n",
    )
    assert run("schema", "request")[::2] == (
        2,
        "sagellm-protocol: error: no protocol type named 'request'; did you mean 'Request'? "
        "(see 'sagellm-protocol types')\n",
    )


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert run("validate", "Request", str(tmp_path / "nope.json"), str(tmp_path)) == (
        2,
        "0 valid, 0 invalid, 2 errors\n",
        f"sagellm-protocol: error: {tmp_path / 'nope.json'}: No such file or directory\n"
        f"sagellm-protocol: error: {tmp_path}: is a directory (name a file, or use --by-name "
        "to walk directories)\n",
    )


def test_by_name_needs_a_type_in_the_name(tmp_path: Path) -> None:
    path = tmp_path / "payload.json"
    path.write_text("{}")
    assert run("validate", "--by-name", str(path)) == (
        2,
        "0 valid, 0 invalid, 1 error\n",
        f"sagellm-protocol: error: {path}: the file name names no protocol type (--by-name "
        "reads <Type>.<anything>.json; see 'sagellm-protocol types')\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), ": error: the following arguments are required: COMMAND"),
        (("validate",), ": error: name a type: validate TYPE [FILE ...] (or use --by-name)"),
        (("validate", "--by-name"), ": error: --by-name needs at least one file or directory"),
        (("schema",), ": error: give either a TYPE or --all"),
        (
            ("schema", "--all"),
            ": error: --all writes one file per type: give the directory with -o DIR",
        ),
        (
            ("validate", "--input", "xml", "Request"),
            " validate: error: argument --input: invalid choice: 'xml'",
        ),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    status, out, err = run(*args)
    assert (status, out) == (2, "")
    assert err.splitlines()[-1].startswith(f"sagellm-protocol{message}")
    assert "Traceback" not in err


@pytest.mark.parametrize("command", [(), ("validate",), ("schema",), ("types",)])
def test_help_on_every_command(command: tuple[str, ...]) -> None:
    status, out, err = run(*command, "--help")
    assert (status, err) == (0, "")
    assert out.startswith("usage: sagellm-protocol")


def test_schema_of_one_type() -> None:
    status, out, err = run("schema", "kv.KVHandle")
    assert (status, err) == (0, "")
    assert json.loads(out) == json_schema(type_by_name("kv.KVHandle"))


def test_schema_all_writes_a_file_per_type_and_a_bundle(tmp_path: Path) -> None:
    names = type_names()
    assert run("schema", "--all", "-o", str(tmp_path / "out")) == (
        0,
        f"wrote {len(names)} schemas and sagellm-protocol.schema.json to {tmp_path / 'out'}\n",
        "",
    )
    files = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert files == sorted(
        [*(f"{name}.schema.json" for name in names), "sagellm-protocol.schema.json"]
    )
    request = json.loads((tmp_path / "out" / "Request.schema.json").read_text())
    assert request == json_schema(type_by_name("Request"))
    bundle = json.loads((tmp_path / "out" / "sagellm-protocol.schema.json").read_text())
    Draft202012Validator.check_schema(bundle)
    assert set(names) <= set(bundle["$defs"])
    event = json.loads((EXAMPLES / "payloads" / "StreamEvent.jsonl").read_text().splitlines()[3])
    by_ref = Draft202012Validator({**bundle, "$ref": "#/$defs/StreamEvent"})
    assert by_ref.is_valid(event)
    assert not by_ref.is_valid({**event, "event": "stop"})


def test_types_lists_every_name_with_its_description() -> None:
    status, out, err = run("types")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == type_names()
    width = max(map(len, type_names()))
    request = "An inference request. Carries a prompt or chat messages, never both."
    stream_event = "one of StreamEventStart | StreamEventDelta | StreamEventEnd, by 'event'"
    assert f"{'Request':{width}}  {request}" in lines
    assert f"{'StreamEvent':{width}}  {stream_event}" in lines


def test_a_large_json_lines_file_in_bounded_memory(tmp_path: Path) -> None:
    """A 50 MB file is read as a stream: the process stays far below the file's size."""
    path = tmp_path / "big.jsonl"
    line = (json.dumps(DELTA) + "\n").encode()
    count = 50_000_000 // len(line) + 1
    with path.open("wb") as out:
        for _ in range(count // 1000 + 1):
            out.write(line * 1000)
    count = (count // 1000 + 1) * 1000
    assert path.stat().st_size >= 50_000_000
    # A parent of its own, so RUSAGE_CHILDREN sees only this run.
    probe = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True); "
        "print(done.returncode, done.stdout.decode().strip(), "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)"
    )
    command = [sys.executable, "-m", "sagellm_protocol", "validate", "StreamEvent", str(path)]
    done = subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        check=True,
    )
    status, rest = done.stdout.split(" ", 1)
    summary, peak_mb = rest.rsplit(" ", 1)
    assert (status, summary) == ("0", f"{count} valid, 0 invalid")
    assert int(peak_mb) < 40, f"peak RSS {peak_mb} MB for a 50 MB file"


def test_inputs_are_never_written(tmp_path: Path) -> None:
    before = {path: path.read_bytes() for path in EXAMPLES.rglob("*.json*")}
    mtimes = {path: path.stat().st_mtime_ns for path in before}
    run("validate", "--by-name", "examples/")
    assert {path: path.read_bytes() for path in before} == before
    assert {path: path.stat().st_mtime_ns for path in before} == mtimes


def _on_a_terminal(
    path: Path, *, stdout_too: bool
) -> tuple["subprocess.CompletedProcess[bytes]", bytes]:
    """``validate StreamEvent path`` with stderr (and ``stdout_too``) on a pseudo-terminal:
    the finished process and what the terminal showed."""
    pty = pytest.importorskip("pty")
    parent, child = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sagellm_protocol", "validate", "StreamEvent", str(path)],
            stdout=child if stdout_too else subprocess.PIPE,
            stderr=child,
            check=False,
        )
        os.close(child)
        shown = b""
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the terminal is closed once drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(parent)
    return done, shown


def test_a_progress_line_on_a_terminal(tmp_path: Path) -> None:
    """stderr a terminal and an input of 8 MB or more: a progress line, cleared at the end."""
    path = tmp_path / "events.jsonl"
    line = (json.dumps(DELTA) + "\n").encode()
    path.write_bytes(line * (8_400_000 // len(line)))
    done, shown = _on_a_terminal(path, stdout_too=False)
    assert (done.returncode, done.stdout) == (
        0,
        f"{8_400_000 // len(line)} valid, 0 invalid\n".encode(),
    )
    updates = re.escape(f"\r{path}: ") + r" *\d+% \(\d+ records\)"
    assert re.fullmatch(f"(?:{updates})+\r\x1b\\[K", shown.decode()), shown


# ---------------------------------------------------------------------------------------------
# Never pass what was not read, never a traceback, never unbounded (issue 22)

INVALID_START = {**START, "prompt_tokens": "two"}


def _peak_mb(*args: str) -> tuple[int, str, int]:
    """Exit status, stderr and peak RSS (MB) of the command, run under a parent of its own so
    RUSAGE_CHILDREN sees only it."""
    probe = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True); "
        "sys.stdout.write(f'{done.returncode} "
        "{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} ' "
        "+ done.stderr.decode())"
    )
    command = [sys.executable, "-m", "sagellm_protocol", *args]
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True
    )
    status, peak, err = done.stdout.split(" ", 2)
    return int(status), err, int(peak)


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_server_sent_events_end_lines_in_cr_lf_or_crlf(tmp_path: Path, end: str) -> None:
    # Issue 22: lone-CR events were read as zero records, "0 valid, 0 invalid", exit 0.
    lines = [
        ": a comment",
        "retry: 1000",
        "event: message",
        "id: 7",
        f"data: {json.dumps(START)}",
        "",
        "data",  # a field without a colon: an empty data line
        f"data: {json.dumps(INVALID_START)}",
        "",
        "data: [DONE]",
        "",
    ]
    path = tmp_path / "capture.sse"
    path.write_bytes(end.join(lines).encode())
    assert run("validate", "StreamEvent", str(path)) == (
        1,
        f"{path}:7 (event 2): invalid StreamEvent, 1 issue:\n"
        "    prompt_tokens: expected an int or None, got 'two'\n"
        "1 valid, 1 invalid\n",
        "",
    )


@pytest.mark.parametrize(
    ("name", "content", "options", "why"),
    [
        ("empty.json", b"", (), "the input is empty"),
        ("blank.jsonl", b"\n \r\n\t\n", (), "the input is blank"),
        ("blank.json", b"  \n", (), "the input is blank"),
        (
            "comments.sse",
            b": keep-alive\n\nevent: ping\n\n",
            (),
            "no server-sent event carries data",
        ),
        (
            "forced.json",
            json.dumps(START).encode(),
            ("--input", "sse"),
            "no server-sent event carries data; it looks like JSON Lines: name it .jsonl or pass "
            "--input jsonl",
        ),
        (
            "lines.sse",
            f"{json.dumps(INVALID_START)}\n".encode(),
            (),
            "no server-sent event carries data; it looks like JSON Lines: name it .jsonl or pass "
            "--input jsonl",
        ),
    ],
)
def test_an_input_without_records_is_an_error(
    tmp_path: Path, name: str, content: bytes, options: tuple[str, ...], why: str
) -> None:
    # Issue 22: each of these passed as "0 valid, 0 invalid", exit 0: a CI step that captured
    # nothing, or read the wrong format, passed.
    path = tmp_path / name
    path.write_bytes(content)
    assert run("validate", *options, "StreamEvent", str(path)) == (
        2,
        "0 valid, 0 invalid, 1 error\n",
        f"sagellm-protocol: error: {path}: no records: {why} (--allow-empty accepts that)\n",
    )
    assert run("validate", "--allow-empty", *options, "StreamEvent", str(path)) == (
        0,
        "0 valid, 0 invalid\n",
        "",
    )


def test_empty_stdin_is_an_error() -> None:
    assert run("validate", "StreamEvent") == (
        2,
        "0 valid, 0 invalid, 1 error\n",
        "sagellm-protocol: error: <stdin>: no records: the input is empty "
        "(--allow-empty accepts that)\n",
    )


def test_content_that_contradicts_the_suffix_gets_a_hint(tmp_path: Path) -> None:
    sse_as_json = tmp_path / "capture.json"
    sse_as_json.write_text(f"data: {json.dumps(START)}\n\n")
    sse_as_lines = tmp_path / "capture.jsonl"
    sse_as_lines.write_text(f"data: {json.dumps(START)}\n\ndata: {json.dumps(START)}\n\n")
    status, out, err = run("validate", "StreamEvent", str(sse_as_json), str(sse_as_lines))
    assert (status, out) == (2, "0 valid, 0 invalid, 3 errors\n")
    hint = "(it looks like server-sent events: name it .sse or pass --input sse)"
    assert err.splitlines() == [
        f"sagellm-protocol: error: {sse_as_json}:1:1: invalid JSON: Expecting value {hint}",
        f"sagellm-protocol: error: {sse_as_lines}:1:1: invalid JSON: Expecting value {hint}",
        # once per input is enough
        f"sagellm-protocol: error: {sse_as_lines}:3:1: invalid JSON: Expecting value",
    ]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "/dev/zero:1: a line longer than 64 MiB, the cap: the rest is not read"),
        (
            ("--input", "json"),
            "/dev/zero:1: a document larger than 64 MiB, the cap: it is not read",
        ),
    ],
)
def test_an_endless_input_stops_at_the_cap_in_bounded_memory(
    options: tuple[str, ...], message: str
) -> None:
    # Issue 22: input without a newline was read into one line until MemoryError.
    status, err, peak_mb = _peak_mb("validate", *options, "StreamEvent", "/dev/zero")
    assert (status, err) == (2, f"sagellm-protocol: error: {message}\n")
    assert peak_mb < 200, f"peak RSS {peak_mb} MB: more than the cap (64 MiB) and the process"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc")
def test_a_read_error_is_one_line() -> None:
    # Reading /proc/self/mem from offset 0 fails with EIO, as a failing disk would.
    assert run("validate", "StreamEvent", "/proc/self/mem") == (
        2,
        "0 valid, 0 invalid, 1 error\n",
        "sagellm-protocol: error: /proc/self/mem: cannot read: Input/output error\n",
    )


def _with_environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def test_output_the_encoding_cannot_show_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({**START, "prompt_tokens": "x" * 300}) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "sagellm_protocol", "validate", "StreamEvent", str(path)],
        capture_output=True,
        env=_with_environment(PYTHONIOENCODING="ascii"),
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        b"sagellm-protocol: error: cannot write '\\u2026' to stdout, whose encoding is ascii: "
        b"set PYTHONIOENCODING=utf-8 (or a UTF-8 locale)\n",
    )
    # The record's first line, written before the one that cannot be encoded, reaches stdout
    # up to 3.13; 3.14's text layer encodes pending writes together and loses it with the rest.
    assert done.stdout in (f"{path}:1: invalid StreamEvent, 1 issue:\n".encode(), b"")


@pytest.mark.skipif(sys.platform != "linux", reason="needs file names of any bytes")
def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/bad\xff.jsonl"
    with open(name, "wb") as out:
        out.write(json.dumps(INVALID_START).encode() + b"\n")
    done = subprocess.run(
        [sys.executable, "-m", "sagellm_protocol", "validate", "StreamEvent", name],
        capture_output=True,
        env=_with_environment(PYTHONIOENCODING="utf-8:strict"),
        check=False,
    )
    assert (done.returncode, done.stdout.decode(), done.stderr) == (
        1,
        f"{tmp_path}/bad\\xff.jsonl:1: invalid StreamEvent, 1 issue:\n"
        "    prompt_tokens: expected an int or None, got 'two'\n"
        "0 valid, 1 invalid\n",
        b"",
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [("validate", "--by-name", "examples/"), ("snapshot",)])
def test_a_full_disk_is_one_line(command: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sagellm_protocol", *command],
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
    assert (done.returncode, done.stderr) == (
        2,
        b"sagellm-protocol: error: cannot write to stdout: No space left on device\n",
    )


def test_stdout_closed_early_still_reports_invalid_records(tmp_path: Path) -> None:
    # Issue 22: `validate … | head -1` exited 0 though every record was invalid. The output
    # (20,000 records) is larger than a pipe holds, so the writer meets the closed pipe.
    path = tmp_path / "bad.jsonl"
    path.write_text((json.dumps(INVALID_START) + "\n") * 20_000)
    command = f'"{sys.executable}" -m sagellm_protocol validate StreamEvent "{path}"'
    done = subprocess.run(
        ["bash", "-c", f'{command} | head -1; echo "status ${{PIPESTATUS[0]}}"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (done.stdout, done.stderr) == (
        f"{path}:1: invalid StreamEvent, 1 issue:\nstatus 1\n",
        "",
    )


def test_deep_nesting_in_diff_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert run("diff", str(deep), "contracts/protocol-v0.1.json") == (
        2,
        "",
        f"sagellm-protocol: error: {deep}: not a JSON snapshot (arrays and objects nested "
        "deeper than 512 levels)\n",
    )


def test_version() -> None:
    status, out, err = run("--version")
    assert (status, err) == (0, "")
    assert re.fullmatch(r"sagellm-protocol \S+ \(sageLLM Protocol v0\.1\)\n", out)


def test_the_help_lists_each_command_in_full() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sagellm_protocol", "--help"],
        capture_output=True,
        text=True,
        env=_with_environment(COLUMNS="200"),
        check=True,
    )
    # argparse's column of help texts moved in Python 3.13
    assert re.search(
        r"^ +schema +print the JSON Schema of a type, or write every type's schema to a "
        r"directory$",
        done.stdout,
        re.MULTILINE,
    )


def test_stream_checking_of_a_large_json_lines_file_in_bounded_memory(tmp_path: Path) -> None:
    """50 MB of finished Protocol v0.1 streams: each checker is released at its end event
    (issue 22: every checker, with its joined text, was kept to the end of the input)."""
    path = tmp_path / "streams.jsonl"
    piece = "tok" * 20
    end_extra = {
        "finish_reason": "stop",
        "metrics": {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 3, "error_rate": 0.0},
    }
    streams = 0
    with path.open("w") as out:
        while out.tell() < 50_000_000:
            ids = {"request_id": f"r-{streams}", "trace_id": "t", "engine_id": "e"}
            lines = [json.dumps({**START, **ids})]
            lines += [
                json.dumps({**DELTA, **ids, "content": piece, "content_tokens": [at]})
                for at in range(50)
            ]
            ends = {"content": piece * 50, "output_tokens": list(range(50)), **end_extra}
            lines.append(json.dumps({"event": "end", **ids, **ends}))
            out.write("\n".join(lines) + "\n")
            streams += 1
    status, err, peak_mb = _peak_mb("validate", "--stream", "StreamEvent", str(path))
    assert (status, err) == (0, "")
    assert peak_mb < 40, f"peak RSS {peak_mb} MB for a 50 MB file of {streams} streams"


def test_the_progress_line_is_cleared_before_a_record_is_printed(tmp_path: Path) -> None:
    """stdout and stderr on one terminal: the invalid record's line starts a clean line."""
    path = tmp_path / "events.jsonl"
    line = (json.dumps(DELTA) + "\n").encode()
    path.write_bytes(line * (8_400_000 // len(line)) + (json.dumps(INVALID_START) + "\n").encode())
    done, shown = _on_a_terminal(path, stdout_too=True)
    assert done.returncode == 1
    number = 8_400_000 // len(line) + 1
    assert f"\r\x1b[K{path}:{number}: invalid StreamEvent".encode() in shown, shown[-400:]
