"""The precise pass over what the compiled checker refuses: rules over partly invalid values,
rules that break, shared and recursive values, dicts a union of objects and maps could be.
(Branch coverage of ``validation``, issue 18 item 7.)"""

from typing import Any

from typing_extensions import NotRequired, TypedDict

from sagellm_protocol._registry import register_invariant
from sagellm_protocol.validation import Issue, collect_issues


class Span(TypedDict):
    low: int
    high: int
    label: NotRequired[str]


SPAN_VIEWS: list[tuple[int, list[str]]] = []
"""What the first rule of Span saw of each value it ran on: its size and its keys."""


@register_invariant(Span)
def _counted(value: Any) -> Any:
    SPAN_VIEWS.append((len(value), sorted(value)))
    if value["low"] > value["high"]:
        yield ("low",), "expected low <= high"


@register_invariant(Span)
def _labelled(value: Any) -> Any:
    if "label" in value and not value["label"]:
        yield ("label",), "expected a label that is not empty"


class Broken(TypedDict):
    n: int


@register_invariant(Broken)
def _divides(value: Any) -> Any:
    yield (), str(1 // value["n"])


class Ratio(TypedDict):
    part: float
    whole: float
    note: NotRequired[int]


class Loud(float):
    """A float subclass whose comparisons lie: a rule must see the float it holds."""

    def __gt__(self, other: object) -> bool:
        return False


@register_invariant(Ratio)
def _part_of_whole(value: Any) -> Any:
    if value["part"] > value["whole"]:
        yield ("part",), "expected part <= whole"


class Point(TypedDict):
    x: int


class Tree(TypedDict):
    kids: "list[Tree]"
    name: str


def test_a_rule_sees_only_the_valid_keys_and_is_skipped_when_it_reads_an_invalid_one() -> None:
    SPAN_VIEWS.clear()
    assert collect_issues(Span, {"low": 1, "high": 0, "label": 5}) == [
        Issue(("label",), "type", "expected a str, got 5"),
        Issue(("low",), "invariant", "expected low <= high"),
    ]
    # The first rule ran over the two valid keys; the second read the invalid label: skipped.
    assert SPAN_VIEWS == [(2, ["high", "low"])]
    assert collect_issues(Span, {"low": 2, "high": "x", "label": ""}) == [
        Issue(("high",), "type", "expected an int, got 'x'"),
        Issue(("label",), "invariant", "expected a label that is not empty"),
    ]


def test_a_rule_that_raises_is_an_issue_beside_the_others() -> None:
    assert collect_issues(Broken, {"n": 0}) == [
        Issue((), "invariant", "_divides failed: ZeroDivisionError")
    ]
    assert collect_issues(Broken, {"n": 2}) == [Issue((), "invariant", "0")]


def test_a_rule_reads_a_float_subclass_as_the_float_it_holds() -> None:
    assert collect_issues(Ratio, {"part": Loud(2.0), "whole": 1.0, "note": "x"}) == [
        Issue(("note",), "type", "expected an int, got 'x'"),
        Issue(("part",), "invariant", "expected part <= whole"),
    ]


def test_a_dict_that_fits_no_member_of_an_object_or_map_union_is_one_union_issue() -> None:
    assert collect_issues(Point | dict[str, int], {"x": "a"}) == [
        Issue((), "union", "expected a Point object or a dict[str, int], got {'x': 'a'}")
    ]
    assert collect_issues(Point | dict[str, int], {"y": 1}) == []


def test_a_value_shared_inside_a_recursive_type_is_reported_where_it_is_first_reached() -> None:
    shared = {"kids": [], "name": 1}
    assert collect_issues(Tree, {"kids": [shared, shared], "name": "root"}) == [
        Issue(("kids", 0, "name"), "type", "expected a str, got 1")
    ]


def test_a_recursive_type_given_a_scalar_names_the_type() -> None:
    assert collect_issues(Tree, 5) == [Issue((), "type", "expected a Tree object, got 5")]
