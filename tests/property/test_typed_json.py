"""validate_json()'s typed path (msgspec types mirrored from the tree) answers as the untyped one.

For every protocol type, on generated valid values, each of their single-fault mutations and
texts that sit on msgspec's edges (a key given twice, a tag left out, integers in float fields
and back, integers beyond 64 bits): the same acceptance, an equal value, the same issues. The
untyped path is ``validate(T, <the pure parse>)``, which the parser tests hold to msgspec's
untyped decode.
"""

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, TypedDict

from sagellm_protocol import Response, StreamEvent, ValidationError, validate_json
from sagellm_protocol._registry import InvariantViolation, register_invariant
from sagellm_protocol.constraints import DeviceStr
from sagellm_protocol.core import StreamEventDelta
from sagellm_protocol.kv import KVCacheMigrateResponse
from sagellm_protocol.openai import ChatCompletionRequest
from sagellm_protocol.testing.strategies import from_type, mutations
from sagellm_protocol.validation import _json, type_by_name, type_names, validate
from sagellm_protocol.validation._compile import native_lists

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(call: Any) -> tuple[str, object]:
    try:
        return "value", call()
    except ValidationError as error:
        return "issues", error.issues


def _same(a: object, b: object) -> bool:
    """Equal with the same types all the way down; key order aside (see ``_typed_json``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _assert_paths_agree(tp: Any, data: bytes) -> None:
    typed = _outcome(lambda: validate_json(tp, data))
    untyped = _outcome(lambda: validate(tp, _json._parse(data, _json.MAX_BYTES, _json._parse_pure)))
    assert typed[0] == untyped[0], (data, typed, untyped)
    if typed[0] == "value":
        assert _same(typed[1], untyped[1]), (data, typed, untyped)
    else:
        assert typed == untyped


@pytest.fixture(autouse=True)
def _msgspec_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import msgspec

    monkeypatch.setattr(_json, "_decode", msgspec.json.Decoder().decode)


def test_the_typed_path_serves_closed_and_open_types() -> None:
    for tp in (
        StreamEventDelta,
        StreamEvent,
        Response,
        KVCacheMigrateResponse,
        ChatCompletionRequest,
    ):
        typed = _json._typed(tp)
        assert typed is not None, tp
        assert typed.decoder is not None, tp


@SETTINGS
@given(st.sampled_from(type_names()), st.data())
def test_generated_values_and_their_mutations(name: str, data: st.DataObject) -> None:
    tp = type_by_name(name)
    value = data.draw(from_type(tp, optional_keys=data.draw(st.sampled_from(["some", "all"]))))
    _assert_paths_agree(tp, json.dumps(value).encode())
    for mutation in mutations(tp, value):
        try:
            text = json.dumps(mutation.value, allow_nan=False)
        except ValueError:  # NaN is no JSON: the parser tests cover its refusal
            continue
        _assert_paths_agree(tp, text.encode())


DELTA = {
    "event": "delta",
    "request_id": "r",
    "trace_id": "t",
    "engine_id": "e",
    "content": "x",
    "content_tokens": [1],
}


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}


def _text(value: dict[str, Any], **changes: str) -> bytes:
    """``value`` as JSON, with members replaced by raw JSON texts (keys may repeat)."""
    members = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in value.items() if k not in changes]
    members += [f"{json.dumps(k.rstrip('_'))}: {raw}" for k, raw in changes.items()]
    return ("{" + ", ".join(members) + "}").encode()


@pytest.mark.parametrize(
    ("tp", "data"),
    [
        (StreamEventDelta, _text(DELTA)),
        (StreamEventDelta, _text({k: v for k, v in DELTA.items() if k != "event"})),
        (StreamEvent, _text({k: v for k, v in DELTA.items() if k != "event"})),
        (StreamEvent, _text(DELTA, event='"deltas"')),
        (StreamEvent, _text(DELTA, content_tokens="[1.0]")),
        (StreamEvent, _text(DELTA, content_tokens="[true]")),
        (StreamEvent, _text(DELTA, content_tokens="[100000000000000000000000]")),
        (StreamEvent, _text(DELTA, content="1", content_="2")),  # a key given twice
        (StreamEvent, _text(DELTA, content="1", content_='"last"')),
        (StreamEvent, _text(DELTA, content='"first"', content_="2")),
        (StreamEvent, _text(DELTA, extra="1")),
        (StreamEvent, _text(DELTA, request_id="null")),
        (StreamEvent, b"[]"),
        (StreamEvent, b"\xef\xbb\xbf" + _text(DELTA)),
        # An open TypedDict is mirrored closed: msgspec refuses an undeclared key, json decides.
        (ChatCompletionRequest, _text(CHAT)),
        (ChatCompletionRequest, _text(CHAT, vendor_option='{"beam": [1, 2.5]}')),
        (ChatCompletionRequest, _text(CHAT, messages='[{"role": "user", "content": "x", "v": 1}]')),
    ],
)
def test_msgspec_edges(tp: Any, data: bytes) -> None:
    _assert_paths_agree(tp, data)


def test_numbers_keep_their_json_type() -> None:
    value = validate_json(Response, json.dumps(_response(ttft_ms=12, throughput_tps=80.0)))
    assert (type(value["metrics"]["ttft_ms"]), type(value["metrics"]["throughput_tps"])) == (
        int,
        float,
    )
    big = 10**30  # beyond 64 bits: exact, on the untyped path msgspec's typed decode hands over
    value = validate_json(Response, json.dumps(_response(ttft_ms=big)))
    assert value["metrics"]["ttft_ms"] == big


def _response(**metrics: object) -> dict[str, Any]:
    return {
        "request_id": "r",
        "trace_id": "t",
        "output_text": "",
        "output_tokens": [],
        "finish_reason": "stop",
        "metrics": {"ttft_ms": 1.0, "throughput_tps": 1.0, "peak_mem_mb": 1, "error_rate": 0.0}
        | metrics,
    }


BROKEN_INVARIANTS = [
    (Response, _response() | {"error": {"code": "unavailable", "message": "late"}}),
    (
        Response,
        _response(
            timestamps={
                "queued_at": 10.0,
                "scheduled_at": 9.0,
                "executed_at": 11.0,
                "completed_at": 12.0,
            }
        ),
    ),
]


@pytest.mark.parametrize(("tp", "value"), BROKEN_INVARIANTS)
def test_invariants_hold_on_the_typed_path(tp: Any, value: dict[str, Any]) -> None:
    data = json.dumps(value).encode()
    assert _outcome(lambda: validate_json(tp, data))[0] == "issues"
    _assert_paths_agree(tp, data)


@SETTINGS
@given(from_type(KVCacheMigrateResponse, optional_keys="all"))
def test_an_invariant_inside_a_list_holds_on_the_typed_path(value: dict[str, Any]) -> None:
    assume(value["transfer_metadata"])
    first = value["transfer_metadata"][0]
    first["layer_start"] = first["layer_end"] + 1
    data = json.dumps(value).encode()
    assert _outcome(lambda: validate_json(KVCacheMigrateResponse, data))[0] == "issues"
    _assert_paths_agree(KVCacheMigrateResponse, data)


EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/*.json")), ids=lambda path: path.name)
def test_the_bundled_payloads(path: Path) -> None:
    name = path.name.removesuffix(".json")
    while name not in type_names():  # Request.chat.json is a Request
        name = name.rpartition(".")[0]
    tp, data = type_by_name(name), path.read_bytes()
    _assert_paths_agree(tp, data)
    typed, native = _json._typed(tp), native_lists()
    valid = path.parent.name != "invalid"
    if valid and native is not None and typed is not None and typed.program is not None:
        # The C typed decoder reads a valid payload itself, not refusing it to the untyped path.
        read = native.typed_decode(typed.program, data, _json.MAX_DEPTH)
        assert read is not NotImplemented


def _struct_types() -> list[str]:
    """The types whose typed decoding builds Structs, then dicts: unions tagged by a key."""
    return [
        name
        for name in type_names()
        if (typed := _json._typed(type_by_name(name))) is not None and typed.convert is not None
    ]


@SETTINGS
@given(st.data())
def test_structs_become_what_to_builtins_makes(data: st.DataObject) -> None:
    import msgspec

    tp = type_by_name(data.draw(st.sampled_from(_struct_types())))
    typed = _json._typed(tp)
    assert typed is not None
    assert typed.decoder is not None
    assert typed.convert is not None
    value = data.draw(from_type(tp, optional_keys=data.draw(st.sampled_from(["some", "all"]))))
    try:
        built = typed.decoder(json.dumps(value).encode())
    except msgspec.ValidationError:  # an int beyond 64 bits, say: the untyped path decides
        return
    by_display, by_msgspec = typed.convert(built), msgspec.to_builtins(built)
    assert _same(by_display, by_msgspec)
    assert list(by_display) == list(by_msgspec)  # the same key order too


def test_only_a_tagged_union_is_built_as_structs() -> None:
    from sagellm_protocol.kv import KVTransferMetadata

    for tp in (Response, KVTransferMetadata, ChatCompletionRequest, StreamEventDelta):
        typed = _json._typed(tp)
        assert typed is not None
        assert typed.convert is None, tp  # msgspec builds the dicts: nothing to convert
    tagged = _json._typed(StreamEvent)
    assert tagged is not None
    assert tagged.convert is not None
    assert "StreamEvent" in _struct_types()


# Residual checks written inline: nested TypedDicts, lists and dicts of them, tagged unions,
# ``T | None``, formats; past the inlining depth (four TypedDicts), a call. The typed path
# accepts only what the untyped path accepts, and leaves every refusal to it.


class _Span(TypedDict):
    start: int
    end: int
    device: NotRequired[DeviceStr | None]


@register_invariant(_Span)
def _span_ordered(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    if value["start"] > value["end"]:
        yield ("end",), "expected end >= start"


class _Cut(TypedDict):
    kind: Literal["cut"]
    span: _Span


class _Mark(TypedDict):
    kind: Literal["mark"]
    at: DeviceStr


class _Level3(TypedDict):
    spans: list[_Span]
    by_name: NotRequired[dict[str, _Span]]
    edit: NotRequired[_Cut | _Mark | None]  # a union tagged by "kind"
    note: NotRequired[str | list[_Span] | None]  # a union told by the type of its value


class _Level2(TypedDict):
    inner: _Level3


class _Level1(TypedDict):
    inner: _Level2


class _Level0(TypedDict):
    inner: _Level1
    span: NotRequired[_Span | None]


def _nested(level3: dict[str, Any], span: Any = None) -> dict[str, Any]:
    return {"inner": {"inner": {"inner": level3}}, "span": span}


GOOD_SPAN = {"start": 1, "end": 2, "device": "cuda:0"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (_nested({"spans": [GOOD_SPAN]}, GOOD_SPAN), None),
        (
            _nested({"spans": [GOOD_SPAN, {"start": 3, "end": 2}]}),
            "inner.inner.inner.spans[1].end: expected end >= start",
        ),
        (
            _nested({"spans": [], "by_name": {"a": {"start": 3, "end": 2}}}),
            "inner.inner.inner.by_name.a.end: expected end >= start",
        ),
        (
            _nested({"spans": [{"start": 1, "end": 2, "device": "cuda:x"}]}),
            "inner.inner.inner.spans[0].device: expected a device string "
            "('type' or 'type:index', lower-case type, index >= 0), got 'cuda:x'",
        ),
        (_nested({"spans": [], "edit": {"kind": "cut", "span": GOOD_SPAN}}), None),
        (_nested({"spans": [], "edit": None}), None),
        (
            _nested({"spans": [], "edit": {"kind": "cut", "span": {"start": 2, "end": 1}}}),
            "inner.inner.inner.edit.span.end: expected end >= start",
        ),
        (
            _nested({"spans": [], "edit": {"kind": "mark", "at": "cuda-0"}}),
            "inner.inner.inner.edit.at: expected a device string "
            "('type' or 'type:index', lower-case type, index >= 0), got 'cuda-0'",
        ),
        (_nested({"spans": []}, {"start": 5, "end": 4}), "span.end: expected end >= start"),
        (_nested({"spans": [], "note": "text"}), None),
        (_nested({"spans": [], "note": [GOOD_SPAN]}), None),
        (
            _nested({"spans": [], "note": [GOOD_SPAN, {"start": 2, "end": 1}]}),
            "inner.inner.inner.note[1].end: expected end >= start",
        ),
    ],
)
def test_residual_checks_at_every_depth(value: dict[str, Any], message: str | None) -> None:
    data = json.dumps(value).encode()
    typed = _json._typed(_Level0)
    assert typed is not None
    check, decode, same_keys = typed.check, typed.decoder, typed.same_keys
    assert check is not None
    assert decode is not None
    assert same_keys is not None
    _assert_paths_agree(_Level0, data)
    if message is None:
        assert validate_json(_Level0, data) == value
        decoded = decode(data)  # served by the typed path:
        assert same_keys(data, decoded, typed.shape)
        assert check(decoded)
    else:
        with pytest.raises(ValidationError) as caught:
            validate_json(_Level0, data)
        assert [str(issue) for issue in caught.value.issues] == [message]
