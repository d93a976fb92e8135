"""One number and string policy for validate() and validate_json() (issue #22)."""

import json
from typing import Any

import pytest

from sagellm_protocol import collect_issues, is_valid, validate, validate_json
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol._tree.rules import FLOAT_INT_LIMIT
from sagellm_protocol.core import Metrics, Request
from sagellm_protocol.responses import ResponsesInputText
from sagellm_protocol.sampling import SamplingParams
from sagellm_protocol.validation import Issue, ValidationError
from sagellm_protocol.validation._compile import fast_checker
from sagellm_protocol.validation._precise import collect

METRICS: dict[str, Any] = {
    "ttft_ms": 1.5,
    "throughput_tps": 2.0,
    "peak_mem_mb": 3,
    "error_rate": 0.0,
}


def _as_json(number: int) -> str:
    return json.dumps(METRICS).replace("1.5", str(number))


@pytest.mark.parametrize("number", [FLOAT_INT_LIMIT, 10**400])
def test_an_int_no_double_holds_is_an_issue_in_a_float_field(number: int) -> None:
    message = f"expected a finite number >= 0, got <int of {number.bit_length()} bits>"
    expected = [Issue(("ttft_ms",), "range", message)]
    assert collect_issues(Metrics, {**METRICS, "ttft_ms": number}) == expected
    assert not is_valid(Metrics, {**METRICS, "ttft_ms": number})
    with pytest.raises(ValidationError) as caught:
        validate_json(Metrics, _as_json(number))
    assert caught.value.issues == expected
    with pytest.raises(ValidationError):
        validate_json(Metrics, _as_json(number).encode())
    with pytest.raises(ValidationError):
        validate(list[float], [1.0, -number])


@pytest.mark.parametrize("number", [FLOAT_INT_LIMIT - 1, 2**64, 7])
def test_an_int_a_double_holds_passes_in_a_float_field(number: int) -> None:
    float(number)  # a double holds it
    assert validate(Metrics, {**METRICS, "ttft_ms": number})["ttft_ms"] == number
    assert validate_json(Metrics, _as_json(number))["ttft_ms"] == number
    assert validate_json(Metrics, _as_json(number).encode())["ttft_ms"] == number


REQUEST: dict[str, Any] = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 4}
SAMPLING: dict[str, Any] = {}
LONE = "caf\u00e9 \ud800"
SURROGATE_ISSUE = "got a str with a lone surrogate (no Unicode)"


def test_validate_refuses_lone_surrogates_as_validate_json_does() -> None:
    value = {**REQUEST, "request_id": LONE}
    assert collect_issues(Request, value) == [
        Issue(("request_id",), "type", f"expected a str, {SURROGATE_ISSUE}")
    ]
    listed = {**SAMPLING, "stop_sequences": ["ok", LONE]}
    assert [issue.path for issue in collect_issues(SamplingParams, listed)] == [
        ("stop_sequences", 1)
    ]
    text = json.dumps(value).replace("\\u00e9", "\u00e9")
    with pytest.raises(ValidationError):
        validate_json(Request, text)


def test_paired_surrogates_and_any_other_text_pass() -> None:
    for text in (
        "caf\u00e9",
        "\U0001f600",
        "\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16"),
    ):
        assert validate(Request, {**REQUEST, "request_id": text})["request_id"] == text
        assert is_valid(SamplingParams, {**SAMPLING, "stop_sequences": [text, "x"]})


_KEYED: list[tuple[Any, Any, tuple[object, ...]]] = [
    (dict[str, int], {"ok": 1, LONE: 2}, ()),
    (list[dict[str, int]], [{}, {LONE: 2}], (1,)),
    (Request, {**REQUEST, "metadata": {LONE: 1}}, ("metadata",)),  # dict[str, Any]
    (ResponsesInputText, {"type": "input_text", "text": "x", LONE: 1}, ()),  # an open type's key
    (Metrics, {**METRICS, LONE: 1}, ()),  # a closed type's key
]


@pytest.mark.parametrize(("tp", "value", "path"), _KEYED)
def test_a_key_with_a_lone_surrogate_is_an_issue_on_both_paths(
    tp: Any, value: Any, path: tuple[object, ...]
) -> None:
    message = f"expected str keys, got the key {LONE!r} with a lone surrogate (no Unicode)"
    assert collect_issues(tp, value) == [Issue(path, "type", message)]
    assert collect(analyze(tp), value, trust_compiled=False) == [Issue(path, "type", message)]
    assert fast_checker(analyze(tp))(value) is False
    assert is_valid(tp, value) is False
    with pytest.raises(ValidationError):
        validate(tp, value)
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):  # escaped, raw
        with pytest.raises(ValidationError) as caught:
            validate_json(tp, text)
        assert [issue.code for issue in caught.value.issues] == ["json"]


def test_keys_of_paired_surrogates_and_any_other_text_pass() -> None:
    paired = "\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16")
    for key in ("caf\u00e9", "\U0001f600", paired):
        assert is_valid(dict[str, int], {key: 1})
        assert is_valid(Request, {**REQUEST, "metadata": {key: 1}})
        assert is_valid(ResponsesInputText, {"type": "input_text", "text": "x", key: 1})
        assert validate_json(dict[str, int], json.dumps({key: 1})) == {key: 1}
