"""prepare(): the checkers a server needs, compiled at start-up, so that no request compiles."""

from collections.abc import Callable

import pytest
from typing_extensions import NotRequired, TypedDict

import sagellm_protocol
from sagellm_protocol.validation import (
    _json,
    collect_issues,
    is_valid,
    prepare,
    type_by_name,
    type_names,
    validate,
    validate_json,
)
from sagellm_protocol.validation._compile import Generator


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The nodes whose checkers are compiled while the test runs."""
    compiled: list[object] = []
    original = Generator.compile

    def counted(self: Generator, node: object) -> tuple[Callable[[object], bool], str]:
        compiled.append(node)
        return original(self, node)  # type: ignore[arg-type]

    monkeypatch.setattr(Generator, "compile", counted)
    return compiled


def _fresh_type() -> type:
    """A TypedDict no other test has compiled: made anew at each call."""

    class Inner(TypedDict):
        size: int

    class Order(TypedDict):
        id: str
        inner: Inner
        items: NotRequired[list[Inner]]

    return Order


def test_after_prepare_the_first_validate_compiles_nothing(compiles: list[object]) -> None:
    order = _fresh_type()
    assert prepare(order) == 1
    assert compiles
    compiles.clear()
    value = {"id": "a", "inner": {"size": 1}, "items": [{"size": 2}]}
    assert validate(order, value) is value
    assert is_valid(order, value)
    assert collect_issues(order, value) == []
    assert compiles == []


def test_after_prepare_the_first_validate_json_builds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The typed decoding of validate_json() is made by prepare() too (with msgspec)."""
    pytest.importorskip("msgspec")
    order = _fresh_type()
    prepare(order)

    def built_again(tp: object) -> None:
        raise AssertionError(f"the typed decoding of {tp} was built by a request")

    monkeypatch.setattr(_json, "_typed_decoding", built_again)
    data = b'{"id": "a", "inner": {"size": 1}, "items": [{"size": 2}]}'
    assert validate_json(order, data) == {"id": "a", "inner": {"size": 1}, "items": [{"size": 2}]}


def test_a_prepared_form_is_not_compiled_again(compiles: list[object]) -> None:
    order = _fresh_type()
    assert prepare(order, order) == 1
    compiles.clear()
    assert prepare(order) == 0
    assert compiles == []


def test_without_forms_every_protocol_type_is_prepared(compiles: list[object]) -> None:
    prepare()
    compiles.clear()
    assert prepare() == 0
    for name in type_names():
        is_valid(type_by_name(name), {})
    assert compiles == []


def test_an_unsupported_form_is_named_and_the_forms_before_it_stay_prepared(
    compiles: list[object],
) -> None:
    order = _fresh_type()
    with pytest.raises(
        TypeError, match=r"^validate\(\) does not support the type form set\[int\]$"
    ):
        prepare(order, set[int], int)
    compiles.clear()
    assert is_valid(order, {"id": "a", "inner": {"size": 1}})
    assert compiles == []


def test_prepare_is_at_the_package_root() -> None:
    assert sagellm_protocol.prepare is prepare
