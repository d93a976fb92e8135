"""Every type form the analyser takes, by verdict and whole message; the forms it refuses, by
their whole ``TypeError``. (Branch coverage of ``_tree`` and ``validation``, issue 18 item 7.)"""

import decimal
import enum
from typing import Annotated, Any, Literal, NewType

import pytest
from annotated_types import Ge, Le, MinLen
from typing_extensions import NotRequired, Required, TypeAliasType, TypedDict

from sagellm_protocol.validation import ValidationError, collect_issues, validate

NAMED_ONLY = "list[Named]"
"""An alias value that is only a name: the validator looks no names up."""


def refusal(tp: Any, value: object) -> str:
    """The whole message ``validate`` raises for ``value``."""
    with pytest.raises(ValidationError) as caught:
        validate(tp, value)
    return str(caught.value)


def unsupported(tp: Any) -> str:
    """The whole ``TypeError`` ``validate`` raises for the form ``tp``."""
    with pytest.raises(TypeError) as caught:
        validate(tp, None)
    return str(caught.value)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict):
    x: int


class Counted(TypedDict, extra_items=int):  # type: ignore[call-arg]
    """Any other key holds a count."""

    name: str


class MaybeNonNegative(TypedDict):
    n: Annotated[NotRequired[int], Ge(0)]


UserId = NewType("UserId", int)
NAMED_ONLY = "list[Named]"
"""An alias whose value is only a name: the validator does not look names up."""
IntList = TypeAliasType("IntList", list[int])


@pytest.mark.parametrize(
    ("tp", "value"),
    [
        (list, [1, "a", None]),
        (tuple, (1, "a")),
        (dict, {"a": [1]}),
        (IntList, [1, 2]),
        (UserId, 3),
        (NotRequired[int], 1),
        (Literal[Colour.RED], Colour.RED),
        (Literal[None, "a"], None),
        (Counted, {"name": "n", "apples": 2}),
        (MaybeNonNegative, {}),
        (Point | Annotated[Point, "the same class, documented"], {"x": 1}),
        (int | Any, object),
        (Annotated[int | str, MinLen(2)], 5),
        (Annotated[int | None, Ge(0)] | str, None),
    ],
)
def test_a_valid_value_of_each_form_is_returned_as_it_is(tp: object, value: object) -> None:
    assert validate(tp, value) is value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tp", "value", "message"),
    [
        (tuple, [1], "expected a tuple[Any, ...], got [1]"),
        (list, {}, "expected a list[Any], got {}"),
        (dict, [], "expected a dict[str, Any], got []"),
        (IntList, ["x"], "[0]: expected an int, got 'x'"),
        (UserId, "3", "expected an int, got '3'"),
        (Required[str], 1, "expected a str, got 1"),
        (Literal[Colour.RED], Colour.BLUE, "expected 'red', got <Colour object>"),
        (Literal[None, "a"], "b", "expected 'a' or None, got 'b'"),
        (Counted, {"name": "n", "apples": "many"}, "apples: expected an int, got 'many'"),
        (MaybeNonNegative, {"n": -1}, "n: expected an int >= 0, got -1"),
        (Point | Annotated[Point, "documented"], {"x": "1"}, "x: expected an int, got '1'"),
        (
            Annotated[int | str, MinLen(2)],
            "a",
            "expected a str of length >= 2, got a str of length 1",
        ),
        (Annotated[int | None, Ge(0)] | str, -1, "expected an int >= 0, got -1"),
    ],
)
def test_an_invalid_value_of_each_form_is_named_in_full(
    tp: object, value: object, message: str
) -> None:
    assert refusal(tp, value) == message


@pytest.mark.parametrize(
    ("tp", "message"),
    [
        (
            enum.Enum("Ratio", {"HALF": 0.5}),
            "validate() supports str and int enum values only, <enum 'Ratio'> has 0.5",
        ),
        (Literal[1.5], "validate() does not support the Literal value 1.5"),
        (
            Annotated[int | None, MinLen(1)],
            "the constraint MinLen(min_length=1) fits no member of "
            "typing.Annotated[int | None, MinLen(min_length=1)]",
        ),
        (
            Annotated[int, Ge(decimal.Decimal("0.1"))],
            "validate() supports int and float bounds only, got Decimal('0.1') in "
            "typing.Annotated[int, Ge(ge=Decimal('0.1'))]",
        ),
        (
            Annotated[float, Le(float("nan"))],
            "validate() supports int and float bounds only, got nan in "
            "typing.Annotated[float, Le(le=nan)]",
        ),
        (
            TypeAliasType("Named", NAMED_ONLY),
            "validate() takes a type, not the name 'list[Named]': use validate_by_name() for names",
        ),
    ],
)
def test_a_form_the_validator_cannot_check_is_refused_by_name(tp: object, message: str) -> None:
    assert unsupported(tp) == message


def test_a_constraint_on_a_union_binds_only_the_members_it_fits() -> None:
    tp = Annotated[int | str, MinLen(2)]
    assert collect_issues(tp, 1) == []
    assert [str(issue) for issue in collect_issues(tp, "")] == [
        "expected a str of length >= 2, got a str of length 0"
    ]


Many = enum.Enum("Many", {f"V{number}": f"v{number}" for number in range(15)})  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tp", "value", "message"),
    [
        (list[Point], 1, "expected a list[Point], got 1"),
        (list[int | str | None], 1, "expected a list[int | str | None], got 1"),
        (
            dict[str, Literal["a", 1, True, None]],
            1,
            "expected a dict[str, str | int | bool | None], got 1",
        ),
        (list[Any], 1, "expected a list[Any], got 1"),
        (list[None], 1, "expected a list[None], got 1"),
        (list[bool], 1, "expected a list[bool], got 1"),
        (list[str], 1, "expected a list[str], got 1"),
        (tuple[Literal["x"], ...], 1, "expected a tuple[str, ...], got 1"),
        (Literal["only"], "x", "expected 'only', got 'x'"),
        (
            Literal[tuple(range(20))],
            99,
            "expected one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (20 values), got 99",
        ),
        (
            Many,
            "w",
            "expected one of 'v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', … "
            "(15 values), got 'w'",
        ),
        (Annotated[int, Ge(0), Le(5)], 9, "expected an int in [0, 5], got 9"),
    ],
)
def test_the_expected_type_is_spelled_as_written(tp: object, value: object, message: str) -> None:
    assert refusal(tp, value) == message
