"""Work bounded by the size of the value (issue #22): ambiguous unions in recursive types."""

import sys
from types import FrameType
from typing import Any, NotRequired, TypedDict

from sagellm_protocol import collect_issues, is_valid


class Left(TypedDict):
    child: NotRequired["Left | Right"]
    left: NotRequired[int]


class Right(TypedDict):
    child: NotRequired["Left | Right"]
    right: NotRequired[int]


def _nested(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    value = leaf
    for _ in range(depth):
        value = {"child": value}
    return value


def _calls(check: Any, value: object) -> int:
    """Python function calls made by ``check(Left, value)``: the work, without a clock."""
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        count += event == "call"

    sys.setprofile(profile)
    try:
        check(Left, value)
    finally:
        sys.setprofile(None)
    return count


INVALID_LEAF = {"left": "x", "right": "x"}
"""Invalid for both options: each level's union must try both."""


def test_an_ambiguous_recursive_union_costs_the_same_work_per_level() -> None:
    for check in (is_valid, collect_issues):
        check(Left, _nested(2, INVALID_LEAF))  # caches warm
        steps = [
            _calls(check, _nested(depth + 1, INVALID_LEAF))
            - _calls(check, _nested(depth, INVALID_LEAF))
            for depth in (6, 12, 18)
        ]
        assert steps[0] == steps[1] == steps[2], (check.__name__, steps)


def test_ambiguous_recursive_unions_keep_their_verdicts() -> None:
    assert is_valid(Left, _nested(30, {"left": 1}))
    assert is_valid(Left, _nested(30, {"right": 1}))
    assert not is_valid(Left, _nested(30, INVALID_LEAF))
    issues = collect_issues(Left, _nested(30, INVALID_LEAF))
    assert [(issue.path, issue.code) for issue in issues] == [(("child",), "union")]
