"""The CLI's input reader: lines split at CR, LF or CRLF wherever chunks end; the caps."""

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sagellm_protocol._inputs import InputError, Reader, server_sent_events


class Chunked(io.RawIOBase):
    """A stream that hands out its bytes in the given chunk sizes, as a pipe does."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data = data
        self.sizes = sizes
        self.at = 0

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        step = self.sizes.pop(0) if self.sizes else size
        chunk = self.data[self.at : self.at + min(step, size)]
        self.at += len(chunk)
        return chunk


pieces = st.lists(
    st.sampled_from(["a", "data: x", "", " ", "\r", "\n", "\r\n", "é", "{}", ":c"]), max_size=40
)
sizes = st.lists(st.integers(min_value=1, max_value=7), max_size=60)


@given(pieces, sizes, st.booleans())
def test_lines_are_split_the_same_whatever_the_chunks(
    parts: list[str], chunk_sizes: list[int], any_end: bool
) -> None:
    data = "".join(parts).encode()
    end = rb"\r\n|\r|\n" if any_end else rb"\n"
    expected = re.split(end, data)
    if expected and expected[-1] == b"":  # a last line end ends the last line
        expected.pop()
    reader = Reader(Chunked(data, chunk_sizes))  # type: ignore[arg-type]
    got = [text.encode() for _, text in reader.lines(any_end=any_end)]
    assert got == expected
    assert reader.bytes_read == len(data)


@given(sizes)
def test_a_bom_split_across_chunks_is_left_out(chunk_sizes: list[int]) -> None:
    data = b"\xef\xbb\xbfdata: 1\r\r"
    records = list(server_sent_events(Reader(Chunked(data, chunk_sizes))))  # type: ignore[arg-type]
    assert [(record.line, record.event, record.text) for record in records] == [(1, 1, "1")]


def test_a_line_over_the_cap_stops_before_more_is_read() -> None:
    stream = Chunked(b"x" * 100 + b"\nrest", [10] * 20)
    reader = Reader(stream, cap=32)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="a line longer than 32 bytes, the cap") as caught:
        list(reader.lines(any_end=False))
    assert caught.value.line == 1
    assert stream.at <= 32 + 10  # at most one chunk past the cap was read


def test_a_document_over_the_cap_stops_before_more_is_read() -> None:
    stream = Chunked(b"[" + b"1," * 100 + b"1]", [8] * 40)
    reader = Reader(stream, cap=16)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="a document larger than 16 bytes, the cap"):
        reader.document()
    assert stream.at <= 16 + 8
