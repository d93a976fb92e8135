"""Differential: jsonschema's Draft202012Validator on ``json_schema(T)`` against ``validate()``.

On generated valid values and their single-fault mutations (the mutations of
``test_validation_properties``), for every type, the two agree except for these documented
differences, each pinned by a test below:

- invariants: JSON Schema cannot express our cross-field rules (they are listed, with their
  docstrings, under ``x-invariants``), so it accepts a value whose only fault is a broken rule;
- NaN and ±inf are not JSON; ``jsonschema`` accepts them for an unbounded number, and NaN even
  with bounds (every comparison with NaN is false); we reject both;
- ``1.0`` is an ``"integer"`` to JSON Schema (a number with no fractional part), not an ``int``
  to us: a JSON value that came in as ``1.0`` is a float after parsing;
- Python's ``re`` lets ``$`` match before a final newline, so ``jsonschema`` accepts
  ``"cuda:0\\n"`` for our anchored device pattern; ECMA-262 validators, and we, do not.
"""

import functools
import math
from typing import Any, Literal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from test_validation_properties import (
    INVARIANT_TYPES,
    NAMES,
    SETTINGS,
    _redrawn_fields,
    _strategy,
)

from sagellm_protocol import json_schema
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol._tree.nodes import TypedDictNode
from sagellm_protocol.constraints import DeviceStr
from sagellm_protocol.testing.strategies import mutations
from sagellm_protocol.validation import collect_issues, is_valid, type_by_name


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json_schema(type_by_name(name)))


@pytest.mark.parametrize("name", NAMES)
@settings(SETTINGS, max_examples=3)
@given(data=st.data())
def test_jsonschema_agrees_on_valid_values_and_single_faults(
    name: str, data: st.DataObject
) -> None:
    """Every type, each run: three generated values, one single fault each."""
    tp = type_by_name(name)
    value = data.draw(_strategy(name))
    assert _validator(name).is_valid(value)
    candidates = mutations(tp, value)
    if not candidates:
        return
    mutation = data.draw(st.sampled_from(candidates))
    assert not is_valid(tp, mutation.value)
    if mutation.kind == "nan":  # documented difference: NaN is not JSON
        return
    event(f"{mutation.kind} mutation")
    errors = list(_validator(name).iter_errors(mutation.value))
    assert errors, mutation


@SETTINGS
@given(st.data())
def test_jsonschema_accepts_values_whose_only_fault_is_an_invariant(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(INVARIANT_TYPES))
    node = analyze(type_by_name(name))
    assert isinstance(node, TypedDictNode)
    mutated = _redrawn_fields(data, name, data.draw(_strategy(name)))
    issues = collect_issues(type_by_name(name), mutated)
    assert all(issue.code == "invariant" for issue in issues)
    if issues:
        event(f"broke an invariant of {name}")
    assert _validator(name).is_valid(mutated)


def test_documented_differences() -> None:
    def both(tp: Any, value: object) -> tuple[bool, bool]:
        return is_valid(tp, value), Draft202012Validator(json_schema(tp)).is_valid(value)

    assert both(float, math.nan) == (False, True)
    assert both(int, 1.0) == (False, True)
    assert both(DeviceStr, "cuda:0\n") == (False, True)
    # And where the two are alike: bool is no number to either, nor 1 a True.
    assert both(int, True) == (False, False)
    assert both(Literal[1], True) == (False, False)
    assert both(float, math.inf) == (False, True)
