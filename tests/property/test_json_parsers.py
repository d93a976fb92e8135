"""The two parser paths of validate_json() give the same answer on any text.

msgspec's path (msgspec first, json deciding what it refuses) and the pure path (json alone)
are run on generated JSON, JSON with one character changed, tricky number and string literals
and random bytes: the same value (same types all the way down, same key order) or the same
refusal message.
"""

import json
import math
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagellm_protocol.testing.strategies import json_values
from sagellm_protocol.validation import _json

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_MSGSPEC = msgspec.json.Decoder().decode


def _outcome(data: bytes | str, decode: Any) -> tuple[str, object]:
    try:
        return "value", _json._parse(data, _json.MAX_BYTES, decode)
    except _json.JSONError as error:
        return "refused", str(error)


def _same(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))  # type: ignore[arg-type]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return list(a) == list(b) and all(map(_same, a.values(), b.values()))  # type: ignore[attr-defined]
    return a == b


def _assert_paths_agree(data: bytes | str) -> None:
    fast = _outcome(data, _MSGSPEC)
    pure = _outcome(data, _json._parse_pure)
    assert fast[0] == pure[0], (data, fast, pure)
    if fast[0] == "value":
        assert _same(fast[1], pure[1]), (data, fast, pure)
    else:
        assert fast == pure


_NUMBERS = (
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?\Z")
    | st.integers(-(2**100), 2**100).map(str)
    | st.floats(allow_nan=False).map(repr)
)
_ESCAPES = st.lists(
    st.sampled_from(["a", "é", "😀", "\\n", "\\\\", '\\"', "\\u00e9", "\\ud83d\\ude00"])
    | st.from_regex(r"\A\\u[0-9a-fA-F]{4}\Z"),
    max_size=4,
).map(lambda parts: '"' + "".join(parts) + '"')
_SIGNIFICANT = '{}[]",:0123456789.eE+-tfnrul\\ \n\x00\xff'


@SETTINGS
@given(json_values(max_leaves=12), st.booleans(), st.booleans())
def test_generated_json(value: object, ascii_only: bool, as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    _assert_paths_agree(text.encode() if as_bytes else text)


@SETTINGS
@given(json_values(max_leaves=12), st.data())
def test_json_with_one_character_changed(value: object, data: st.DataObject) -> None:
    text = json.dumps(value)
    where = data.draw(st.integers(0, len(text)))
    new = data.draw(st.sampled_from(_SIGNIFICANT))
    cut = data.draw(st.integers(0, 1))
    _assert_paths_agree((text[:where] + new + text[where + cut :]).encode("utf-8", "replace"))


@SETTINGS
@given(_NUMBERS | _ESCAPES | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e309", "-0"]))
def test_tricky_literals(literal: str) -> None:
    for text in (literal, f"[{literal}]", f'{{"k": {literal}}}'):
        _assert_paths_agree(text.encode())
        _assert_paths_agree(text)


@SETTINGS
@given(st.binary(max_size=64) | st.text(max_size=32))
def test_random_input(data: bytes | str) -> None:
    _assert_paths_agree(data)
