"""The optional C list checks (``validation/_scalar_lists.c``) and the pure-Python checks they
replace: both give the same answer on every list, and the compiler uses whichever is in force.

CI runs the whole suite once more with ``SAGELLM_PROTOCOL_PURE_PYTHON=1`` (under Python 3.13),
so every other test covers the pure-Python checks as well.
"""

import enum
import importlib.abc
import importlib.util
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Ge
from hypothesis import example, given
from hypothesis import strategies as st
from typing_extensions import NotRequired, TypedDict

from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.validation._compile import (
    PURE_PYTHON_ENV,
    Generator,
    fast_checker,
    native_lists,
    pure_python_requested,
)

NATIVE_LISTS = native_lists()

needs_native = pytest.mark.skipif(
    NATIVE_LISTS is None, reason="SAGELLM_PROTOCOL_PURE_PYTHON is set: the C checks are off"
)


class Colour(str, enum.Enum):  # noqa: UP042 -- the pre-3.11 idiom, still common
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


class Name(str):
    pass


class Shape(dict[str, object]):
    pass


class Point(TypedDict):
    x: int
    y: NotRequired[int]


KEYS = st.one_of(
    st.sampled_from(["x", "y", Name("x"), "é", "\ud800", "a\udfff"]),
    st.text(max_size=1),
    st.integers(),
    st.booleans(),
)
"""Keys a str-keyed-dict check must tell apart: exact strs from a str subclass equal to one,
Unicode text from a str with a lone surrogate."""
DICTS = st.one_of(
    st.dictionaries(KEYS, SCALARS, max_size=4),
    st.dictionaries(KEYS, SCALARS, max_size=4).map(Shape),
    st.lists(KEYS, max_size=2),
    SCALARS,
)


def _is_text(key: str) -> bool:
    """Whether ``key`` encodes as UTF-8: holds no lone surrogate."""
    try:
        key.encode()
    except UnicodeEncodeError:
        return False
    return True


LARGEST_FLOAT_INT = 2**1024 - 2**970 - 1
"""The largest int that ``float()`` converts without overflow (larger ones round to 2**1024)."""
HUGE_INT_LISTS = [
    [LARGEST_FLOAT_INT, -LARGEST_FLOAT_INT],
    [LARGEST_FLOAT_INT + 1],
    [-(2**1024)],
    [10**400, -(10**400)],  # their sum, 0, is finite: no sum may stand for the items
    [1.5, 10**400],
    [1e308, 1e308],  # finite items whose sum is not
]


def float_holds(item: object) -> bool:
    """An exact float that is finite, or an exact int ``float()`` converts without overflow."""
    if type(item) is float:
        return math.isfinite(item)
    if type(item) is not int:
        return False
    try:
        float(item)
    except OverflowError:
        return False
    return True


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


def _with_huge_int_examples(test: Callable[..., None]) -> Callable[..., None]:
    for items in HUGE_INT_LISTS:
        test = example(items)(test)
    return test


@needs_native
@example({"\ud800": 1})
@example({"é": 1})
@given(DICTS)
def test_is_str_keyed_dict_takes_exact_dicts_of_exact_str_keys_of_text(item: object) -> None:
    assert NATIVE_LISTS is not None
    expected = type(item) is dict and all(type(key) is str and _is_text(key) for key in item)
    assert NATIVE_LISTS.is_str_keyed_dict(item) is expected


@needs_native
@_with_huge_int_examples
@given(st.lists(SCALARS, max_size=8))
def test_all_finite_numbers_takes_what_a_float_holds(items: list[object]) -> None:
    assert NATIVE_LISTS is not None
    expected = all(map(float_holds, items))
    assert NATIVE_LISTS.all_finite_numbers(items) is expected
    assert NATIVE_LISTS.all_finite_numbers(tuple(items)) is expected
    assert NATIVE_LISTS.all_finite_numbers(iter(items)) is expected


def test_the_pure_float_list_check_takes_what_a_float_holds() -> None:
    """Pinned on the lists a sum misjudges, whatever the C module does (it may be off)."""
    check = _checker(list[float], native=False)
    for items in HUGE_INT_LISTS:
        assert check(items) is all(map(float_holds, items)), items


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
    (Point, DICTS),
    (list[Point], st.lists(DICTS, max_size=3)),
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
    for items in HUGE_INT_LISTS:
        assert native(items) is pure(items), items


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
    c_functions = {"_all_of_type", "_all_finite_numbers", "_is_str_keyed_dict"}
    assert not c_functions & set(pure.__globals__)  # type: ignore[attr-defined]


@needs_native
def test_a_typed_dict_is_told_by_one_c_call(monkeypatch: pytest.MonkeyPatch) -> None:
    check = fast_checker(analyze(Point))
    calls: list[object] = []
    original = check.__globals__["_is_str_keyed_dict"]  # type: ignore[attr-defined]
    spy = lambda item: calls.append(item) or original(item)  # noqa: E731
    monkeypatch.setitem(check.__globals__, "_is_str_keyed_dict", spy)  # type: ignore[attr-defined]
    value = {"x": 1}
    assert check(value)
    assert calls == [value]


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


class _FailingLoader(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the C module and fails to load it, as ``fail`` does."""

    def __init__(self, fail: Callable[[], None]) -> None:
        self.fail = fail

    def find_spec(self, name: str, path: object, target: object = None) -> Any:
        if name == "sagellm_protocol.validation._scalar_lists":
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: object) -> None:
        self.fail()


def _gil_warning() -> None:
    # What a free-threaded interpreter says of an extension that does not declare Py_mod_gil.
    warnings.warn("The global interpreter lock (GIL) has been enabled", RuntimeWarning, 2)


def _broken_build() -> None:
    raise OSError("undefined symbol: PyList_GetItemRef")


@pytest.mark.parametrize("fail", [_gil_warning, _broken_build], ids=["gil-warning", "broken"])
def test_a_c_module_that_fails_to_load_leaves_the_pure_checks(
    fail: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sagellm_protocol.validation as package

    name = "sagellm_protocol.validation._scalar_lists"
    monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.delattr(package, "_scalar_lists", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_FailingLoader(fail), *sys.meta_path])
    monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    native_lists.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # as this project's pytest settings and -W error do
            assert native_lists() is None
        assert Generator().native is False
    finally:
        native_lists.cache_clear()
