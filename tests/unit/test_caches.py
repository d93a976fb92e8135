"""Caches die with their types and answer the same whatever came before: no leak, no tuple taken
for a union, no recompiling an unhashable form, no type name trusted as an identifier."""

import gc
import subprocess
import sys
import weakref
from typing import Annotated, Any, Union

import pytest
from annotated_types import Ge
from typing_extensions import TypedDict

from sagellm_protocol import json_schema
from sagellm_protocol._tree.cache import FormCache
from sagellm_protocol.validation import (
    ValidationError,
    checker,
    collect_issues,
    is_valid,
    validate,
    validate_json,
)
from sagellm_protocol.validation._api import _FAST, _fast


def _typed_dict(name: str, fields: dict[str, Any]) -> Any:
    """A TypedDict made at run time, as a program building types from data would."""
    return TypedDict(name, fields)  # type: ignore[misc]


_MEASURE_RETAINED = """
import gc, tracemalloc
from typing import Annotated
from annotated_types import Ge
from typing_extensions import NotRequired, TypedDict
from sagellm_protocol.validation import collect_issues, validate

def validate_a_fresh_type(index):
    inner = TypedDict(f"Inner{index}", {"v": Annotated[int, Ge(0)], "w": NotRequired[list[str]]})
    outer = TypedDict(f"Outer{index}", {"a": int, "items": list[inner], "one": inner | None})
    value = {"a": 1, "items": [{"v": 1}], "one": {"v": 2, "w": ["x"]}}
    assert validate(outer, value) is value
    assert collect_issues(outer, {"a": "x", "items": [], "one": {"v": -1}})

validate_a_fresh_type(-1)  # the package's one-time state: imports, first compiles
gc.collect()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
for index in range(2000):
    validate_a_fresh_type(index)
# Twice: a compiled checker (in a cycle with its namespace) becomes garbage only when the
# weakref callbacks of one collection drop it from its cache; the next collection frees it.
gc.collect()
gc.collect()
print(tracemalloc.get_traced_memory()[0] - before)
"""


def test_two_thousand_dropped_types_retain_less_than_a_megabyte() -> None:
    # In a process of its own: no other test's types, and no typeguard instrumentation.
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE_RETAINED], capture_output=True, text=True, check=True
    )
    retained = int(measured.stdout)
    assert retained < 1 << 20, f"{retained / (1 << 20):.2f} MiB retained"


def test_a_dropped_type_is_collected_by_every_consumer() -> None:
    inner = _typed_dict("Inner", {"v": Annotated[int, Ge(0)]})
    outer = _typed_dict("Outer", {"a": int, "items": list[inner], "one": inner | None})
    value = {"a": 1, "items": [{"v": 1}], "one": None}
    assert validate(outer, value) is value
    assert collect_issues(outer, {"a": "x", "items": [{"v": -1}], "one": {}})
    assert checker(outer)(value)
    assert is_valid(list[outer], [value])
    assert validate(inner | outer, value) is value  # a union: kept on its first member
    # (Not typing.Union[inner, None]: typing itself keeps its last 128 such forms alive.)
    assert validate(inner | None, None) is None
    assert validate_json(outer, b'{"a": 1, "items": [], "one": {"v": 0}}')
    assert json_schema(outer)["title"] == "Outer"
    gone = [weakref.ref(inner), weakref.ref(outer)]
    del inner, outer
    gc.collect()
    gc.collect()  # as above
    assert [ref() for ref in gone] == [None, None]


@pytest.mark.parametrize("before", [int | str, Union[int, str], None])  # noqa: UP007
def test_a_tuple_is_never_taken_for_a_union(before: Any) -> None:
    if before is not None:
        assert validate(before, 5) == 5
    with pytest.raises(TypeError, match=r"does not support the type form \(<class 'int'>"):
        validate((int, str), 5)
    with pytest.raises(TypeError):
        is_valid((int, str), 5)
    assert validate(int | str, "x") == "x"


def test_an_equal_unhashable_form_built_anew_is_compiled_once() -> None:
    def form() -> object:
        return Annotated[int, {"unit": "tokens"}, Ge(1)]

    first = form()
    assert _fast(first) is _fast(form()) is _fast(form())
    assert validate(form(), 3) == 3
    with pytest.raises(ValidationError, match="expected an int >= 1, got 0"):
        validate(form(), 0)


def test_the_unhashable_forms_kept_are_bounded() -> None:
    cache: FormCache[int] = FormCache("test_bounded")
    forms = [Annotated[int, {"n": n}] for n in range(100)]
    for n, form in enumerate(forms):
        assert cache.get(form, lambda _, n=n: n) == n  # type: ignore[misc]
    assert len(cache._unhashable) == 64
    assert cache.get(Annotated[int, {"n": 99}], lambda _: -1) == 99  # the latest are kept
    assert cache.get(Annotated[int, {"n": 0}], lambda _: -1) == -1  # the oldest were let go


def test_an_unhashable_form_and_its_hashable_twin_agree() -> None:
    for value in (0, 1, -1, True, 2.0, "1"):
        assert is_valid(Annotated[int, {"x": 1}, Ge(0)], value) == is_valid(
            Annotated[int, "x", Ge(0)], value
        )


@pytest.mark.parametrize("name", ["my-inner", "class", "1st", "a b", "_td1", "é"])
def test_a_type_named_anything_validates_nested(name: str) -> None:
    inner = _typed_dict(name, {"v": int})
    outer = _typed_dict("Outer", {"inner": inner, "many": list[inner] | None})
    assert validate(outer, {"inner": {"v": 1}, "many": [{"v": 2}]})
    assert collect_issues(outer, {"inner": {"v": "x"}, "many": [{}]}) == [
        (("inner", "v"), "type", "expected an int, got 'x'"),
        (("many", 0, "v"), "missing", "required key is missing"),
    ]
    with pytest.raises(ValidationError, match=f"expected an? {name} object"):
        validate(outer, {"inner": 1, "many": None})


def test_forms_without_a_class_of_their_own_are_kept_beside_the_cache() -> None:
    """``list[int]`` mentions no class that can die: a plain dict keeps it."""
    assert validate(list[int], [1]) == [1]
    assert _FAST.peek(list[int]) is _fast(list[int])
