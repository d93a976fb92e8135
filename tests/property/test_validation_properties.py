"""Properties of validate() over every protocol type, with values generated from the types.

- Generated values always validate (and come back as the same object).
- Each of ``mutations()``' single faults (drop a required key, add an unknown key, break a range
  or a length, swap a type) fails with one issue, at the mutated path with the promised code; a
  broken invariant is reported at the paths its rule names.
- Differential: pydantic's ``TypeAdapter(T).validate_python(v, strict=True)`` agrees on the same
  generated and mutated values, except for these documented differences:
  * invariants: pydantic does not know our cross-field rules, so it accepts a value whose only
    fault is a broken invariant;
  * NaN and ±inf: pydantic's float accepts them (``allow_inf_nan`` defaults to true), we reject
    them (they are not JSON);
  * formats: pydantic ignores our ``StringFormat`` markers (device strings, UUIDs);
  * unknown keys on closed types: no difference with pydantic >= 2.11, which reads PEP 728
    ``closed=True`` and forbids them too (asserted below).
"""

import copy
import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from sagellm_protocol import with_defaults
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol._tree.nodes import Node, TypedDictNode
from sagellm_protocol.testing.strategies import from_type, mutations
from sagellm_protocol.validation import (
    ValidationError,
    collect_issues,
    is_valid,
    type_by_name,
    type_names,
    validate,
)
from sagellm_protocol.validation._compile import fast_checker
from sagellm_protocol.validation._precise import collect

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = type_names()


@functools.cache
def _strategy(name: str) -> st.SearchStrategy[Any]:
    return from_type(type_by_name(name))


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(type_by_name(name))


def _pydantic_accepts(name: str, value: object) -> bool:
    try:
        _adapter(name).validate_python(value, strict=True)
    except PydanticError:
        return False
    return True


@SETTINGS
@given(st.data())
def test_generated_values_are_valid(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    value = data.draw(_strategy(name))
    assert validate(type_by_name(name), value) is value
    assert _pydantic_accepts(name, value)


@SETTINGS
@given(st.data())
def test_each_mutation_is_reported_at_its_path_alone(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    tp = type_by_name(name)
    value = data.draw(_strategy(name))
    before = copy.deepcopy(value)
    candidates = mutations(tp, value)
    assert value == before
    if not candidates:
        return
    mutation = data.draw(st.sampled_from(candidates))
    event(f"{mutation.kind} mutation")
    with pytest.raises(ValidationError) as caught:
        validate(tp, mutation.value)
    assert [(issue.path, issue.code) for issue in caught.value.issues] == [
        (mutation.path, mutation.code)
    ]
    if mutation.kind in ("nan", "format"):  # documented differences: pydantic accepts these
        return
    assert not _pydantic_accepts(name, mutation.value), mutation


def _redrawn_fields(data: st.DataObject, name: str, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with a few fields taken from another generated value: each stays valid alone,
    together they may break a cross-field rule."""
    node = analyze(type_by_name(name))
    assert isinstance(node, TypedDictNode)
    other = data.draw(from_type(type_by_name(name), optional_keys="all"))
    fields = data.draw(st.lists(st.sampled_from(node.fields), min_size=1, max_size=3))
    return {**value, **{f.name: other[f.name] for f in fields if f.name in other}}


INVARIANT_TYPES = [name for name in NAMES if getattr(analyze(type_by_name(name)), "invariants", ())]


@SETTINGS
@given(st.data())
def test_broken_invariants_are_reported(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(INVARIANT_TYPES))
    tp = type_by_name(name)
    node = analyze(tp)
    assert isinstance(node, TypedDictNode)
    value = data.draw(_strategy(name))
    mutated = _redrawn_fields(data, name, value)
    issues = collect_issues(tp, mutated)
    if issues and all(issue.code == "invariant" for issue in issues):
        event(f"broke an invariant of {name}")
        expected = {
            (tuple(path), "invariant") for check in node.invariants for path, _ in check(mutated)
        }
        assert {(issue.path, issue.code) for issue in issues} == expected
        assert not is_valid(tp, mutated)
        assert _pydantic_accepts(name, mutated)  # documented difference: no invariants there


def test_pydantic_forbids_unknown_keys_on_closed_types_too() -> None:
    value = {"request_id": "r", "trace_id": "t", "max_tokens": 1, "zz": 1}
    assert not _pydantic_accepts("Request", value)
    assert not is_valid(type_by_name("Request"), value)


def _untrusting(node: Node, value: object) -> list[Any]:
    """The issues found by the precise pass when it runs no compiled code at all."""
    return collect(node, value, trust_compiled=False)


@SETTINGS
@given(st.data())
def test_compiled_checker_agrees_with_the_untrusting_pass(data: st.DataObject) -> None:
    """An independent check of the compiler: on generated values and each single-fault mutation,
    the compiled checker says valid exactly when the interpreted rules find no issue, and the
    precise pass reports the same issues whether it trusts the compiled code or not."""
    name = data.draw(st.sampled_from(NAMES))
    node = analyze(type_by_name(name))
    value = data.draw(_strategy(name))
    candidates = [value] + [mutation.value for mutation in mutations(type_by_name(name), value)]
    mutated = data.draw(st.sampled_from(candidates))
    independent = _untrusting(node, mutated)
    assert fast_checker(node)(mutated) is (not independent), independent
    assert collect(node, mutated) == independent


TYPED_DICT_NAMES = [
    name for name in NAMES if isinstance(analyze(type_by_name(name)), TypedDictNode)
]


@SETTINGS
@given(st.data())
def test_with_defaults_of_a_valid_value_is_valid(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(TYPED_DICT_NAMES))
    tp = type_by_name(name)
    value = data.draw(_strategy(name))
    before = copy.deepcopy(value)
    completed = with_defaults(tp, value)
    assert collect_issues(tp, completed) == []
    assert value == before
    assert set(completed) >= set(value)
