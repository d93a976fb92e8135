"""The ``sagellm-protocol`` command: validate captured payloads, print schemas, list types.

Exit status: 0 when every record is valid, 1 when some record is invalid, 2 for a usage or
input error (an unknown type, an unreadable file, bytes that are not UTF-8 JSON). A user
mistake is a message on stderr, never a traceback; inputs are only ever opened for reading.
"""

import argparse
import difflib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from ._schema import DIALECT, json_schema, schema_parts
from ._tree.analyse import analyze, documentation
from ._tree.listing import one_line
from ._tree.nodes import TypedDictNode, UnionNode
from .validation import (
    Issue,
    StreamChecker,
    ValidationError,
    collect_issues,
    format_path,
    stream_checker,
    type_by_name,
    type_names,
)
from .validation._json import JSONError, parse_json

__all__ = ["main"]

PROG = "sagellm-protocol"

_STREAM_TYPES = ("StreamEvent", "ChatCompletionStreamResponse", "CompletionResponse")
"""The types ``validate --stream`` takes: those with registered stream rules."""

_SUFFIX_FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".sse": "sse"}
"""The input format a file's suffix implies; any other input is sniffed (see ``--input``)."""

_SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")

_BUNDLE = "sagellm-protocol.schema.json"


class UsageError(Exception):
    """A mistake in the command line or its files: reported on one line, exit status 2."""


class InputError(Exception):
    """One record (or the rest of a file) cannot be read as JSON: its location and why."""

    def __init__(self, line: int, column: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.column = column
        self.reason = reason


class Record(NamedTuple):
    """One JSON text of an input and where it starts."""

    line: int
    """1-based line of the input where the text starts."""
    event: int | None
    """1-based event number, for server-sent events."""
    text: str


# ---------------------------------------------------------------------------------------------
# Reading inputs: JSON documents, JSON Lines, server-sent events


class _Lines:
    """Decoded lines of a binary stream, numbered from 1, counting the bytes read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.number = 0
        self.pending: list[bytes] = []

    def __iter__(self) -> Iterator[tuple[int, str]]:
        first = True
        for raw in self._raw():
            self.number += 1
            self.bytes_read += len(raw)
            if first and raw.startswith(b"\xef\xbb\xbf"):  # a BOM, as some editors write
                raw = raw[3:]
            first = False
            yield self.number, _decode(raw, self.number)

    def _raw(self) -> Iterator[bytes]:
        while self.pending:
            yield self.pending.pop(0)
        yield from self.stream

    def peek_first_text(self) -> str | None:
        """The first non-blank line (kept for iteration), ``None`` for an empty input."""
        for raw in self.stream:
            self.pending.append(raw)
            if raw.strip():
                text = raw.removeprefix(b"\xef\xbb\xbf") if len(self.pending) == 1 else raw
                return _decode(text, len(self.pending)).strip()
        return None


def _decode(raw: bytes, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            line, error.start + 1, f"not UTF-8 text (byte 0x{raw[error.start]:02x})"
        ) from None


def _sniff(lines: _Lines) -> str:
    """The format of an input its name does not tell: see the ``--input`` help."""
    first = lines.peek_first_text()
    if first is None:
        return "jsonl"  # no records
    if first.startswith(_SSE_FIELDS):
        return "sse"
    try:
        parse_json(first)
    except JSONError:
        return "json"
    return "jsonl"


def _json_document(lines: _Lines) -> Iterator[Record]:
    text = "".join(line for _, line in lines)
    if text.strip():
        start = len(text) - len(text.lstrip())
        yield Record(text.count("\n", 0, start) + 1, None, text)


def _json_lines(lines: _Lines) -> Iterator[Record]:
    for number, line in lines:
        if line.strip():
            yield Record(number, None, line)


def _server_sent_events(lines: _Lines) -> Iterator[Record]:
    """Each event's data (its ``data:`` lines joined), ``[DONE]`` left out; see the SSE spec."""
    data: list[str] = []
    start = 0
    events = 0
    for number, raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                events += 1
                if data != ["[DONE]"]:
                    yield Record(start, events, "\n".join(data))
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            if not data:
                start = number
            data.append(value.removeprefix(" "))
        # Comments (":…"), "event", "id", "retry" and unknown fields carry no payload.
    if data:  # a capture cut short of its final blank line still holds the last event
        events += 1
        if data != ["[DONE]"]:
            yield Record(start, events, "\n".join(data))


_READERS = {"json": _json_document, "jsonl": _json_lines, "sse": _server_sent_events}


def _load(record: Record) -> object:
    try:
        return parse_json(record.text)
    except JSONError as error:
        if error.line is None:
            raise InputError(record.line, None, f"invalid JSON: {error.reason}") from None
        # An event's first line starts after "data: ": its columns would mislead.
        column = error.column if error.line > 1 or record.event is None else None
        raise InputError(
            record.line + error.line - 1, column, f"invalid JSON: {error.reason}"
        ) from None


# ---------------------------------------------------------------------------------------------
# validate


class _Report:
    """Prints results as they come and counts them."""

    def __init__(self, as_json: bool, verbose: bool) -> None:
        self.as_json = as_json
        self.verbose = verbose
        self.valid = self.invalid = self.errors = 0

    def result(self, where: str, record: Record, type_name: str, value: object) -> None:
        issues = collect_issues(type_by_name(type_name), value)
        if issues:
            self.invalid += 1
        else:
            self.valid += 1
        self.show(where, record, type_name, issues)

    def show(
        self,
        where: str,
        record: Record,
        type_name: str,
        issues: list[Issue],
        stream: str | None = None,
    ) -> None:
        """Print one record's issues (or its validity, verbose); ``stream`` names its stream."""
        if self.as_json:
            result: dict[str, Any] = {"file": where, "line": record.line}
            if record.event is not None:
                result["event"] = record.event
            if stream is not None:
                result["stream"] = stream
            result |= {
                "type": type_name,
                "valid": not issues,
                "issues": [
                    {
                        "path": list(issue.path),
                        "where": format_path(issue.path),
                        "code": issue.code,
                        "message": issue.message,
                    }
                    for issue in issues
                ],
            }
            _out(json.dumps(result, ensure_ascii=False))
        elif issues or self.verbose:
            verdict = f"invalid {type_name}, {_count(len(issues), 'issue')}:" if issues else ""
            of = f" stream {stream!r}" if stream is not None else ""
            _out(
                f"{_location(where, record.line, record.event)}:{of} "
                f"{verdict or f'valid {type_name}'}"
            )
            for issue in issues:
                rule = f" ({issue.code})" if issue.code == "sequence" else ""
                _out(f"    {issue}{rule}")

    def error(self, message: str) -> None:
        self.errors += 1
        if self.as_json:
            _out(json.dumps({"error": message}, ensure_ascii=False))
        else:
            _err(f"{PROG}: error: {message}")

    def summary(self) -> str:
        text = f"{self.valid} valid, {self.invalid} invalid"
        return text + f", {_count(self.errors, 'error')}" if self.errors else text


def _location(where: str, line: int, event: int | None, column: int | None = None) -> str:
    text = f"{where}:{line}" + (f":{column}" if column is not None else "")
    return text + (f" (event {event})" if event is not None else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class _Progress:
    """A one-line progress display on stderr, for inputs of a known size when it is a terminal."""

    _MIN_BYTES = 8 << 20

    def __init__(self, where: str, size: int | None) -> None:
        self.where = where
        self.size = size
        self.active = bool(size and size >= self._MIN_BYTES) and sys.stderr.isatty()
        self.shown = 0.0

    def update(self, done: int, records: int) -> None:
        now = time.monotonic()
        if self.active and self.size and now - self.shown >= 0.2:
            self.shown = now
            percent = min(100, done * 100 // self.size)
            sys.stderr.write(f"\r{self.where}: {percent:3d}% ({records} records)")
            sys.stderr.flush()

    def close(self) -> None:
        if self.active and self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


class _Streams:
    """The streams of events interleaved in one input, each checked by its own checker.

    Events are grouped by ``request_id`` (Protocol v0.1) or ``id`` (OpenAI chunks): an id
    that changes mid-stream makes two broken streams, one without its end and one without its
    start. A record without a string key is validated alone. Each stream counts once: valid or
    invalid.
    """

    def __init__(self, where: str, type_name: str, report: _Report) -> None:
        self.where = where
        self.type_name = type_name
        self.report = report
        self.tp = type_by_name(type_name)
        self.key = "request_id" if type_name == "StreamEvent" else "id"
        self.open: dict[str, tuple[StreamChecker[Any], Record, list[bool]]] = {}

    def feed(self, record: Record, value: object) -> None:
        key = value.get(self.key) if isinstance(value, dict) else None
        if not isinstance(key, str):
            self.report.result(self.where, record, self.type_name, value)
            return
        if key not in self.open:
            self.open[key] = (stream_checker(self.tp), record, [False])
        checker, _, broken = self.open[key]
        try:
            checker.feed(value)
        except ValidationError as error:
            broken[0] = True
            self.report.show(self.where, record, self.type_name, error.issues, key)
            if checker.count == 1 and len(self.open) > 1:
                _out(f"    (stream {key!r} starts mid-input: did an earlier stream's id change?)")

    def close(self, last: Record | None) -> None:
        for key, (checker, first, broken) in self.open.items():
            issues = checker.close_issues()
            if issues:
                broken[0] = True
                self.report.show(self.where, last or first, self.type_name, issues, key)
            if broken[0]:
                self.report.invalid += 1
            else:
                self.report.valid += 1


def _validate_stream(
    stream: IO[bytes],
    where: str,
    type_name: str,
    input_format: str,
    report: _Report,
    as_streams: bool = False,
) -> None:
    lines = _Lines(stream)
    try:
        size: int | None = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        size = None
    progress = _Progress(where, size)
    try:
        if input_format == "auto":
            input_format = _SUFFIX_FORMATS.get(Path(where).suffix.lower()) or _sniff(lines)
        records = 0
        streams = _Streams(where, type_name, report) if as_streams else None
        last: Record | None = None
        for last in _READERS[input_format](lines):
            records += 1
            progress.update(lines.bytes_read, records)
            try:
                value = _load(last)
            except InputError as error:
                report.error(f"{_location(where, error.line, last.event, error.column)}: {error}")
                continue
            if streams is None:
                report.result(where, last, type_name, value)
            else:
                streams.feed(last, value)
        if streams is not None:
            streams.close(last)
    except InputError as error:  # bytes that are not text: nothing more to read here
        report.error(f"{_location(where, error.line, None, error.column)}: {error}")
    finally:
        progress.close()


def _type_for_file(path: Path, names: Sequence[str]) -> str:
    """``kv.KVHandle.sample.json`` -> ``kv.KVHandle``: the longest dotted prefix that is a type."""
    parts = path.name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in names:
            return candidate
    raise UsageError(
        f"{path}: the file name names no protocol type "
        f"(--by-name reads <Type>.<anything>.json; see '{PROG} types')"
    )


def _expand(paths: Iterable[str]) -> Iterator[Path]:
    """Files of ``paths``, directories walked in name order (for ``--by-name``)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(
                found
                for found in path.rglob("*")
                if found.is_file() and found.suffix.lower() in _SUFFIX_FORMATS
            )
        else:
            yield path


def _resolve(name: str) -> str:
    names = type_names()
    if name in names:
        return name
    folded = {n.lower(): n for n in names}
    close = [folded[name.lower()]] if name.lower() in folded else []
    close += [n for n in difflib.get_close_matches(name, names, n=3) if n not in close]
    shown = [repr(n) for n in close]
    either = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else "".join(shown)
    hint = f"; did you mean {either}?" if close else ""
    raise UsageError(f"no protocol type named {name!r}{hint} (see '{PROG} types')")


def _validate(args: argparse.Namespace) -> int:
    report = _Report(args.format == "json", args.verbose)
    if args.by_name and args.stream:
        raise UsageError("--stream takes its TYPE, not --by-name")
    if args.by_name:
        if not args.paths:
            raise UsageError("--by-name needs at least one file or directory")
        names = type_names()
        jobs: list[tuple[str, str]] = []
        for path in _expand(args.paths):
            try:
                jobs.append((str(path), _type_for_file(path, names)))
            except UsageError as error:
                report.error(str(error))
    else:
        if not args.paths:
            raise UsageError("name a type: validate TYPE [FILE ...] (or use --by-name)")
        type_name = _resolve(args.paths[0])
        if args.stream and type_name not in _STREAM_TYPES:
            raise UsageError(
                f"--stream takes a stream event type ({', '.join(_STREAM_TYPES)}), "
                f"got {type_name!r}"
            )
        jobs = [(name, type_name) for name in args.paths[1:] or ["-"]]
    for name, type_name in jobs:
        if name == "-":
            _validate_stream(
                sys.stdin.buffer, "<stdin>", type_name, args.input, report, args.stream
            )
            continue
        try:
            stream = open(name, "rb")  # noqa: SIM115 (closed below; opening is what may fail)
        except OSError as error:
            report.error(f"{name}: {_os_reason(error)}")
            continue
        with stream:
            _validate_stream(stream, name, type_name, args.input, report, args.stream)
    summary = report.summary()
    if report.as_json:
        _err(summary)
    else:
        _out(summary)
    return 2 if report.errors else 1 if report.invalid else 0


def _os_reason(error: OSError) -> str:
    if isinstance(error, IsADirectoryError):
        return "is a directory (name a file, or use --by-name to walk directories)"
    return error.strerror or str(error)


# ---------------------------------------------------------------------------------------------
# schema, types


def _dump(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _schema(args: argparse.Namespace) -> int:
    if args.all == (args.type is not None):
        raise UsageError("give either a TYPE or --all")
    if not args.all:
        text = _dump(json_schema(type_by_name(_resolve(args.type))))
        if args.output is None:
            sys.stdout.write(text)
        else:
            _write(Path(args.output), text)
        return 0
    if args.output is None:
        raise UsageError("--all writes one file per type: give the directory with -o DIR")
    directory = Path(args.output)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{directory}: {_os_reason(error)}") from None
    bundle: dict[str, Any] = {}
    for name in type_names():
        tp = type_by_name(name)
        _write(directory / f"{name}.schema.json", _dump(json_schema(tp)))
        schema, defs = schema_parts(tp)
        bundle.update(defs)
        bundle.setdefault(name, schema)
    document = {"$schema": DIALECT, "$defs": dict(sorted(bundle.items()))}
    _write(directory / _BUNDLE, _dump(document))
    _out(f"wrote {_count(len(type_names()), 'schema')} and {_BUNDLE} to {directory}")
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{path}: {_os_reason(error)}") from None


def one_line_description(name: str) -> str:
    """The first paragraph of a type's docstring on one line; a union names its members."""
    node = analyze(type_by_name(name))
    if isinstance(node, TypedDictNode):
        return one_line(documentation(node)[0])
    assert isinstance(node, UnionNode)
    members = " | ".join(getattr(option, "name", "?") for option in node.options)
    return f"one of {members}" + (f", by {node.tag!r}" if node.tag else "")


def _types(args: argparse.Namespace) -> int:
    names = type_names()
    width = max(map(len, names))
    for name in names:
        _out(f"{name:{width}}  {one_line_description(name)}")
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from ._snapshot import snapshot

    sys.stdout.write(json.dumps(snapshot(), indent=2, sort_keys=False, ensure_ascii=False) + "\n")
    return 0


def _reference(args: argparse.Namespace) -> int:
    from ._snapshot import reference

    sys.stdout.write(reference())
    return 0


def _read_snapshot(path: str) -> Any:
    try:
        with open(path, "rb") as stream:  # also a pipe: diff OLD <(sagellm-protocol snapshot)
            return json.loads(stream.read().decode("utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: {_os_reason(error)}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path}: not a JSON snapshot ({error})") from None


def _diff(args: argparse.Namespace) -> int:
    from ._snapshot import diff
    from .version import parse_protocol_version

    old, new = _read_snapshot(args.old), _read_snapshot(args.new)
    try:
        changes = diff(old, new)
        old_version = parse_protocol_version(str(old.get("protocol_version")))
        new_version = parse_protocol_version(str(new.get("protocol_version")))
    except ValueError as error:
        raise UsageError(str(error).replace("OLD", args.old).replace("NEW", args.new)) from None
    major_bump = new_version.major > old_version.major
    blocking = [c for c in changes if c.breaking and c.frozen and not major_bump]
    if args.format == "json":
        document = {
            "old_version": str(old_version),
            "new_version": str(new_version),
            "changes": [
                {
                    "type": c.type,
                    "key": c.key,
                    "change": c.what,
                    "breaking": c.breaking,
                    "frozen": c.frozen,
                }
                for c in changes
            ],
            "blocking": len(blocking),
        }
        _out(json.dumps(document, indent=2))
    else:
        for change in changes:
            _out(change.line())
        breaking = sum(change.breaking for change in changes)
        summary = (
            f"{_count(len(changes), 'change')}: {breaking} breaking, "
            f"{len(blocking)} to frozen interfaces"
        )
        if major_bump and any(c.breaking and c.frozen for c in changes):
            summary += f" (allowed: protocol {old_version} -> {new_version} is a new major)"
        _out(summary)
    return 1 if blocking else 0


# ---------------------------------------------------------------------------------------------
# The command line


def _out(text: str) -> None:
    print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check JSON payloads against sageLLM Protocol v0.1 and print its schemas.",
        epilog="Exit status: 0 all valid, 1 some record invalid, 2 usage or input error.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="validate JSON, JSON Lines or server-sent events against a protocol type",
        usage=f"{PROG} validate [options] TYPE [FILE ...]\n"
        f"       {PROG} validate [options] --by-name PATH [PATH ...]",
        description="Validate each record of each FILE (or of stdin, '-') as TYPE, print every "
        "invalid record with its file, line (and event number) and every issue, then a summary "
        "line 'N valid, M invalid'.",
        epilog="Input formats (--input auto): a .json file is one JSON document, .jsonl/.ndjson "
        "is JSON Lines (one record per non-blank line, read as a stream), .sse is server-sent "
        "events ('data:' lines, an event per blank line; comments, other fields and "
        "'data: [DONE]' are skipped). Any other input is sniffed from its first non-blank line: "
        "'data:', 'event:', 'id:', 'retry:' or ':' means server-sent events, a complete JSON "
        "value means JSON Lines, anything else one JSON document. A leading UTF-8 BOM is "
        "ignored. Exit status: 0 all valid, 1 some record invalid, 2 usage or input error.",
    )
    validate.add_argument(
        "paths", nargs="*", metavar="TYPE FILE", help=argparse.SUPPRESS
    )  # TYPE then FILEs, or PATHs with --by-name: argparse cannot say "TYPE unless --by-name"
    validate.add_argument(
        "--by-name",
        action="store_true",
        help="take each file's type from its name, <Type>.<anything>.json (kv.KVHandle.x.json "
        "is a kv.KVHandle); directories are walked for .json, .jsonl, .ndjson and .sse files",
    )
    validate.add_argument(
        "--input",
        choices=("auto", "json", "jsonl", "sse"),
        default="auto",
        help="force the input format (default: by suffix, else sniffed; see below)",
    )
    validate.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="'json': one JSON object per record on stdout (file, line, event, type, valid, "
        "issues), the summary on stderr",
    )
    validate.add_argument(
        "--stream",
        action="store_true",
        help="check the records as streams of TYPE events (StreamEvent, "
        "ChatCompletionStreamResponse, CompletionResponse): each event, then the stream rules; "
        "interleaved streams are told apart by request_id (StreamEvent) or id, and each "
        "stream counts once in the summary",
    )
    validate.add_argument("-v", "--verbose", action="store_true", help="list valid records too")
    validate.set_defaults(run=_validate)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a type, or write every type's",
        usage=f"{PROG} schema TYPE [-o FILE]\n       {PROG} schema --all -o DIR",
        description="The JSON Schema (draft 2020-12) of TYPE, self-contained; with --all, one "
        f"file <Type>.schema.json per type and a bundle {_BUNDLE} of every type under $defs.",
    )
    schema.add_argument("type", nargs="?", metavar="TYPE", help="a type name (see 'types')")
    schema.add_argument("--all", action="store_true", help="every type, into the directory -o")
    schema.add_argument("-o", "--output", metavar="PATH", help="write here instead of stdout")
    schema.set_defaults(run=_schema)

    types = commands.add_parser(
        "types",
        help="list every type name with its one-line description",
        description="Every protocol type name validate and schema take, with what it is.",
    )
    types.set_defaults(run=_types)

    migrate = commands.add_parser(
        "migrate",
        help="rewrite code written for the original pydantic package (isagellm-protocol)",
        description="Rewrite the Python files under each PATH from the original pydantic "
        "package to this one: import paths, constructor calls to make(), attribute access on "
        "protocol values to subscripts (found by mypy), pydantic methods; report with file, "
        "line and rule code what needs a hand edit. Needs the extra: "
        "pip install 'sagellm-protocol[migrate]'.",
        epilog="Exit status: 0 done or nothing to do, 1 with --check when anything needs "
        "migrating, 2 usage error or mypy cannot type the code (nothing is rewritten then).",
    )
    how = migrate.add_mutually_exclusive_group()
    how.add_argument(
        "--check",
        dest="mode",
        action="store_const",
        const="check",
        help="list what would change and what needs a hand edit (the default)",
    )
    how.add_argument(
        "--diff",
        dest="mode",
        action="store_const",
        const="diff",
        help="print the rewrite as a unified diff",
    )
    how.add_argument(
        "--fix", dest="mode", action="store_const", const="fix", help="rewrite the files in place"
    )
    migrate.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    migrate.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out the files (or folders) whose path below the common folder of the "
        "PATHs matches this glob; repeatable",
    )
    migrate.set_defaults(run=_migrate, mode="check")

    snapshot = commands.add_parser(
        "snapshot",
        help="print the wire snapshot of every type (contracts/protocol-v0.1.json)",
        description="A deterministic JSON snapshot of the wire contract of every type: keys, "
        "required-ness, nullability, value types, constraints, formats, closed/open, literal "
        "values, defaults, invariants, the side of the wire, the protocol version.",
    )
    snapshot.set_defaults(run=_snapshot)

    diff = commands.add_parser(
        "diff",
        help="classify every change between two snapshots as compatible or breaking",
        description="Compare snapshot OLD with snapshot NEW and print each change as "
        "'Type.key: breaking|compatible: what changed', then a summary line.",
        epilog="Exit status: 1 if a change breaks a frozen interface (or a type one uses) "
        "without a new major protocol version, 0 otherwise, 2 for an unreadable snapshot.",
    )
    diff.add_argument("old", metavar="OLD", help="the snapshot to stay compatible with")
    diff.add_argument("new", metavar="NEW", help="the new snapshot ('-' is not read)")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(run=_diff)

    reference = commands.add_parser(
        "reference",
        help="print the protocol reference as Markdown (docs/protocol.md)",
        description="One section per type: keys, value types, required/optional, null, "
        "ranges, formats, defaults, closed/open, invariants, docstrings and which types use it.",
    )
    reference.set_defaults(run=_reference)
    return parser


def _migrate(args: argparse.Namespace) -> int:
    try:
        import libcst  # noqa: F401
        import mypy  # noqa: F401

        from ._migrate import migrate
    except ImportError as error:
        raise UsageError(
            f"migrate needs {error.name}: pip install 'sagellm-protocol[migrate]'"
        ) from None
    status: int = migrate(args.paths, args.mode, args.exclude)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status (0 valid, 1 invalid, 2 usage or input error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except UsageError as error:
        _err(f"{PROG}: error: {error}")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (… | head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    return status
