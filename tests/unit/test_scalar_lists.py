"""The optional C list checks (``validation/_scalar_lists.c``) and the pure-Python checks they
replace: both give the same answer on every list, and the compiler uses whichever is in force.

CI runs the whole suite once more with ``SAGELLM_PROTOCOL_PURE_PYTHON=1`` (under Python 3.10),
so every other test covers the pure-Python checks as well.
"""

import enum
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Ge
from hypothesis import given
from hypothesis import strategies as st

from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.validation._compile import (
    PURE_PYTHON_ENV,
    Generator,
    native_lists,
    pure_python_requested,
)

NATIVE_LISTS = native_lists()

needs_native = pytest.mark.skipif(
    NATIVE_LISTS is None, reason="SAGELLM_PROTOCOL_PURE_PYTHON is set: the C checks are off"
)


class Colour(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    LOW = 1


class Real(float):
    pass


SCALARS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.booleans(),
    st.floats(),
    st.text(max_size=3),
    st.sampled_from([None, Colour.RED, Level.LOW, Real(1.5), b"x", ("red",)]),
)
"""Items an exact-type check must tell apart: bools from ints, subclasses from their bases,
NaN and ±inf from finite floats, ints beyond float's range."""


def test_the_c_checks_are_built_unless_turned_off() -> None:
    """A silent build failure would leave every other test on the pure-Python checks only."""
    if pure_python_requested():
        assert NATIVE_LISTS is None
    else:
        assert NATIVE_LISTS is not None, (
            "sagellm_protocol.validation._scalar_lists is not built: reinstall with a C compiler"
            " (pip install -e .), or set SAGELLM_PROTOCOL_PURE_PYTHON=1 to test without it"
        )


@needs_native
@given(st.lists(SCALARS, max_size=8), st.sampled_from([int, float, str, bool, type(None)]))
def test_all_of_type_is_exact_type_identity(items: list[object], cls: type) -> None:
    assert NATIVE_LISTS is not None
    expected = all(type(item) is cls for item in items)
    assert NATIVE_LISTS.all_of_type(items, cls) is expected
    assert NATIVE_LISTS.all_of_type(tuple(items), cls) is expected
    assert NATIVE_LISTS.all_of_type(iter(items), cls) is expected
    hashable = [item for item in items if not isinstance(item, float) or not math.isnan(item)]
    keys = dict.fromkeys(hashable)
    assert NATIVE_LISTS.all_of_type(keys, cls) is all(type(key) is cls for key in keys)
    values = {str(i): item for i, item in enumerate(items)}.values()
    assert NATIVE_LISTS.all_of_type(values, cls) is expected


@needs_native
@given(st.lists(SCALARS, max_size=8))
def test_all_finite_numbers_takes_exact_ints_and_finite_exact_floats(items: list[object]) -> None:
    assert NATIVE_LISTS is not None
    expected = all(
        type(item) is int or (type(item) is float and math.isfinite(item))  # type: ignore[arg-type]
        for item in items
    )
    assert NATIVE_LISTS.all_finite_numbers(items) is expected
    assert NATIVE_LISTS.all_finite_numbers(iter(items)) is expected


@needs_native
def test_the_c_checks_reject_bad_arguments() -> None:
    assert NATIVE_LISTS is not None
    message = r"^all_of_type\(items, cls\) takes an iterable and a type$"
    with pytest.raises(TypeError, match=message):
        NATIVE_LISTS.all_of_type([1], 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^'int' object is not iterable$"):
        NATIVE_LISTS.all_finite_numbers(1)  # type: ignore[arg-type]

    def failing() -> Iterable[int]:
        yield 1
        raise RuntimeError("the iterator broke")

    with pytest.raises(RuntimeError, match=r"^the iterator broke$"):
        NATIVE_LISTS.all_of_type(failing(), int)


# The forms whose compiled checks use the C functions in native mode.
FORMS: list[tuple[object, Any]] = [
    (list[int], st.lists(SCALARS, max_size=6)),
    (list[float], st.lists(SCALARS, max_size=6)),
    (list[str], st.lists(SCALARS, max_size=6)),
    (tuple[int, ...], st.lists(SCALARS, max_size=6).map(tuple)),
    (list[Literal["red", "blue"]], st.lists(st.sampled_from(["red", "blue", "x", Colour.RED, 1]))),
    (list[Annotated[int, Ge(0)]], st.lists(SCALARS, max_size=6)),
    (dict[str, int], st.dictionaries(st.one_of(st.text(max_size=2), st.integers()), SCALARS)),
    (dict[str, float], st.dictionaries(st.text(max_size=2), SCALARS)),
]


def _checker(form: object, native: bool) -> Callable[[object], bool]:
    """A checker of ``form`` from a generator in the given mode, leaving the node's cache be."""
    generator = Generator(pure=not native)
    code = generator.expr(analyze(form), "x")
    lines = ["def _check(x):", "    try:", f"        return {code}", "    except Exception:"]
    check = generator.define("_check", [*lines, "        return False"], "test")
    return check  # type: ignore[return-value]


@needs_native
@pytest.mark.parametrize(("form", "values"), FORMS, ids=[str(form) for form, _ in FORMS])
def test_the_c_and_the_pure_python_checks_agree(form: object, values: Any) -> None:
    native, pure = _checker(form, native=True), _checker(form, native=False)

    @given(values)
    def agree(value: object) -> None:
        assert native(value) is pure(value)

    agree()


@needs_native
@pytest.mark.parametrize(
    ("form", "value", "c_function"),
    [
        (list[int], [1, 2], "_all_of_type"),
        (list[float], [1.0, 2], "_all_finite_numbers"),
        (dict[str, int], {"a": 1}, "_all_of_type"),
    ],
)
def test_each_mode_runs_its_own_list_checks(form: object, value: object, c_function: str) -> None:
    """The C mode's checker calls the C function; the pure mode's has none to call."""
    native, pure = _checker(form, native=True), _checker(form, native=False)
    calls: list[object] = []
    namespace = native.__globals__  # type: ignore[attr-defined]
    original = namespace[c_function]
    namespace[c_function] = lambda *args: calls.append(args) or original(*args)
    assert native(value)
    assert calls
    assert pure(value)
    assert not {"_all_of_type", "_all_finite_numbers"} & set(pure.__globals__)  # type: ignore[attr-defined]


def test_pure_python_mode_turns_the_c_checks_off() -> None:
    program = (
        "from sagellm_protocol import validate, ValidationError\n"
        "from sagellm_protocol.core import Response\n"
        "from sagellm_protocol._tree.analyse import analyze\n"
        "from sagellm_protocol.validation._compile import fast_checker, native_lists\n"
        "names = fast_checker(analyze(Response)).__globals__\n"
        "print(native_lists(), '_all_of_type' in names, '_count_of' in names)\n"
    )
    environment = {**os.environ, PURE_PYTHON_ENV: "1"}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=environment
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "None False True\n"
