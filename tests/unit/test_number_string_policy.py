"""One number and string policy for validate() and validate_json() (issue #22)."""

import json
from typing import Any

import pytest

from sagellm_protocol import collect_issues, is_valid, validate, validate_json
from sagellm_protocol._tree.rules import FLOAT_INT_LIMIT
from sagellm_protocol.core import Metrics
from sagellm_protocol.validation import Issue, ValidationError

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
