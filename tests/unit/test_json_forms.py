"""``validate_json`` over every form its typed path mirrors (or leaves to the checker): the
verdict and whole message of each text, and the value of each valid one. (Branch coverage of
``validation``, issue 18 item 7.)"""

import json
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Ge, Le, MaxLen, MinLen, MultipleOf
from typing_extensions import NotRequired, TypedDict

from sagellm_protocol._registry import register_invariant
from sagellm_protocol.constraints import DEVICE_FORMAT, UUID_FORMAT
from sagellm_protocol.validation import ValidationError, validate_json


class Even(TypedDict, closed=True):  # type: ignore[call-arg]
    x: int
    y: NotRequired[Annotated[int, MultipleOf(2)]]


class Ordered(TypedDict, closed=True):  # type: ignore[call-arg]
    low: int
    high: int


@register_invariant(Ordered)
def _ordered(value: Any) -> Any:
    if value["low"] > value["high"]:
        yield ("low",), "expected low <= high"


class Open(TypedDict):
    a: int


class Cat(TypedDict, closed=True):  # type: ignore[call-arg]
    kind: Literal["cat"]
    lives: Annotated[int, MultipleOf(1), Le(9)]


class Dog(TypedDict, closed=True):  # type: ignore[call-arg]
    kind: Literal["dog"]
    name: str


class Left(TypedDict, closed=True):  # type: ignore[call-arg]
    a: int


class Right(TypedDict, closed=True):  # type: ignore[call-arg]
    b: int


EvenInt = Annotated[int, MultipleOf(2)]
UUID = "123e4567-e89b-42d3-a456-426614174000"

CASES: list[tuple[object, str, str | None]] = [
    (Any, "[1, {}]", None),
    (None, "null", None),
    (None, "0", "expected None, got 0"),
    (bool, "true", None),
    (bool, "1", "expected a bool, got 1"),
    (
        Annotated[str, UUID_FORMAT, DEVICE_FORMAT],
        '"cuda:0"',
        "expected a str in uuid and device format, got 'cuda:0'",
    ),
    (Annotated[str, MinLen(1)], '""', "expected a str of length >= 1, got a str of length 0"),
    (tuple[int, ...], "[1, 2]", "expected a tuple[int, ...], got [1, 2]"),  # JSON has lists
    (tuple[int, ...], '[1, "2"]', "expected a tuple[int, ...], got [1, '2']"),
    (
        Annotated[list[int], MinLen(1)],
        "[]",
        "expected a list[int] of length >= 1, got a list of length 0",
    ),
    (Annotated[dict[str, int], MaxLen(1)], '{"a": 1}', None),
    (
        Annotated[dict[str, int], MaxLen(1)],
        '{"a": 1, "b": 2}',
        "expected a dict[str, int] of length <= 1, got an object of 2 keys",
    ),
    (Open, '{"a": 1, "b": [2]}', None),
    (Open, '{"a": "1"}', "a: expected an int, got '1'"),
    (Annotated[int, MultipleOf(3)], "9", None),
    (Annotated[int, MultipleOf(3)], "10", "expected an int that is a multiple of 3, got 10"),
    (Annotated[int, Ge(0), Ge(1)], "0", "expected an int >= 0 and >= 1, got 0"),
    (Annotated[int, Ge(0.5)], "0", "expected an int >= 0.5, got 0"),
    (Annotated[int, Ge(0.5)], "1", None),
    (float, "1", None),
    (
        float,
        "1e400",
        "invalid JSON: a number beyond the range of a double (it reads as inf)",
    ),
    (Annotated[float, Ge(0), Le(1)], "0.5", None),
    (Annotated[float, Ge(0), Le(1)], "2", "expected a finite number in [0, 1], got 2"),
    (Literal[True, 5], "true", None),
    (Literal[True, 5], "2", "expected one of True, 5, got 2"),
    (Literal["a", None], "null", None),
    (Literal["a", None], '"b"', "expected 'a' or None, got 'b'"),
    (Even, '{"x": 1, "y": 4}', None),
    (Even, '{"x": 1, "y": 3}', "y: expected an int that is a multiple of 2, got 3"),
    (Even, '{"x": 1, "z": 3}', "z: unknown key (Even is closed)"),
    (Ordered, '{"low": 1, "high": 2}', None),
    (Ordered, '{"low": 3, "high": 2}', "low: expected low <= high"),
    (Cat | Dog, '{"kind": "cat", "lives": 9}', None),
    (Cat | Dog, '{"kind": "dog", "name": "rex"}', None),
    (
        Cat | Dog,
        '{"kind": "cat", "lives": 10}',
        "lives: expected an int <= 9 that is a multiple of 1, got 10",
    ),
    (Cat | Dog | None, "null", None),
    (EvenInt | None, "null", None),
    (EvenInt | None, "4", None),
    (EvenInt | None, "3", "expected an int that is a multiple of 2, got 3"),
    (EvenInt | str, '"3"', None),
    (EvenInt | str, "3", "expected an int that is a multiple of 2, got 3"),
    (Left | Right, '{"b": 1}', None),
    (Left | Right, '{"c": 1}', "expected a Left object or a Right object, got {'c': 1}"),
    (list[EvenInt], "[2, 4]", None),
    (list[EvenInt], "[2, 5]", "[1]: expected an int that is a multiple of 2, got 5"),
    (dict[str, EvenInt], '{"a": 2}', None),
    (dict[str, EvenInt], '{"a": 1}', "a: expected an int that is a multiple of 2, got 1"),
    (dict[str, Annotated[str, UUID_FORMAT]], json.dumps({"id": UUID}), None),
]


def outcome(run: Any) -> str | None:
    try:
        run()
    except ValidationError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("tp", "text", "message"), CASES)
def test_the_text_gets_the_verdict_of_its_parsed_value(
    tp: Any, text: str, message: str | None
) -> None:
    assert outcome(lambda: validate_json(tp, text)) == message
    if message is None:
        assert validate_json(tp, text.encode()) == json.loads(text)
