"""The records of the CLI's inputs: one JSON document, JSON Lines, or server-sent events.

Inputs are read in chunks, never whole: a line (or a document) longer than the cap stops the
input with an :class:`InputError` before the rest is read, so ``/dev/zero`` or an endless
``curl -N`` cannot exhaust memory. Server-sent events follow the HTML living standard's
parsing: lines end in CR, LF or CRLF; ``data:`` lines join into an event's data, dispatched at
a blank line; ``event:``, ``id:``, ``retry:``, other fields and ``:`` comments carry no data.
"""

import re
from collections.abc import Iterator
from typing import IO, Final, NamedTuple

from .validation._json import MAX_BYTES, JSONError, parse_json

__all__ = [
    "HINTS",
    "MAX_RECORD_BYTES",
    "READERS",
    "InputError",
    "Reader",
    "Record",
    "load",
    "looks_like",
]

MAX_RECORD_BYTES: Final = MAX_BYTES
"""The largest line (JSON Lines, server-sent events) or document (JSON) read: 64 MiB."""

_CHUNK: Final = 1 << 16
_BOM: Final = b"\xef\xbb\xbf"
_SSE_FIELDS: Final = ("data:", "event:", "id:", "retry:", ":")
_ANY_END: Final = re.compile(rb"\r\n?|\n")
"""A line end of server-sent events: CR, LF or CRLF."""
_LF: Final = re.compile(rb"\n")
"""A line end of JSON Lines (a CR before it is stripped with the line's other white space)."""

HINTS: Final = {  # for an input whose content contradicts its name (or --input)
    "sse": "it looks like server-sent events: name it .sse or pass --input sse",
    "jsonl": "it looks like JSON Lines: name it .jsonl or pass --input jsonl",
}


class InputError(Exception):
    """One record (or the rest of an input) cannot be read as JSON: its location and why."""

    def __init__(self, line: int, column: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        """1-based line of the input."""
        self.column = column
        """1-based column (character) in that line, when known."""
        self.reason = reason


class Record(NamedTuple):
    """One JSON text of an input and where it starts."""

    line: int
    """1-based line of the input where the text starts."""
    event: int | None
    """1-based event number, for server-sent events."""
    text: str


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 and not count % (1 << 20) else f"{count} bytes"


class Reader:
    """A binary stream read in chunks: its lines (numbered from 1) or the rest as one document.

    :attr:`bytes_read` counts what was consumed, for a progress display.
    """

    def __init__(self, stream: IO[bytes], cap: int = MAX_RECORD_BYTES) -> None:
        self.stream = stream
        self.cap = cap
        self.buffer = bytearray()
        self.eof = False
        self.bytes_read = 0
        self.line = 0
        """The number of the last line handed out."""
        self.first_text: str | None = None
        """The first non-blank line handed out, stripped (to tell what an input holds)."""
        self._started = False

    def _fill(self) -> bool:
        """Read one more chunk into the buffer; ``False`` at the end of the input."""
        if self.eof:
            return False
        # read1: what a pipe has now, so records of a live stream are checked as they come.
        read = getattr(self.stream, "read1", self.stream.read)
        chunk = read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        if not self._started:  # a leading BOM, as some editors write, is no part of the text
            self._started = True
            while len(self.buffer) < len(_BOM) and not self.eof:
                more = read(_CHUNK)
                self.buffer += more
                self.eof = not more
            if self.buffer.startswith(_BOM):
                del self.buffer[: len(_BOM)]
                self.bytes_read += len(_BOM)
        return True

    def first_line(self) -> str | None:
        """The first non-blank line, decoded and stripped, without consuming anything (for
        sniffing); ``None`` for an input of only white space. Splits at CR too."""
        start = scan = 0
        while True:
            match = _ANY_END.search(self.buffer, scan)
            if match is not None and (match.end() < len(self.buffer) or self.eof):
                line = bytes(self.buffer[start : match.start()])
                if line.strip():
                    return line.decode("utf-8", "replace").strip()
                start = scan = match.end()
                continue
            if match is None and len(self.buffer) - start > self.cap:
                return None  # no line end within the cap: the reader reports it
            scan = match.start() if match is not None else len(self.buffer)
            if not self._fill():
                rest = bytes(self.buffer[start:])
                return rest.decode("utf-8", "replace").strip() or None

    def lines(self, *, any_end: bool) -> Iterator[tuple[int, str]]:
        """Each line without its end, numbered; ``any_end`` splits at CR as well as LF.

        Raises :class:`InputError` for a line over the cap (before reading more of it) or
        not UTF-8, and the input's reading stops there.
        """
        end = _ANY_END if any_end else _LF
        start = scan = 0
        while True:
            match = end.search(self.buffer, scan)
            # A CR at the buffer's end may be the first half of a CRLF: read on to know.
            if match is not None and (match.end() < len(self.buffer) or self.eof):
                raw = bytes(self.buffer[start : match.start()])
                self.bytes_read += match.end() - start
                start = scan = match.end()
                yield self._line(raw)
                continue
            # Search on from the line end that may be half a CRLF, or from the end.
            scan = match.start() if match is not None else len(self.buffer)
            if start:
                del self.buffer[:start]
                scan -= start
                start = 0
            if len(self.buffer) > self.cap:
                self.line += 1
                raise InputError(
                    self.line,
                    None,
                    f"a line longer than {_size(self.cap)}, the cap: the rest is not read",
                )
            if self.eof:  # every line end was seen: what is left is a last line without one
                if self.buffer:
                    raw = bytes(self.buffer)
                    self.bytes_read += len(raw)
                    self.buffer.clear()
                    yield self._line(raw)
                return
            self._fill()

    def _line(self, raw: bytes) -> tuple[int, str]:
        self.line += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(
                self.line, error.start + 1, f"not UTF-8 text (byte 0x{raw[error.start]:02x})"
            ) from None
        if self.first_text is None and text.strip():
            self.first_text = text.strip()
        return self.line, text

    def document(self) -> bytes:
        """The rest of the input; :class:`InputError` as soon as it passes the cap."""
        while len(self.buffer) <= self.cap and self._fill():
            pass
        if len(self.buffer) > self.cap:
            raise InputError(
                1, None, f"a document larger than {_size(self.cap)}, the cap: it is not read"
            )
        data = bytes(self.buffer)
        self.bytes_read += len(data)
        self.buffer.clear()
        return data


def looks_like(first_line: str | None) -> str | None:
    """The format a first non-blank line suggests: ``"sse"``, ``"jsonl"`` (a complete JSON
    value), ``"json"`` (anything else) or ``None`` (no line)."""
    if first_line is None:
        return None
    if first_line.startswith(_SSE_FIELDS):
        return "sse"
    try:
        parse_json(first_line)
    except JSONError:
        return "json"
    return "jsonl"


def json_document(reader: Reader) -> Iterator[Record]:
    """The input as one JSON document (none if it is blank)."""
    data = reader.document()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(line, column, f"not UTF-8 text (byte 0x{data[error.start]:02x})") from None
    if text.strip():
        start = len(text) - len(text.lstrip())
        yield Record(text.count("\n", 0, start) + 1, None, text)


def json_lines(reader: Reader) -> Iterator[Record]:
    """Each non-blank line of the input."""
    for number, line in reader.lines(any_end=False):
        if line.strip():
            yield Record(number, None, line)


def server_sent_events(reader: Reader) -> Iterator[Record]:
    """Each event's data (its ``data:`` lines joined by LF), ``[DONE]`` left out.

    An event is dispatched at a blank line; a capture cut short of its final blank line still
    yields its last event (the spec would drop it, and a check must not pass what it did not
    read).
    """
    data: list[str] = []
    start = events = 0
    for number, line in reader.lines(any_end=True):
        if not line:
            if data:
                events += 1
                if data != ["[DONE]"]:
                    yield Record(start, events, "\n".join(data))
                data = []
            continue
        field, colon, value = line.partition(":")
        # A line without a colon is a field with an empty value; ":…" is a comment (field "").
        if field == "data":
            if not data:
                start = number
            data.append(value.removeprefix(" ") if colon else "")
        # "event", "id", "retry", comments and unknown fields carry no data to check.
    if data:
        events += 1
        if data != ["[DONE]"]:
            yield Record(start, events, "\n".join(data))


READERS: Final = {"json": json_document, "jsonl": json_lines, "sse": server_sent_events}


def load(record: Record) -> object:
    """The JSON value of ``record``; :class:`InputError` with its 1-based line and column."""
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
