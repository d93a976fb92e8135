"""validate_json(): one JSON policy on both parser paths; every refusal a ValidationError."""

import subprocess
import sys
import textwrap
from typing import Any

import msgspec
import pytest

from sagellm_protocol import Issue, Request, StreamEvent, ValidationError, validate_json
from sagellm_protocol.validation import _json

START = (
    b'{"event": "start", "request_id": "r", "trace_id": "t", "engine_id": "e", "prompt_tokens": 2}'
)


@pytest.fixture(params=["msgspec", "json"], autouse=True)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on both paths: msgspec first (json deciding refusals), and json alone."""
    decode = msgspec.json.Decoder().decode if request.param == "msgspec" else _json._parse_pure
    monkeypatch.setattr(_json, "_decode", decode)
    return str(request.param)


def refusal(data: Any, tp: Any = Any, **options: Any) -> list[Issue]:
    with pytest.raises(ValidationError) as caught:
        validate_json(tp, data, **options)
    return caught.value.issues


def json_issue(message: str) -> list[Issue]:
    return [Issue((), "json", f"invalid JSON: {message}")]


def test_valid_text_in_every_form() -> None:
    expected = validate_json(StreamEvent, START)
    assert expected["event"] == "start"
    for data in (START.decode(), bytearray(START), memoryview(START)):
        assert validate_json(StreamEvent, data) == expected


def test_protocol_issues_after_parsing() -> None:
    assert refusal(b'{"request_id": "r", "trace_id": "t", "max_tokens": "4"}', Request) == [
        Issue(("max_tokens",), "type", "expected an int > 0, got '4'")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1\n  "b": 2}', "Expecting ',' delimiter (line 2, column 3)"),
        (b"", "Expecting value (line 1, column 1)"),
        (b'{"a": 1} x', "Extra data (line 1, column 10)"),
        (b"[1 2]", "Expecting ',' delimiter (line 1, column 4)"),
        (b'"\x01"', "Invalid control character at (line 1, column 2)"),
        (b"NaN", "NaN is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"1e400", "a number beyond the range of a double (it reads as inf)"),
        (b'{"a": "\\ud800"}', "a \\u escape of a lone surrogate, which is no Unicode text"),
        ('{"a": "\ud800"}', "a lone surrogate, which is no Unicode text (line 1, column 8)"),
        (b'{\n "a": "caf\xe9"}', "not UTF-8 (byte 0xe9) (line 2, column 11)"),
        (b'"\xed\xa0\x80"', "not UTF-8 (byte 0xed) (line 1, column 2)"),  # an encoded surrogate
        (b"[" * 200_000 + b"]" * 200_000, "arrays and objects nested deeper than 512 levels"),
        (b"[" * 513 + b"]" * 513, "arrays and objects nested deeper than 512 levels"),
        (b'{"a":' * 600 + b"1" + b"}" * 600, "arrays and objects nested deeper than 512 levels"),
    ],
)
def test_refusals_are_one_json_issue(data: bytes | str, message: str) -> None:
    assert refusal(data) == json_issue(message)


def test_what_is_accepted() -> None:
    assert validate_json(Any, b"[" * 512 + b"]" * 512) is not None  # the deepest allowed
    assert validate_json(dict[str, int], b'{"a": 1, "a": 2}') == {"a": 2}  # the last one wins
    assert validate_json(int, b"\xef\xbb\xbf 7") == 7  # one leading BOM is ignored
    assert validate_json(str, '\ufeff"x"') == "x"
    assert validate_json(list[str], b'["\\ud83d\\ude00", "\xf0\x9f\x98\x80"]') == ["😀", "😀"]
    big = validate_json(int, b"1" * 30)
    assert (type(big), big) == (int, int("1" * 30))  # exact, not a float
    assert validate_json(int, b"-9223372036854775809") == -(2**63) - 1
    assert validate_json(float, b"0.1e-400") == 0.0
    assert validate_json(list[Any], b" \t\r\n[1.0, -0]\n") == [1.0, 0]


def test_integers_beyond_the_int_conversion_limit() -> None:
    digits = sys.get_int_max_str_digits()
    assert validate_json(int, b"7" * digits) == int("7" * digits)
    assert refusal(b"[" + b"1" * (digits + 1) + b"]") == json_issue(
        f"an integer of more than {digits} digits"
    )


def test_a_huge_document_is_refused_before_parsing() -> None:
    assert refusal(b"[" + b"1," * 600 + b"1]", max_bytes=1000) == json_issue(
        "a document of 1203 bytes, more than max_bytes (1000)"
    )
    huge = b" " * (_json.MAX_BYTES + 1)
    assert refusal(huge) == json_issue(
        f"a document of {_json.MAX_BYTES + 1} bytes, more than max_bytes ({_json.MAX_BYTES})"
    )


def test_without_msgspec_the_pure_path_is_used() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["msgspec"] = None  # as if not installed
        from sagellm_protocol import ValidationError, validate_json
        from sagellm_protocol.validation import _json
        assert validate_json(list[int], b"[1, 2]") == [1, 2]
        assert _json._decode is _json._parse_pure
        try:
            validate_json(list[int], b"[1, NaN]")
        except ValidationError as error:
            print(error)
        try:  # typeguard would catch this first in the suite's own process
            validate_json(list[int], {})
        except TypeError as error:
            print(error)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout == (
        "invalid JSON: NaN is not a JSON number\nvalidate_json() takes bytes or str, got dict\n"
    )
