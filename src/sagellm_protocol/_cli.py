"""The ``sagellm-protocol`` command: validate captured payloads, print schemas, list types.

Exit status: 0 when every record is valid, 1 when some record is invalid, 2 for a usage or
input error (an unknown type, an unreadable file, bytes that are not UTF-8 JSON, an input
without records, output that cannot be written). A user mistake is one line on stderr, never
a traceback; inputs are only ever opened for reading, in chunks, with a cap on each record.
"""

import argparse
import difflib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from . import __version__
from ._inputs import (
    HINTS,
    MAX_RECORD_BYTES,
    READERS,
    InputError,
    Reader,
    Record,
    load,
    looks_like,
)
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
from .version import PROTOCOL_VERSION

__all__ = ["main"]

PROG = "sagellm-protocol"

_STREAM_TYPES = ("StreamEvent", "ChatCompletionStreamResponse", "CompletionResponse")
"""The types ``validate --stream`` takes: those with registered stream rules."""

_SUFFIX_FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".sse": "sse"}
"""The input format a file's suffix implies; any other input is sniffed (see ``--input``)."""

_BUNDLE = "sagellm-protocol.schema.json"


class UsageError(Exception):
    """A mistake in the command line or its files: reported on one line, exit status 2."""


class OutputError(Exception):
    """stdout cannot take what is written (a full disk, an encoding without a character)."""


def shown(name: str) -> str:
    """A file name as printed: bytes that are not UTF-8 (kept by the file system's
    ``surrogateescape`` decoding) as ``\\xNN``, so any name can be reported."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# ---------------------------------------------------------------------------------------------
# validate


class _Report:
    """Prints results as they come and counts them; clears the progress line before output."""

    def __init__(self, as_json: bool, verbose: bool) -> None:
        self.as_json = as_json
        self.verbose = verbose
        self.valid = self.invalid = self.errors = 0
        self.progress: _Progress | None = None

    def print(self, text: str) -> None:
        if self.progress is not None:
            self.progress.clear()
        _out(text)

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
            self.print(json.dumps(result, ensure_ascii=False))
        elif issues or self.verbose:
            verdict = f"invalid {type_name}, {_count(len(issues), 'issue')}:" if issues else ""
            of = f" stream {stream!r}" if stream is not None else ""
            self.print(
                f"{_location(where, record.line, record.event)}:{of} "
                f"{verdict or f'valid {type_name}'}"
            )
            for issue in issues:
                rule = f" ({issue.code})" if issue.code == "sequence" else ""
                self.print(f"    {issue}{rule}")

    def error(self, message: str) -> None:
        self.errors += 1
        if self.progress is not None:
            self.progress.clear()
        if self.as_json:
            _out(json.dumps({"error": message}, ensure_ascii=False))
        else:
            _err(f"{PROG}: error: {message}")

    def summary(self) -> str:
        text = f"{self.valid} valid, {self.invalid} invalid"
        return text + f", {_count(self.errors, 'error')}" if self.errors else text

    def status(self) -> int:
        return 2 if self.errors else 1 if self.invalid else 0


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
        self.visible = False

    def update(self, done: int, records: int) -> None:
        now = time.monotonic()
        if self.active and self.size and now - self.shown >= 0.2:
            self.shown = now
            percent = min(100, done * 100 // self.size)
            sys.stderr.write(f"\r{self.where}: {percent:3d}% ({records} records)")
            sys.stderr.flush()
            self.visible = True

    def clear(self) -> None:
        """Erase the line (before other output, and at the end); the next update redraws it."""
        if self.visible:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.visible = False


class _Stream:
    """One stream of an input: its checker, first record, state and events seen."""

    __slots__ = ("checker", "count", "first", "state")

    def __init__(self, checker: StreamChecker[Any], first: Record) -> None:
        self.checker = checker
        self.first = first
        self.state = "valid"
        """``"valid"``, ``"broken"`` by a rule, or ``"alone"``: an event was invalid on its
        own, so the rules (which need every event) no longer apply and would only report it
        again; later events are checked alone."""
        self.count = 0


class _Streams:
    """The streams of events interleaved in one input, each checked by its own checker.

    Events are grouped by ``request_id`` (Protocol v0.1) or ``id`` (OpenAI chunks): an id
    that changes mid-stream makes two broken streams, one without its end and one without its
    start. A record without a string key is validated alone. Each stream counts once: valid or
    invalid. A Protocol v0.1 stream is finished, and its checker released, at its ``end``
    event; OpenAI chunk streams have no last chunk of their own (a usage chunk may follow the
    finish reasons), so they finish with their input.
    """

    def __init__(self, where: str, type_name: str, report: _Report) -> None:
        self.where = where
        self.type_name = type_name
        self.report = report
        self.tp = type_by_name(type_name)
        self.key = "request_id" if type_name == "StreamEvent" else "id"
        self.ends = type_name == "StreamEvent"
        self.open: dict[str, _Stream] = {}

    def feed(self, record: Record, value: object) -> None:
        key = value.get(self.key) if isinstance(value, dict) else None
        if not isinstance(key, str):
            self.report.result(self.where, record, self.type_name, value)
            return
        stream = self.open.get(key)
        if stream is None:
            stream = self.open[key] = _Stream(stream_checker(self.tp), record)
        index, stream.count = stream.count, stream.count + 1
        if stream.state == "alone":
            issues = [
                issue._replace(path=(index, *issue.path))
                for issue in collect_issues(self.tp, value)
            ]
            if issues:
                self.report.show(self.where, record, self.type_name, issues, key)
        else:
            try:
                stream.checker.feed(value)
            except ValidationError as error:
                own = any(issue.code != "sequence" for issue in error.issues)
                stream.state = "alone" if own else "broken"
                self.report.show(self.where, record, self.type_name, error.issues, key)
                if index == 0 and len(self.open) > 1 and not own:
                    self.report.print(
                        f"    (stream {key!r} starts mid-input: did an earlier stream's id change?)"
                    )
        if self.ends and isinstance(value, dict) and value.get("event") == "end":
            self._finish(key, record)

    def _finish(self, key: str, last: Record) -> None:
        stream = self.open.pop(key)
        if stream.state != "alone":
            issues = stream.checker.close_issues()
            if issues:
                stream.state = "broken"
                self.report.show(self.where, last, self.type_name, issues, key)
        if stream.state == "valid":
            self.report.valid += 1
            if self.report.verbose:
                self.report.show(self.where, stream.first, self.type_name, [], key)
        else:
            self.report.invalid += 1

    def close(self, last: Record | None) -> None:
        for key, stream in list(self.open.items()):
            self._finish(key, last or stream.first)


def _validate_stream(
    stream: IO[bytes],
    where: str,
    type_name: str,
    args: argparse.Namespace,
    report: _Report,
) -> None:
    reader = Reader(stream)
    try:
        size: int | None = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        size = None
    report.progress = progress = _Progress(where, size)
    implied = _SUFFIX_FORMATS.get(Path(where).suffix.lower())
    records = 0
    last: Record | None = None
    hinted = False
    try:
        input_format = args.input
        if input_format == "auto":
            input_format = implied or looks_like(reader.first_line()) or "jsonl"
        streams = _Streams(where, type_name, report) if args.stream else None
        for last in READERS[input_format](reader):
            records += 1
            progress.update(reader.bytes_read, records)
            try:
                value = load(last)
            except InputError as error:
                hint = "" if hinted else _hint(input_format, last, error)
                hinted = hinted or bool(hint)
                report.error(
                    f"{_location(where, error.line, last.event, error.column)}: {error}{hint}"
                )
                continue
            if streams is None:
                report.result(where, last, type_name, value)
            else:
                streams.feed(last, value)
        if streams is not None:
            streams.close(last)
        if not records and not args.allow_empty:
            report.error(f"{where}: {_no_records(input_format, reader)}")
    except InputError as error:  # bytes that are not text, a line over the cap: stop here
        report.error(f"{_location(where, error.line, None, error.column)}: {error}")
    except BrokenPipeError:  # stdout's reader went away: not a read error
        raise
    except OSError as error:  # EIO mid-file, a vanished network mount: stop here
        report.error(f"{where}: cannot read: {_os_reason(error)}")
    finally:
        progress.clear()
        report.progress = None


def _hint(input_format: str, record: Record, error: InputError) -> str:
    """Why a record that is not JSON may be: the input is of another format than was read."""
    first = next((line for line in record.text.splitlines() if line.strip()), "")
    suggested = looks_like(first.strip())
    if suggested == "sse" and input_format != "sse":
        return f" ({HINTS['sse']})"
    if input_format == "json" and suggested == "jsonl" and "Extra data" in error.reason:
        return f" ({HINTS['jsonl']})"
    return ""


def _no_records(input_format: str, reader: Reader) -> str:
    """Why an input yielded no record, for its error (an input checked must hold something)."""
    if not reader.line and not reader.bytes_read:
        why = "the input is empty"
    elif input_format == "sse":
        why = "no server-sent event carries data"
    else:
        why = "the input is blank"
    suggested = looks_like(reader.first_text)
    hint = f"; {HINTS[suggested]}" if suggested in HINTS and suggested != input_format else ""
    return f"no records: {why}{hint} (--allow-empty accepts that)"


def _type_for_file(path: Path, names: Sequence[str]) -> str:
    """``kv.KVHandle.sample.json`` -> ``kv.KVHandle``: the longest dotted prefix that is a type."""
    parts = path.name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in names:
            return candidate
    raise UsageError(
        f"{shown(str(path))}: the file name names no protocol type "
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
    shown_names = [repr(n) for n in close]
    either = (
        ", ".join(shown_names[:-1]) + " or " + shown_names[-1]
        if len(shown_names) > 1
        else "".join(shown_names)
    )
    hint = f"; did you mean {either}?" if close else ""
    raise UsageError(f"no protocol type named {name!r}{hint} (see '{PROG} types')")


def _validate(args: argparse.Namespace) -> int:
    report = _Report(args.format == "json", args.verbose)
    try:
        _validate_all(args, report)
        summary = report.summary()
        if report.as_json:
            _err(summary)
        else:
            _out(summary)
        _flush()
    except BrokenPipeError:  # the reader went away (… | head): what it saw still counts
        _silence_stdout()
    return report.status()


def _validate_all(args: argparse.Namespace, report: _Report) -> None:
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
            _validate_stream(sys.stdin.buffer, "<stdin>", type_name, args, report)
            continue
        try:
            stream = open(name, "rb")  # noqa: SIM115 (closed below; opening is what may fail)
        except OSError as error:
            report.error(f"{shown(name)}: {_os_reason(error)}")
            continue
        with stream:
            _validate_stream(stream, shown(name), type_name, args, report)


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
            _emit(sys.stdout, text)
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

    _out(json.dumps(snapshot(), indent=2, sort_keys=False, ensure_ascii=False))
    return 0


def _reference(args: argparse.Namespace) -> int:
    from ._snapshot import reference

    _emit(sys.stdout, reference())
    return 0


def _read_snapshot(path: str) -> Any:
    try:
        with open(path, "rb") as stream:  # also a pipe: diff OLD <(sagellm-protocol snapshot)
            return parse_json(Reader(stream).document())
    except OSError as error:
        raise UsageError(f"{shown(path)}: {_os_reason(error)}") from None
    except InputError as error:
        raise UsageError(f"{shown(path)}: {error}") from None
    except JSONError as error:
        where = f": line {error.line}, column {error.column}" if error.line is not None else ""
        raise UsageError(f"{shown(path)}: not a JSON snapshot ({error.reason}{where})") from None


def _diff(args: argparse.Namespace) -> int:
    from ._snapshot import diff
    from .version import parse_protocol_version

    old, new = _read_snapshot(args.old), _read_snapshot(args.new)
    try:
        changes = diff(old, new)  # parse_json nests at most 512 levels: the walk's stack holds
        old_version = parse_protocol_version(str(old.get("protocol_version")))
        new_version = parse_protocol_version(str(new.get("protocol_version")))
    except ValueError as error:
        message = str(error).replace("OLD", shown(args.old)).replace("NEW", shown(args.new))
        raise UsageError(message) from None
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
    _emit(sys.stdout, text + "\n")


def _err(text: str) -> None:
    _emit(sys.stderr, text + "\n")


def _emit(stream: IO[str], text: str) -> None:
    """``text`` on ``stream``; :class:`OutputError` when the stream's encoding has no
    character for some of it, or the write fails (a full disk)."""
    try:
        stream.write(text)
    except UnicodeEncodeError as error:
        character = error.object[error.start : error.end]
        raise OutputError(
            f"cannot write {character!r} to {_stream_name(stream)}, whose encoding is "
            f"{error.encoding}: set PYTHONIOENCODING=utf-8 (or a UTF-8 locale)"
        ) from None
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write to {_stream_name(stream)}: {_os_reason(error)}") from None


def _stream_name(stream: IO[str]) -> str:
    return "stderr" if stream is sys.stderr else "stdout"


def _flush() -> None:
    """Flush stdout, where a full disk or a closed pipe shows at the latest."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write to stdout: {_os_reason(error)}") from None


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush of what could not be
    written (a closed pipe, a full disk) neither fails nor prints."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _last_words(text: str) -> None:
    """One line on stderr that cannot fail: characters its encoding lacks are escaped."""
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    line = (text + "\n").encode(encoding, "backslashreplace").decode(encoding)
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):  # no stderr to speak of: the exit status says it
        pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check JSON payloads against sageLLM Protocol v0.1 and print its schemas.",
        epilog="Exit status: 0 all valid, 1 some record invalid, 2 usage, input or output error.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__} (sageLLM Protocol v{PROTOCOL_VERSION})",
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
        "ignored. Server-sent event lines end in CR, LF or CRLF. A line or document over "
        f"{MAX_RECORD_BYTES >> 20} MiB stops its input with an error, and so does an input "
        "without records (unless --allow-empty). Exit status: 0 all valid, 1 some record "
        "invalid, 2 usage, input or output error.",
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
    validate.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept an input without records (by default it is an error: a capture that "
        "caught nothing must not pass)",
    )
    validate.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list valid records too (with --stream, valid streams)",
    )
    validate.set_defaults(run=_validate)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a type, or write every type's schema to a directory",
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
        "pip install 'isagellm-protocol[migrate]'.",
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
            f"migrate needs {error.name}: pip install 'isagellm-protocol[migrate]'"
        ) from None
    status: int = migrate(args.paths, args.mode, args.exclude)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status (0 valid, 1 invalid, 2 usage, input or output
    error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
        _flush()
    except UsageError as error:
        _last_words(f"{PROG}: error: {error}")
        return 2
    except OutputError as error:
        _silence_stdout()
        _last_words(f"{PROG}: error: {error}")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (… | head): not an error of ours
        _silence_stdout()
        return 0
    return status
