"""Fuzz: arbitrary JSON-like and non-JSON objects fed to every protocol type.

Whatever comes in, validate() returns the very same object or raises ValidationError (nothing
else), is_valid()/checker() agree with collect_issues(), the precise pass that trusts no compiled
code finds the same issues, and the input is left unchanged.
"""

import copy
import math
from collections import OrderedDict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.testing.strategies import from_type
from sagellm_protocol.validation import (
    CODES,
    ValidationError,
    checker,
    collect_issues,
    is_valid,
    type_by_name,
    type_names,
    validate,
)
from sagellm_protocol.validation._compile import fast_checker
from sagellm_protocol.validation._precise import collect

NAMES = type_names()


class _Hostile:
    """Comparisons and truth testing raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        return object.__hash__(self)  # a dict key that never collides, so __eq__ isn't needed

    def __repr__(self) -> str:  # hypothesis shows failing examples; short_repr never calls it
        return "_Hostile()"

    def __bool__(self) -> bool:
        raise RuntimeError("bool")


class _Str(str):
    """A str subclass with hostile overrides."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __len__(self) -> int:
        raise RuntimeError("len")


class _Dict(dict[Any, Any]):
    def __getitem__(self, key: object) -> object:
        raise RuntimeError("getitem")

    def get(self, *args: object) -> object:
        raise RuntimeError("get")


class _List(list[Any]):
    def __iter__(self) -> Any:
        raise RuntimeError("iter")

    def __len__(self) -> int:
        raise RuntimeError("len")


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70).map(lambda n: n * 2**1100)
    | st.floats()
    | st.sampled_from([math.nan, math.inf, -math.inf, -0.0])
    | st.text(max_size=10)
    | st.sampled_from(["cuda:0", "CUDA:0", "start", "delta", "end", "fp16", "stop", "error"])
    | st.binary(max_size=4)
    | st.builds(object)
    | st.builds(_Hostile)
    | st.text(max_size=5).map(_Str)
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.text(max_size=12) | st.integers() | st.none()
    plain = st.dictionaries(keys, inner, max_size=5)
    # One hostile key per dict: with two, building the dict would call their raising __eq__.
    hostile_key = st.tuples(plain, inner).map(lambda parts: {**parts[0], _Hostile(): parts[1]})
    return (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | plain
        | plain.map(OrderedDict)
        | plain.map(_Dict)
        | hostile_key
        | st.lists(inner, max_size=3).map(_List)
        | st.frozensets(st.integers(), max_size=3)
    )


ANYTHING = st.recursive(_SCALARS, _containers, max_leaves=12)


def _near_valid(name: str) -> st.SearchStrategy[Any]:
    """A valid value with one key replaced by anything: deep, plausible-looking junk."""
    return st.tuples(from_type(type_by_name(name)), st.text(max_size=12), ANYTHING).map(
        lambda parts: {**parts[0], parts[1]: parts[2]} if isinstance(parts[0], dict) else parts[0]
    )


def _snapshot(value: object, depth: int = 0) -> object:
    """A structural fingerprint (types and ids, no comparisons) to detect mutation."""
    if depth > 50:
        return ...
    if isinstance(value, list):
        items: tuple[object, ...] = tuple(list.__iter__(value))
    elif isinstance(value, tuple):
        items = tuple(tuple.__iter__(value))
    elif isinstance(value, dict):
        items = tuple(item for pair in dict.items(value) for item in pair)
    else:
        return (type(value), id(value))
    return (type(value), id(value), tuple(_snapshot(item, depth + 1) for item in items))


def _check(name: str, value: object) -> None:
    tp = type_by_name(name)
    before = _snapshot(value)
    error: ValidationError | None = None
    try:
        result = validate(tp, value)
    except ValidationError as caught:
        error = caught
    if error is None:
        assert result is value
        assert collect_issues(tp, value) == []
    else:
        assert error.issues
        assert all(issue.code in CODES and issue.message for issue in error.issues)
        assert str(error)  # formatting never raises either
        assert collect_issues(tp, value) == error.issues
    assert is_valid(tp, value) is (error is None)
    assert checker(tp)(value) is (error is None)
    # The independent check: the precise pass running no compiled code agrees, and the compiled
    # checker never accepts what it rejects (it may decline a valid dict subclass, never more).
    node = analyze(tp)
    independent = collect(node, value, trust_compiled=False)
    assert independent == (error.issues if error is not None else [])
    assert not (fast_checker(node)(value) and independent)
    assert _snapshot(value) == before


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NAMES), ANYTHING)
def test_anything_against_every_type(name: str, value: object) -> None:
    _check(name, value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_near_valid_values_against_every_type(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    _check(name, data.draw(_near_valid(name)))


def test_a_copy_is_not_needed_to_keep_the_input() -> None:
    value = {"request_id": "r", "trace_id": "t", "max_tokens": 1, "metadata": {"k": [1]}}
    before = copy.deepcopy(value)
    assert validate(type_by_name("Request"), value) is value
    assert value == before
