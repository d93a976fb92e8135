"""The key count of validate_json()'s typed path: the colons outside a JSON text's strings
against the keys of the value decoded from it.

msgspec decodes a TypedDict into a dict and skips the keys it does not declare; the typed path
keeps its value only when that value has as many keys as the text, so the count must be exact
on every text a parser accepts (any whitespace, escapes, quotes and colons inside strings, texts
of any length across the C scan's 64-byte blocks), in C and in pure Python alike.
"""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagellm_protocol.validation._compile import native_lists
from sagellm_protocol.validation._typed_json import same_key_count

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Strings heavy in what the scan must get right: quotes, backslashes, colons, runs of them.
_TRICKY = st.text(alphabet=st.sampled_from(['"', "\\", ":", "a", " ", "é", "\n", "{", "}"]))
_KEYS = st.one_of(_TRICKY, st.text(max_size=70))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TRICKY)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=30,
)
_LAYOUTS = st.sampled_from(
    [
        {},
        {"separators": (",", ":")},
        {"indent": 2},
        {"indent": "\t", "separators": (" ,", " :  ")},
        {"ensure_ascii": False},
    ]
)


def _counters() -> list[Any]:
    native = native_lists()
    return [same_key_count] + ([native.same_key_count] if native is not None else [])


def _drop_one_key(value: Any) -> bool:
    """Delete one key of the first dict found in ``value`` (a decoder skipping it)."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            if current:
                del current[next(iter(current))]
                return True
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return False


@SETTINGS
@given(_VALUES, _LAYOUTS, st.booleans())
def test_the_count_is_exact_on_any_text(value: Any, layout: dict[str, Any], as_str: bool) -> None:
    text = json.dumps(value, **layout)
    data: bytes | str = text if as_str else text.encode()
    decoded = json.loads(text)  # no key given twice: json.dumps wrote each once
    for count in _counters():
        assert count(data, decoded, True), (count, text)
    if _drop_one_key(decoded):
        for count in _counters():
            assert not count(data, decoded, True), (count, text)


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        '{"a": 1}',
        '{"a:": ":", "b\\"": "\\\\", "c": "\\\\\\":"}',
        # 7 bytes before the x's: a backslash at byte 63, the last of the first 64-byte block,
        # escaping the quote at byte 64; then two backslashes ending at 63, the quote real.
        '{"k": "' + "x" * 56 + '\\"", "l": 1}',
        '{"k": "' + "x" * 55 + '\\\\", "l": 1}',
        '{"k": "' + ":" * 200 + '", "l": {"m": [1, {"n": null}]}}',
        "[" + ", ".join(['{"a": "b:c"}'] * 40) + "]",
    ],
)
def test_edges_of_the_scan(text: str) -> None:
    decoded = json.loads(text)
    for count in _counters():
        assert count(text.encode(), decoded, True)
        assert count(text, decoded, True)


def test_a_key_given_twice_is_not_the_same_count() -> None:
    text = '{"a": 1, "a": 2}'
    for count in _counters():
        assert not count(text.encode(), json.loads(text), True)


@pytest.mark.parametrize(
    ("shape", "same"),
    [
        (True, True),  # every dict counted
        ({"inner": {"deep": {}}, "items": [{}]}, True),  # the dicts where they are
        ({"inner": {}, "items": [{}]}, False),  # the deepest dict missed: smaller, not equal
        ({"inner": {"deep": {}}}, False),  # the list's dicts missed
        (None, False),  # no dict counted at all
        ([{}], True),  # not what the value is (a dict): every dict counted
    ],
)
def test_a_shape_only_ever_lowers_the_count(shape: Any, same: bool) -> None:
    value = {"inner": {"deep": {"x": 1}, "y": 2}, "items": [{"z": 3}, {"w": 4}], "s": "t:u"}
    data = json.dumps(value).encode()
    for count in _counters():
        assert count(data, value, shape) is same, count
