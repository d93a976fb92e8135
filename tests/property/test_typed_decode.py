"""The C typed decoder of validate_json() (``validation/_typed_decode.c``).

It must never accept a text ``json.loads`` refuses under the module's policy, never build a value
other than the one ``json.loads`` builds, and never accept a value its type's msgspec mirror
refuses: whatever it does not take it answers ``NotImplemented``, and the untyped parse decides.
These tests hold it to that on generated and broken texts, and check that it does take the
ordinary ones (else the fast path would silently be the slow one).
"""

import json
import math
import struct
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Gt, Le, Lt, MultipleOf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from sagellm_protocol import Request, StreamEvent, ValidationError, validate_json
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.constraints import DeviceStr
from sagellm_protocol.kv.types import KVTransferMetadata
from sagellm_protocol.openai import ChatCompletionRequest, ChatMessage
from sagellm_protocol.testing.strategies import from_type, mutations
from sagellm_protocol.validation import _json, type_by_name, type_names, validate
from sagellm_protocol.validation._compile import native_lists
from sagellm_protocol.validation._typed_json import decoder_spec

NATIVE = native_lists()
pytestmark = pytest.mark.skipif(NATIVE is None, reason="the C module is not built")

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ANY = ("any",)
NULL = ("none",)


def _native() -> Any:
    assert NATIVE is not None
    return NATIVE


def _decode(spec: tuple[Any, ...], data: bytes | str, max_depth: int = _json.MAX_DEPTH) -> Any:
    return _native().typed_decode(_native().typed_program(spec), data, max_depth)


def _same(a: object, b: object) -> bool:
    """Equal with the same types all the way down, floats bit for bit, keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)  # type: ignore[arg-type]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _policy_parse(data: bytes) -> tuple[bool, Any]:
    """Whether the policy's own parser accepts ``data``, and the value it builds."""
    try:
        return True, _json._parse_pure(data)
    except _json.JSONError:
        return False, None


_TEXT = st.text(alphabet=st.sampled_from(['"', "\\", ":", "a", " ", "é", "\n", "\x01", "😀", "/"]))
_STRINGS = st.one_of(_TEXT, st.text(max_size=40))
_NUMBERS = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), _NUMBERS, _STRINGS),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_STRINGS, inner, max_size=5),
    max_leaves=30,
)
_LAYOUTS = st.sampled_from(
    [{}, {"separators": (",", ":")}, {"indent": 2}, {"indent": "\t"}, {"ensure_ascii": False}]
)


@SETTINGS
@given(_VALUES, _LAYOUTS, st.booleans())
def test_any_json_text_is_read_as_json_loads_reads_it(
    value: Any, layout: Any, as_str: bool
) -> None:
    text = json.dumps(value, **layout)
    read = _decode(ANY, text if as_str else text.encode())
    assert _same(read, json.loads(text)), (text, read)


# Bytes that make or break JSON, for edits of a valid text.
_EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0),
        st.sampled_from(["insert", "replace", "delete"]),
        st.sampled_from(
            [
                b'"',
                b"\\",
                b",",
                b":",
                b"{",
                b"}",
                b"[",
                b"]",
                b"-",
                b"0",
                b"1",
                b".",
                b"e",
                b"+",
                b" ",
                b"\x00",
                b"\x1f",
                b"\xff",
                b"\xed\xa0\x80",
                b"\\ud800",
                b"\\udc00",
                b"\\u00e9",
                b"n",
                b"t",
                b"f",
                b"\xef\xbb\xbf",
                b"1e400",
                b"9" * 25,
            ]
        ),
    ),
    min_size=1,
    max_size=4,
)


def _edit(data: bytes, edits: list[tuple[int, str, bytes]]) -> bytes:
    for position, how, piece in edits:
        at = position % (len(data) + 1)
        if how == "insert":
            data = data[:at] + piece + data[at:]
        elif how == "replace":
            data = data[:at] + piece + data[at + len(piece) :]
        else:
            data = data[:at] + data[at + 1 :]
    return data


@SETTINGS
@given(_VALUES, _EDITS)
def test_a_broken_text_is_refused_or_read_as_the_policy_reads_it(
    value: Any, edits: list[tuple[int, str, bytes]]
) -> None:
    data = _edit(json.dumps(value).encode(), edits)
    read = _decode(ANY, data)
    if read is not NotImplemented:
        accepted, parsed = _policy_parse(data)
        assert accepted, (data, read)
        assert _same(read, parsed), (data, read, parsed)


_DECIMALS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)


@SETTINGS
@given(st.one_of(_DECIMALS, st.floats(allow_nan=False, allow_infinity=False).map(repr)))
def test_numbers_are_read_as_json_loads_reads_them(text: str) -> None:
    """Floats read by the exact fast path or by the interpreter's own: the same bits."""
    read = _decode(ANY, text)
    accepted, parsed = _policy_parse(text.encode())
    if not accepted:  # beyond a double's range
        assert read is NotImplemented, text
    elif isinstance(parsed, int) and len(text.lstrip("-")) > 4300:
        assert read is NotImplemented
    else:
        assert _same(read, parsed), (text, read, parsed)


@pytest.mark.parametrize(
    "text",
    [
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "+1",
        "1e+",
        "--1",
        "0x10",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "tru",
        "nul",
        "True",
        '"\\ud800"',
        '"\\udc00"',
        '"\\ud800\\u0041"',
        '"\\ud800\\udbff"',
        '"a\x01"',
        '"\\x"',
        '"\\u12"',
        '"\\u12g4"',
        '"abc',
        '"\\"',
        '{"a": 1, "a": 2}',
        "[1,]",
        '{"a": 1,}',
        "[1 2]",
        '{"a" 1}',
        "{1: 2}",
        "[",
        "]",
        "",
        " ",
        "1 x",
        "\ufeff1",
    ],
)
def test_what_json_or_the_policy_refuses_is_refused(text: str) -> None:
    assert _decode(ANY, text.encode("utf-8", "surrogatepass")) is NotImplemented


@pytest.mark.parametrize(
    "data", [b'"\xff"', b'"\xed\xa0\x80"', b'"\xc3"', b"\xef\xbb\xbf1", b"1\x00", b'"\x00"']
)
def test_bytes_that_are_not_utf8_text_are_refused(data: bytes) -> None:
    assert _decode(ANY, data) is NotImplemented


def test_a_str_with_a_lone_surrogate_is_refused() -> None:
    assert _decode(ANY, '"\ud800"') is NotImplemented


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"\\u00e9\\u20ac\\ud83d\\ude00\\n\\t\\"\\\\\\/\\b\\f\\r"', 'é€😀\n\t"\\/\b\f\r'),
        ("-0", 0),
        ("-0.0", -0.0),
        ("0.1", 0.1),
        ("1E2", 100.0),
        ("123456789012345678", 123456789012345678),
        ("1234567890123456789012", 1234567890123456789012),
        ("9007199254740993.0", 9007199254740993.0),
        ("2.2250738585072014e-308", 2.2250738585072014e-308),
        ("1e-400", 0.0),
        (' \t\n\r[ 1 , {"a" : null } ] \n', [1, {"a": None}]),
    ],
)
def test_values_are_those_json_loads_builds(text: str, value: object) -> None:
    assert _same(_decode(ANY, text), value)
    assert _same(_decode(ANY, text), json.loads(text))


def test_nesting_is_bounded() -> None:
    assert _decode(ANY, "[[[1]]]", max_depth=3) == [[[1]]]
    assert _decode(ANY, "[[[[1]]]]", max_depth=3) is NotImplemented
    assert _decode(ANY, '{"a": {"b": {}}}', max_depth=3) == {"a": {"b": {}}}
    assert _decode(ANY, '{"a": {"b": {"c": []}}}', max_depth=3) is NotImplemented
    deep = "[" * _json.MAX_DEPTH + "]" * _json.MAX_DEPTH
    assert _decode(ANY, deep) is not NotImplemented
    assert _decode(ANY, "[" + deep + "]") is NotImplemented


FIELDS = ("fields", (("a", ("int", None, None), True), ("b", ("str", None, None), False)), None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1}', {"a": 1}),
        ('{"b": "x", "a": 1}', {"b": "x", "a": 1}),
        ('{"\\u0061": 1, "b": "x"}', {"a": 1, "b": "x"}),
        ('{"a": 1, "c": 2}', NotImplemented),
        ('{"b": "x"}', NotImplemented),
        ('{"a": 1, "a": 1}', NotImplemented),
        ('{"a": 1, "b": 2}', NotImplemented),
        ('{"a": "1"}', NotImplemented),
        ('{"a": 1.0}', NotImplemented),
        ('{"a": true}', NotImplemented),
        ('{"a": null}', NotImplemented),
        ("[]", NotImplemented),
    ],
)
def test_a_typed_dict_takes_its_keys_only_each_once_the_required_ones_all(
    text: str, value: object
) -> None:
    read = _decode(FIELDS, text)
    assert read is NotImplemented if value is NotImplemented else _same(read, value), read


@pytest.mark.parametrize(
    ("spec", "text", "accepted"),
    [
        (("int", 0, 10), "0", True),
        (("int", 0, 10), "10", True),
        (("int", 0, 10), "-1", False),
        (("int", 0, 10), "11", False),
        (("int", 0, None), "1" * 19, False),  # past 18 digits, bounds are left to the untyped
        (("int", None, None), "-" + "1" * 40, True),
        (("ints", (1, 3)), "3", True),
        (("ints", (1, 3)), "2", False),
        (("float", 0, True, 1, False), "0.0", False),
        (("float", 0, True, 1, False), "1e-300", True),
        (("float", 0, True, 1, False), "1.0", True),
        (("float", 0, True, 1, False), "1.0000000000000002", False),
        (("float", 0, False, 1, True), "0.0", True),
        (("float", 0, False, 1, True), "1.0", False),
        (("float", None, False, None, False), "1", False),  # an int: a union's other option
        (("str", 2, 2), '"é€"', True),
        (("str", 2, 2), '"abc"', False),
        (("str", 2, None), '"\\u00e9"', False),
        (("strs", ("a", "bc")), '"bc"', True),
        (("strs", ("a", "bc")), '"b"', False),
        (("strs", ("a", "bc")), '"\\u0061"', False),  # escaped: left to the untyped parse
        (("list", ("int", None, None), 1, 2), "[1, 2]", True),
        (("list", ("int", None, None), 1, 2), "[]", False),
        (("list", ("int", None, None), 1, 2), "[1, 2, 3]", False),
        (("list", ("int", None, None), None, None), "[1, true]", False),
        (("dict", ("bool",), None, 1), '{"x": true}', True),
        (("dict", ("bool",), None, 1), '{"x": true, "y": false}', False),
        (("dict", ("bool",), None, None), '{"x": true, "x": false}', False),
        (NULL, "null", True),
        (NULL, "0", False),
        (("bool",), "false", True),
        (("bool",), "0", False),
    ],
)
def test_each_kind_takes_what_its_type_says(spec: Any, text: str, accepted: bool) -> None:
    read = _decode(spec, text)
    assert (read is not NotImplemented) == accepted, read
    if accepted:
        assert _same(read, json.loads(text))


def _spec_of(tp: Any) -> Any:
    return decoder_spec(analyze(tp))


def test_a_union_picks_its_option_by_the_kind_of_value() -> None:
    spec = _spec_of(float | str | list[int] | dict[str, int] | bool | None)
    for text in ["1", "1.5", '"a"', "[1]", '{"a": 1}', "true", "null"]:
        assert _same(_decode(spec, text), json.loads(text)), text
    assert _decode(_spec_of(int | None), "1.5") is NotImplemented


def test_choices_are_the_programs_own_strings() -> None:
    program = _native().typed_program(("list", ("strs", ("fp16", "bf16")), None, None))
    first = _native().typed_decode(program, b'["fp16"]', 8)[0]
    assert first == "fp16"
    assert _native().typed_decode(program, b'["fp16"]', 8)[0] is first


STRS_A = ("strs", ("a",))
WIDE = TypedDict("WIDE", {f"k{i}": int for i in range(65)})  # type: ignore[misc]
CHECKED_ANY = ("check", ANY)


@pytest.mark.parametrize(
    ("tp", "spec"),
    [
        (Annotated[int, Gt(0), Lt(10)], ("int", 1, 9)),
        (Annotated[int, MultipleOf(2)], CHECKED_ANY),
        (
            Annotated[float, Gt(0), Le(1)],
            ("union", (None, None, None, ("int", 1, 1), ("float", 0, True, 1, False), None, None)),
        ),
        (Literal["a", 1], ("union", (None, None, STRS_A, ("ints", (1,)), None, None, None))),
        (Literal["a"] | None, ("union", (None, None, STRS_A, None, None, None, NULL))),
        (DeviceStr, ("check", ("str", None, None))),
        (list[DeviceStr], ("list", ("check", ("str", None, None)), None, None)),
        (WIDE, None),  # more keys than the decoder's 64 bits of keys seen
    ],
)
def test_what_the_decoder_reads_of_a_type(tp: Any, spec: object) -> None:
    assert _spec_of(tp) == spec


def test_a_union_tagged_by_a_key_is_left_to_msgspec() -> None:
    """Its document is decoded into Structs, whose residual check counts on msgspec's."""
    typed = _json._typed(StreamEvent)
    assert typed is not None
    assert typed.convert is not None
    assert typed.program is None


def test_a_rule_made_of_simple_tests_is_made_in_c() -> None:
    """ChatMessage's rule holds at once for a text message: ``len(value) == 2 and "content" in
    value and value["role"] in _TEXT_ONLY_ROLES and type(value["content"]) is str``."""
    spec = _spec_of(ChatMessage)
    assert spec[0] == "fields"
    keys = [key for key, _, _ in spec[1]]
    role, content = keys.index("role"), keys.index("content")
    roles = frozenset({"system", "user", "assistant", "developer"})
    plain = (("len", 2), ("has", content), ("in", role, roles), ("type", content, str))
    assert spec[2] == ("and", plain)
    program = _native().typed_program(spec)
    plain = _native().typed_decode(program, b'{"role": "user", "content": "hi"}', 8)
    assert plain == {"role": "user", "content": "hi"}  # no residual check to make
    for text in [
        b'{"role": "tool", "content": "hi"}',
        b'{"role": "user", "content": "hi", "name": "n"}',
        b'{"role": "user", "content": [{"type": "text", "text": "hi"}]}',
        b'{"role": "user", "content": null}',
        b'{"role": "user"}',
    ]:
        read = _native().typed_decode(program, text, 8)
        assert type(read) is tuple, text  # the residual check must see it
        assert read == (json.loads(text),)
    tool_without_id = b'{"model": "m", "messages": [{"role": "tool", "content": "hi"}]}'
    with pytest.raises(ValidationError) as raised:
        validate_json(ChatCompletionRequest, tool_without_id)
    assert str(raised.value) == str(ValidationError(validate_issues(tool_without_id)))


def validate_issues(data: bytes) -> list[Any]:
    try:
        validate(ChatCompletionRequest, json.loads(data))
    except ValidationError as error:
        return error.issues
    raise AssertionError("valid")


def test_a_rule_the_tree_cannot_say_leaves_the_type_to_the_residual_check() -> None:
    """KVTransferMetadata's rules read keys with defaults (``value.get("shard_id", 0)``)."""
    spec = _spec_of(KVTransferMetadata)
    assert spec[0] == "check"
    assert spec[1][0] == "fields"
    assert spec[1][2] is None


TWO = (("a", ANY, False), ("b", ANY, False))


@pytest.mark.parametrize(
    ("rule", "text", "unchecked"),
    [
        (("cmp", 0, 0, 1), '{"a": 1, "b": 2}', False),  # 1 < 2
        (("cmp", 0, 0, 1), '{"a": 2, "b": 1}', True),
        (("not", ("cmp", 0, 0, 1)), '{"a": 2}', True),  # Python raises: KeyError
        (("not", ("cmp", 0, 0, 1)), '{"a": 2, "b": "x"}', True),  # Python raises: TypeError
        (("not", ("type", 0, str)), '{"b": 1}', True),  # KeyError
        (("not", ("in", 0, frozenset({1}))), '{"a": [1]}', True),  # unhashable
        (("not", ("in", 0, frozenset({1}))), '{"a": 2}', False),
        (("or", (("none", 0), ("truthy", 1))), '{"b": [0]}', False),
        (("or", (("none", 0), ("truthy", 1))), '{"a": 0, "b": []}', True),
        (("and", (("has", 0), ("len", 1))), '{"a": 0}', False),
        (("and", (("has", 0), ("len", 1))), '{"a": 0, "b": 0}', True),
    ],
)
def test_a_rule_holds_only_where_python_would_say_true(
    rule: Any, text: str, unchecked: bool
) -> None:
    read = _decode(("fields", TWO, rule), text)
    assert (type(read) is tuple) == unchecked, read


def test_a_request_with_both_inputs_is_checked() -> None:
    spec = _spec_of(Request)
    both = b'{"request_id": "r", "trace_id": "t", "model": "m", "prompt": "p", "max_tokens": 1, '
    both += b'"stream": false, "messages": [{"role": "user", "content": "hi"}]}'
    assert type(_decode(spec, both)) is tuple
    assert type(_decode(spec, both.replace(b'"prompt": "p"', b'"prompt": ""'))) is dict


@SETTINGS
@given(st.sampled_from(type_names()), st.data())
def test_what_is_left_unmarked_the_residual_check_passes(name: str, data: st.DataObject) -> None:
    """Where the decoder says no marked part was read, the residual check would have found
    nothing: on generated values and their single-fault mutations of every type."""
    tp = type_by_name(name)
    typed = _json._typed(tp)
    if typed is None or typed.program is None:
        return
    value = data.draw(from_type(tp, optional_keys=data.draw(st.sampled_from(["some", "all"]))))
    candidates = [value] + [mutation.value for mutation in mutations(tp, value)]
    for candidate in candidates:
        try:
            text = json.dumps(candidate, allow_nan=False).encode()
        except ValueError:
            continue
        read = _native().typed_decode(typed.program, text, _json.MAX_DEPTH)
        if read is NotImplemented or type(read) is tuple:
            continue
        assert typed.check is None or typed.check(read), text
        assert _same(validate(tp, json.loads(text)), read), text


@pytest.mark.parametrize(
    "spec",
    [
        (),
        ("nope",),
        ("int", "x", None),
        ("str", -1, None),
        ("union", ()),
        ("strs", (1,)),
        ("fields", tuple((f"k{i}", ANY, False) for i in range(65))),
    ],
)
def test_a_malformed_spec_is_refused(spec: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        _native().typed_program(spec)


def test_the_benchmarked_types_are_read_in_c() -> None:
    for name in [
        "StreamEventDelta",
        "Request",
        "Response",
        "ChatCompletionRequest",
        "kv.KVCacheMigrateResponse",
    ]:
        typed = _json._typed(type_by_name(name))
        assert typed is not None, name
        assert typed.program is not None, name


def test_nan_is_never_built() -> None:
    for text in ["NaN", "1e999", "-1e999"]:
        read = _decode(ANY, text)
        assert read is NotImplemented or not math.isnan(read)
